// Turn decoded columns of any reader into document batches: `text` and `id` first (renamed from textKey/idKey;
// id defaults to "<file basename>/<row>", see idPrefix), then every other column in file order, cut into batches
// bounded by rows and by text bytes. Bad rows/columns go through `reportBad`: thrown under onError "fail", counted
// under "skip".
import { basename, resolve, relative, sep } from "node:path";
import type { RecordBatch, Data, DataType } from "apache-arrow";
import type { StageStats } from "../runtime/stats.js";
import type { OnError } from "../runtime/stage.js";
import { InputError } from "./errors.js";
import { commonFolder } from "./glob.js";
import {
  buildColumn, batchFromColumns, boundedRanges, utf8FromValues, utf8FromBytes, valueAsString, type ColumnKind, type Values,
} from "./columns.js";
import { nestedData } from "./nested.js";
import { logicalData } from "./logical-types.js";

export interface ReadOptions {
  /** Input column holding the document text (renamed to `text`). Default "text". */
  textKey?: string;
  /** Input column holding the document id (renamed to `id`). Default "id"; absent ⇒ "<basename>/<row>". */
  idKey?: string;
  /** Read only these columns (plus the text and id columns). Default: all. */
  columns?: string[];
  /** Most rows per yielded batch. Default 4096. */
  batchSize?: number;
  /** Most text bytes per yielded batch (a single larger document gets a batch of its own). Default 32 MiB. */
  batchBytes?: number;
  /** Largest JSONL line in bytes; a longer one is bad input (reason "line_too_long"), dropped as it streams in so
   * memory stays bounded. Parquet pages may decompress to at most max(256 MiB, 4 × this). Default
   * DEFAULT_MAX_DOC_BYTES (64 MiB). */
  maxDocBytes?: number;
  /** Bad input: throw an InputError naming file and row ("fail", default) or count it and go on ("skip"). */
  onError?: OnError;
  /** Where skipped rows are counted (stats.fail(reason, n, where, message)). */
  stats?: StageStats;
  /** Every input file of the run, in the run's sorted order (the same list on every shard). Default ids use it to
   * stay unique when two inputs share a file name (see idPrefix); without it ids start with the basename. */
  inputs?: readonly string[];
}

export const DEFAULT_BATCH_ROWS = 4096;
export const DEFAULT_BATCH_BYTES = 32 * 1024 * 1024;
/** Default largest document: 64 MiB, far above real web pages (MegaMath's longest are a few MB) and small enough
 * that a batch of them fits in memory. Commands expose it as --max-doc-mb. */
export const DEFAULT_MAX_DOC_BYTES = 64 * 1024 * 1024;

/** Throw `err` under onError "fail"; under "skip" count `rows` failed documents and return. */
export function reportBad(opts: ReadOptions, err: InputError, rows: number): void {
  if ((opts.onError ?? "fail") === "fail") throw err;
  opts.stats?.fail(err.reason, rows, err.where, err.message);
}

export interface DecodedColumn {
  name: string;
  kind: ColumnKind;
  values: Values;
  /** Set for a nested column (assembled JS arrays/objects): the Arrow List/Struct type it is built as. */
  arrowType?: DataType;
  /** Set for a flat column of raw stored integers with a Parquet logical type (logical-types.ts): its Arrow type. */
  logicalType?: DataType;
}

const prefixCache = new WeakMap<readonly string[], Map<string, string>>();

/** Default id prefixes of a run's inputs, by resolved path: the file's basename, or, for files whose basename
 * another input shares (`a/part-0.parquet`, `b/part-0.parquet`), its path relative to the inputs' common folder
 * with "/" separators. Decided from the whole list, so every shard gives a file the same prefix; with distinct
 * basenames the ids are the historical "<basename>/<row>". A relative path always holds a "/", a basename never,
 * so the two kinds of prefix cannot produce the same id. */
export function idPrefixes(inputs: readonly string[]): Map<string, string> {
  const abs = inputs.map((f) => resolve(f));
  const count = new Map<string, number>();
  for (const a of new Set(abs)) count.set(basename(a), (count.get(basename(a)) ?? 0) + 1);
  const root = commonFolder(abs);
  const out = new Map<string, string>();
  for (const a of abs) out.set(a, count.get(basename(a))! > 1 ? relative(root, a).split(sep).join("/") : basename(a));
  return out;
}

/** The prefix of default ids ("<prefix>/<row>") for `file` read as one of `opts.inputs`. */
export function idPrefix(file: string, opts: Pick<ReadOptions, "inputs"> = {}): string {
  if (!opts.inputs) return basename(file);
  let m = prefixCache.get(opts.inputs);
  if (!m) prefixCache.set(opts.inputs, (m = idPrefixes(opts.inputs)));
  return m.get(resolve(file)) ?? basename(file);
}

const TEXT_KINDS = new Set<ColumnKind>(["utf8", "utf8-bytes", "binary"]);

/** Batches of documents for rows [0, n) of decoded columns whose first row is file row `firstRow`. */
export function* documentBatches(file: string, cols: DecodedColumn[], n: number, firstRow: number, opts: ReadOptions):
  Generator<RecordBatch> {
  if (n === 0) return;
  const textKey = opts.textKey ?? "text";
  const idKey = opts.idKey ?? "id";
  const where = `${file}#${firstRow}`;
  const text = cols.find((c) => c.name === textKey);
  if (!text) {
    const have = cols.map((c) => c.name).join(", ") || "none";
    reportBad(opts, new InputError(file, where, "missing_text_column",
      `no text column "${textKey}" (columns: ${have}); pick one with --text-key`), n);
    return;
  }
  // A nested main column (a chat `messages` list, say) is the document's text as one JSON text per row.
  // (Rendered once here, so batch byte bounds see the real text length.)
  const textColKind: ColumnKind = text.arrowType ? "utf8" : text.kind;
  if (!TEXT_KINDS.has(textColKind)) {
    reportBad(opts, new InputError(file, where, "text_not_string",
      `text column "${textKey}" holds ${text.kind} values, expected strings`), n);
    return;
  }
  const textKind: ColumnKind = textColKind === "binary" ? "utf8-bytes" : textColKind;
  const id = cols.find((c) => c.name === idKey);
  const rest = cols.filter((c) => c !== text && c !== id);
  const base = idPrefix(file, opts);
  const maxRows = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_ROWS);
  const maxBytes = Math.max(1, opts.batchBytes ?? DEFAULT_BATCH_BYTES);
  const tv = text.arrowType ? Array.from(text.values, (v) => (v == null ? null : valueAsString(v))) : text.values;
  const rowBytes = textKind === "utf8-bytes"
    ? (i: number) => (tv[i] as Uint8Array | null)?.length ?? 0
    : (i: number) => ((tv[i] as string | null)?.length ?? 0);
  for (const [a, b] of boundedRanges(n, maxRows, maxBytes, rowBytes)) {
    const out: { name: string; data: Data }[] = [
      { name: "text", data: buildColumn(textKind, tv, a, b) },
      { name: "id", data: idColumn(id, base, firstRow, a, b) },
    ];
    for (const c of rest) {
      // A pass-through column named like the canonical ones keeps its data under a suffixed name.
      const name = c.name === "text" || c.name === "id" ? `${c.name}_original` : c.name;
      out.push({
        name,
        data: c.arrowType ? nestedData(c.arrowType, c.values, a, b)
          : c.logicalType ? logicalData(c.logicalType, c.values, a, b) : buildColumn(c.kind, c.values, a, b),
      });
    }
    yield batchFromColumns(out, b - a);
  }
}

function idColumn(id: DecodedColumn | undefined, base: string, firstRow: number, a: number, b: number): Data {
  if (!id) {
    const ids = new Array<string>(b - a);
    for (let i = a; i < b; i++) ids[i - a] = `${base}/${firstRow + i}`;
    return utf8FromValues(ids, 0, ids.length);
  }
  const vals = id.values;
  let missing = false;
  for (let i = a; i < b && !missing; i++) missing = vals[i] == null;
  if (id.kind === "utf8-bytes" && !missing) return utf8FromBytes(vals, a, b);
  // Mixed or non-string ids: render each as text, filling gaps with the positional default.
  const ids = new Array<string>(b - a);
  const dec = new TextDecoder();
  for (let i = a; i < b; i++) {
    const v = vals[i];
    ids[i - a] = v == null ? `${base}/${firstRow + i}` : v instanceof Uint8Array ? dec.decode(v)
      : typeof v === "string" ? v : typeof v === "number" || typeof v === "bigint" ? String(v) : JSON.stringify(v);
  }
  return utf8FromValues(ids, 0, ids.length);
}
