// Streaming JSONL reader (.jsonl, .jsonl.gz, .jsonl.zst): splits lines at the byte level (a 50 MB line is just
// a long line), validates UTF-8 and JSON per line, and yields batches bounded by rows and text bytes.
// Column types: strings → Utf8, numbers → Float64 (JSON has no integer type; ids above 2^53 lose precision —
// keep such ids as strings), booleans → Bool, objects/arrays and mixed-type columns → Utf8 holding JSON text.
// A column's type is fixed by the first batch it appears in; if a later batch holds values the type cannot take
// (a string in a number column) the column becomes JSON text from then on, so nothing is lost (the Parquet writer
// starts a new part file when the schema changes).
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import type { Readable } from "node:stream";
import type { RecordBatch } from "apache-arrow";
import { detectFormat } from "./format.js";
import { zstdDecompressChunks } from "./zstd.js";
import { closeReadStream } from "./close-stream.js";
import {
  documentBatches, reportBad, idPrefix, DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, DEFAULT_MAX_DOC_BYTES, type DecodedColumn, type ReadOptions,
} from "./documents.js";
import { InputError, DecompressError, errorMessage } from "./errors.js";
import type { ColumnKind } from "./columns.js";

const NL = 0x0a;

/** A line of a JSONL file: its bytes (without the newline), or `tooLong` (and no bytes) for a line longer than
 * the limit, whose bytes were dropped as they came, so memory stays bounded whatever the file holds. */
export type Line = { line: number; bytes: Uint8Array; tooLong?: false } | { line: number; bytes: null; tooLong: true };

/** Raw lines of a possibly compressed file, with 1-based line numbers. A line over `maxLineBytes` (default
 * DEFAULT_MAX_DOC_BYTES) comes back as `tooLong`. A decompression failure throws a DecompressError. */
export async function* readLines(path: string, maxLineBytes = DEFAULT_MAX_DOC_BYTES): AsyncGenerator<Line> {
  const { compression } = detectFormat(path);
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  let raw: AsyncIterable<Buffer> = src;
  if (compression === "gzip") {
    raw = src.pipe(createGunzip());
    // pipe() does not forward the source's errors (a vanished or unreadable file): do it by hand.
    src.on("error", (e) => (raw as Readable).destroy(e));
  } else if (compression === "zstd") {
    raw = zstdDecompressChunks(src);
  }
  try {
    yield* splitLines(compression === "none" ? raw : decompressing(raw, path, compression), maxLineBytes);
  } finally {
    await closeReadStream(src); // pipe() leaves it open when the decompressor fails or the caller stops early
  }
}

async function* decompressing(raw: AsyncIterable<Buffer>, path: string, compression: string): AsyncGenerator<Buffer> {
  try {
    yield* raw;
  } catch (e) {
    // File-system errors carry a syscall; anything else came from the decoder.
    if ((e as NodeJS.ErrnoException).syscall) throw e;
    throw new DecompressError(`${compression} decompression of ${path} failed: ${errorMessage(e)}`);
  }
}

async function* splitLines(raw: AsyncIterable<Buffer>, maxLine: number): AsyncGenerator<Line> {
  let line = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  // Inside a line already reported too long: its bytes are discarded up to its newline. It is reported as soon as
  // it passes the limit, so a caller that stops there does not wait for (or decompress) the rest of it.
  let dropping = false;
  for await (const chunk of raw) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, from);
      if (nl < 0) break;
      if (dropping) {
        dropping = false;
      } else if (pendingLen + (nl - from) > maxLine) {
        pending = [];
        pendingLen = 0;
        yield { line: ++line, bytes: null, tooLong: true };
      } else {
        let bytes: Uint8Array = chunk.subarray(from, nl);
        if (pendingLen) {
          pending.push(chunk.subarray(from, nl));
          bytes = Buffer.concat(pending, pendingLen + (nl - from));
          pending = [];
          pendingLen = 0;
        }
        yield { line: ++line, bytes };
      }
      from = nl + 1;
    }
    if (from < chunk.length && !dropping) {
      if (pendingLen + (chunk.length - from) > maxLine) {
        dropping = true;
        pending = [];
        pendingLen = 0;
        yield { line: ++line, bytes: null, tooLong: true };
      } else {
        pending.push(chunk.subarray(from));
        pendingLen += chunk.length - from;
      }
    }
  }
  if (pendingLen) yield { line: line + 1, bytes: Buffer.concat(pending, pendingLen) };
}

const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(2);

function kindOf(v: unknown): ColumnKind | null {
  if (v == null) return null;
  if (typeof v === "string") return "utf8";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  return "as-string";
}

/** Merge a column's established kind with a newly seen value's kind. */
function mergeKind(a: ColumnKind | null, b: ColumnKind | null): ColumnKind | null {
  if (a == null) return b;
  if (b == null || a === b) return a;
  return "as-string";
}

export async function* readJsonl(path: string, opts: ReadOptions = {}): AsyncGenerator<RecordBatch> {
  const textKey = opts.textKey ?? "text";
  const idKey = opts.idKey ?? "id";
  const base = idPrefix(path, opts);
  const maxRows = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_ROWS);
  const maxBytes = Math.max(1, opts.batchBytes ?? DEFAULT_BATCH_BYTES);
  const wanted = opts.columns ? new Set([...opts.columns, textKey, idKey]) : null;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  // Column order and sticky kinds for the whole file, so consecutive batches share a schema where possible.
  const kinds = new Map<string, ColumnKind | null>();
  let rows: Record<string, unknown>[] = [];
  let firstRow = 0; // file row (0-based count of documents read) of rows[0]
  let docIndex = 0;
  let textBytes = 0;

  const flush = function* (): Generator<RecordBatch> {
    if (!rows.length) return;
    const n = rows.length;
    const cols: DecodedColumn[] = [];
    for (const name of kinds.keys()) {
      const values = new Array<unknown>(n);
      let k = kinds.get(name) ?? null;
      for (let i = 0; i < n; i++) {
        const v = rows[i][name];
        values[i] = v;
        k = mergeKind(k, kindOf(v));
      }
      kinds.set(name, k);
      cols.push({ name, kind: k ?? "utf8", values });
    }
    // The block may overshoot maxBytes by its last document; documentBatches cuts it to the bounds.
    yield* documentBatches(path, cols, n, firstRow, opts);
    rows = [];
    textBytes = 0;
    firstRow = docIndex;
  };

  const maxLine = opts.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
  let lastLine = 0;
  try {
    for await (const { line, bytes } of readLines(path, maxLine)) {
      lastLine = line;
      const where = `${path}:${line}`;
      if (bytes === null) {
        reportBad(opts, new InputError(path, where, "line_too_long",
          `line ${line} of ${path} is too long (> ${mib(maxLine)} MiB; the readers' maxDocBytes; raise it with --max-doc-mb)`), 1);
        continue;
      }
      let s: string;
      try {
        s = decoder.decode(bytes);
      } catch {
        reportBad(opts, new InputError(path, where, "invalid_utf8", "line is not valid UTF-8"), 1);
        continue;
      }
      if (line === 1 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      if (s.trim() === "") continue; // blank lines are not documents
      let obj: unknown;
      try {
        obj = JSON.parse(s);
      } catch (e) {
        reportBad(opts, new InputError(path, where, "invalid_json", `invalid JSON: ${errorMessage(e)}`), 1);
        continue;
      }
      if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
        reportBad(opts, new InputError(path, where, "not_an_object", "line is not a JSON object"), 1);
        continue;
      }
      const rec = obj as Record<string, unknown>;
      const text = rec[textKey];
      if (text == null) {
        const keys = Object.keys(rec).slice(0, 10).join(", ");
        // A present field holding null is not a missing field: say which, so nobody hunts for a typo in --text-key.
        reportBad(opts, new InputError(path, where, "missing_text", text === null
          ? `"${textKey}" is null (a document needs a text string)`
          : `no "${textKey}" field (fields: ${keys || "none"}); pick one with --text-key`), 1);
        continue;
      }
      if (typeof text !== "string") {
        reportBad(opts, new InputError(path, where, "text_not_string",
          `"${textKey}" is a ${Array.isArray(text) ? "array" : typeof text}, expected a string`), 1);
        continue;
      }
      // The default id is the 0-based line number, so ids do not shift when bad lines are skipped.
      if (rec[idKey] == null) rec[idKey] = `${base}/${line - 1}`;
      for (const key of Object.keys(rec)) {
        if (wanted && !wanted.has(key)) continue;
        if (!kinds.has(key)) kinds.set(key, null);
      }
      rows.push(rec);
      docIndex++;
      textBytes += text.length;
      if (rows.length >= maxRows || textBytes >= maxBytes) yield* flush();
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    // Decompression or I/O failure part-way: the rest of the file cannot be read.
    const why = e instanceof DecompressError ? `${errorMessage(e)} after line ${lastLine}` : `cannot read past line ${lastLine}: ${errorMessage(e)}`;
    reportBad(opts, new InputError(path, `${path}:${lastLine + 1}`, "corrupt_file", why), 1);
  }
  yield* flush();
}
