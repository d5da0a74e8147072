// Tokenization as a runner stage, so `megamath tokenize` runs on the same task loop as every per-document step and a
// recipe can fuse it after them (decontaminate → tokenize, refine → tokenize): documents in, each kept document's
// framed token ids out (a `tokens` column), and the stage's sink writes them as one shuffled Megatron token file per
// input file (<out>/<name>.bin/.idx + .ds sidecars + <name>.manifest.json; lib/formats/token-file.ts) and, once the
// shard is done, the folder's manifest.json (lib/formats/token-folder.ts).
// Accounting per file: docs in = tokenized + removed(empty_text) + failed(template reason), after the reader's own.
// The ids of a document do not depend on how documents are batched or on the worker count (batch-tokenizer.ts), and
// the shuffle is seeded by the seed and the file's output name, so the token files are the same bytes whether the
// step runs alone or fused, with any --workers.
import { dirname, join } from "node:path";
import { Binary, Field, makeData, RecordBatch, Schema, Struct, Utf8 } from "apache-arrow";
import type { Batch } from "../arrow/batch.js";
import { getStrings, utf8Data } from "../arrow/batch.js";
import { orderedMap } from "../runtime/pool.js";
import type { Stage, StepSink, SinkWriter } from "../runtime/stage.js";
import type { Logger } from "../runtime/log.js";
import { BatchTokenizer } from "./batch-tokenizer.js";
import type { FramedTokens } from "./frame.js";
import { renderBatch, DEFAULT_COLUMNS, type TemplateSpec } from "./templates.js";
import { TokenFileWriter, type TokenFileManifest, type TokenizerInfo } from "../formats/token-file.js";
import { writeFolderManifest } from "../formats/token-folder.js";
import type { TokenDtype } from "../formats/megatron.js";

export const TOKENIZE_STAGE = "tokenize";
/** The column the stage yields: each document's token ids, little-endian uint32, as one binary value. */
export const TOKENS_COLUMN = "tokens";
/** What a tokenize task writes next to its name (its temp names are these with ".tmp-" before them). */
export const TOKEN_SUFFIXES = [".bin", ".idx", ".manifest.json", ".ds", ".unshuffled"] as const;

export interface TokenizeStageOptions {
  tokenizer?: string;
  bosId?: number | null;
  eosId?: number | null;
  template?: TemplateSpec;
  dtype?: TokenDtype;
  /** Seed of the in-file document shuffle. */
  seed?: number;
  /** Worker threads (0: the calling thread). */
  workers?: number;
  dsSidecars?: boolean;
  /** Documents per tokenizer task (a larger incoming batch is cut). Does not change the output. */
  batchSize?: number;
}

export interface TokenizeStage extends Stage {
  readonly sink: StepSink;
  /** The tokenizer as token manifests record it. */
  readonly info: TokenizerInfo;
  /** The input column the reader must deliver as `text` for this template (its main string column). */
  readonly textKey: string;
  /** Manifests of the token files this stage's sink finished, in order. */
  readonly written: TokenFileManifest[];
  close(): Promise<void>;
}

/** The column readDocuments must treat as `text` for a template (its main string column). */
export function templateTextKey(t: TemplateSpec): string {
  const c = { ...DEFAULT_COLUMNS, ...(t.columns ?? {}) };
  switch (t.name) {
    case "web": return c.text;
    case "qa": return c.question;
    // cot from a conversation alone (AM-DeepSeek-R1-Distilled's layout): the messages column is the main one.
    case "cot": return t.columns?.messages && !t.columns.question ? c.messages : c.question;
    case "chat": return t.columns?.prompt ? c.prompt : c.messages;
  }
}

/** The template as it sees the reader's batches: the reader renamed the template's main column to "text", and an
 * input column already called "text" (when it is not the main one) to "text_original". */
function remapped(t: TemplateSpec, textKey: string): TemplateSpec {
  const c = { ...(t.columns ?? {}) };
  for (const k of Object.keys(DEFAULT_COLUMNS) as (keyof typeof DEFAULT_COLUMNS)[]) {
    const col = c[k] ?? DEFAULT_COLUMNS[k];
    if (col === textKey) c[k] = "text";
    else if (col === "text") c[k] = "text_original";
  }
  return { name: t.name, columns: c };
}

export function tokenizeStage(opts: TokenizeStageOptions = {}): TokenizeStage {
  const template = opts.template ?? { name: "web" };
  const textKey = templateTextKey(template);
  const tmpl = remapped(template, textKey);
  const batchSize = Math.max(1, opts.batchSize ?? 1000);
  const dtype = opts.dtype ?? "int32";
  const seed = opts.seed ?? 0;
  const bt = new BatchTokenizer(opts.tokenizer ?? "llama3", { workers: opts.workers, bosId: opts.bosId, eosId: opts.eosId });
  const t = bt.tokenizer;
  const info: TokenizerInfo = { name: t.name, hf_name: t.hfName, vocab_size: t.vocabSize, fingerprint: t.fingerprint, bos_id: bt.bosId, eos_id: bt.eosId };
  const ds = opts.dsSidecars ?? true;
  const written: TokenFileManifest[] = [];
  let closing: Promise<void> | undefined;

  const sink: StepSink = {
    suffixes: TOKEN_SUFFIXES,
    open: (outBase, source) => tokenFileSink(outBase, { tokenizer: info, dtype, seed, sources: [source], template, dsSidecars: ds }, written),
    async finish(outDir: string, log: Logger) {
      const folder = await writeFolderManifest(outDir);
      for (const l of folder?.left_out ?? []) log.warn(`tokenize: ${l.piece} left out of manifest.json: ${l.reason}`);
    },
  };

  return {
    name: TOKENIZE_STAGE,
    sink,
    info,
    textKey,
    written,
    identity: () => JSON.stringify({ tokenizer: info, dtype, seed, template, ds }),
    // Idempotent: a caller may close it after a run that failed before the runner closed its stages.
    close: () => (closing ??= bt.close()),
    async *run(input, ctx) {
      const stats = ctx.stats;
      // Render each slice of at most batchSize documents on this thread; tokenize slices in flight on the workers;
      // results come back in order.
      const prepared = (async function* () {
        for await (const batch of input) {
          for (let start = 0; start < batch.numRows; start += batchSize) {
            const b = start === 0 && batch.numRows <= batchSize ? batch : batch.slice(start, Math.min(batch.numRows, start + batchSize));
            const ids = getStrings(b, "id");
            const { texts, failures } = renderBatch(b, tmpl);
            for (const fl of failures) {
              const where = `${ctx.file} row id ${ids[fl.row]}`;
              if (ctx.onError === "fail") throw new Error(`${where}: ${fl.reason}: ${fl.message}`);
              stats.fail(fl.reason, 1, where, fl.message);
            }
            const keep: string[] = [];
            const keepIds: (string | null)[] = [];
            for (let i = 0; i < texts.length; i++) {
              const s = texts[i];
              if (s === null) continue;
              if (s.length === 0) {
                stats.remove("empty_text");
                continue;
              }
              keep.push(s);
              keepIds.push(ids[i]);
            }
            if (keep.length) yield { keep, keepIds };
          }
        }
      })();
      const inFlight = Math.max(2, bt.workers * 2);
      for await (const r of orderedMap(prepared, async (b) => ({ ids: b.keepIds, framed: await bt.tokenize(b.keep) }), inFlight)) {
        stats.count("tokens", r.framed.ids.length);
        yield tokenBatch(r.ids, r.framed);
      }
    },
  };
}

/** One batch of tokenized documents: `id` and `tokens` (each document's ids as little-endian uint32 bytes, no copy). */
export function tokenBatch(ids: readonly (string | null)[], f: FramedTokens): Batch {
  const n = ids.length;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + f.lengths[i] * 4;
  const bytes = new Uint8Array(f.ids.buffer, f.ids.byteOffset, f.ids.length * 4);
  const tokens = makeData({ type: new Binary(), length: n, nullCount: 0, valueOffsets: offsets, data: bytes });
  const fields = [new Field("id", new Utf8(), true), new Field(TOKENS_COLUMN, new Binary(), false)];
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children: [utf8Data(ids), tokens] });
  return new RecordBatch(new Schema(fields), struct);
}

/** Each document's token ids of a batch the stage yielded. */
export function* batchTokens(batch: Batch): Generator<Uint32Array> {
  const col = batch.getChild(TOKENS_COLUMN);
  if (!col) throw new Error(`a token sink needs a "${TOKENS_COLUMN}" column (the tokenize stage's output); present: ${batch.schema.fields.map((x) => x.name).join(", ")}`);
  for (const d of col.data) {
    const offs = d.valueOffsets as Int32Array; // already sliced to this Data: offs[0..length]
    const values = d.values as Uint8Array;
    for (let i = 0; i < d.length; i++) {
      const a = values.byteOffset + offs[i];
      const len = (offs[i + 1] - offs[i]) / 4;
      // A view when aligned (always, for the stage's own batches); a copy otherwise.
      yield a % 4 === 0 ? new Uint32Array(values.buffer, a, len) : new Uint32Array(values.slice(a - values.byteOffset, a - values.byteOffset + len * 4).buffer);
    }
  }
}

function tokenFileSink(outBase: string, o: Parameters<typeof TokenFileWriter.create>[1], written: TokenFileManifest[]): SinkWriter {
  // Created on first use (or at close, for a file with no document left): a token file with no documents is still
  // the file's output, as the step alone writes it.
  let w: Promise<TokenFileWriter> | null = null;
  const writer = () => (w ??= TokenFileWriter.create(outBase, o));
  return {
    async write(batch) {
      const tw = await writer();
      const ids = getStrings(batch, "id");
      let i = 0;
      for (const doc of batchTokens(batch)) await tw.add(doc, `${o.sources?.[0]} document ${ids[i++]}`);
    },
    async close() {
      const m = await (await writer()).finish();
      written.push(m);
      return [...m.files, `${m.prefix}.manifest.json`].map((f) => join(dirname(outBase), f));
    },
    async abort() {
      if (w) await (await w).abort();
    },
  };
}
