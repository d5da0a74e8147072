// `megamath tokenize` as a library call: every input file becomes one shuffled token shard
// (<out>/<stem>.bin/.idx + .ds sidecars + <stem>.manifest.json, the trainer-facing record). Done-ness comes from the
// task loop (lib/runtime/task-loop.ts): a shard is skipped when its marker holds the fingerprint of this input and
// these settings; otherwise it is redone, after the loop removed the temp files a killed attempt left.
// Accounting per file: docs in = written + removed(empty_text) + failed(reason).
import { basename, join } from "node:path";
import type { Batch } from "../arrow/batch.js";
import { StageStats } from "../runtime/stats.js";
import type { Logger } from "../runtime/log.js";
import type { OnError } from "../runtime/stage.js";
import { orderedMap } from "../runtime/pool.js";
import { BatchTokenizer } from "./batch-tokenizer.js";
import { renderBatch, type TemplateSpec, DEFAULT_COLUMNS } from "./templates.js";
import { getStrings } from "../arrow/batch.js";
import { TokenFileWriter, type TokenFileManifest, type TokenizerInfo } from "../formats/token-file.js";
import { fingerprintFile, taskFingerprint } from "../runtime/fingerprint.js";
import { runTaskLoop } from "../runtime/task-loop.js";
import { checkExpectation, type Expect } from "../runtime/expect.js";
import type { TokenDtype } from "../formats/megatron.js";
import { writeFolderManifest } from "../formats/token-folder.js";

export type ReadFn = (file: string, opts: { textKey: string; onError: OnError; stats: StageStats; batchSize?: number }) => AsyncIterable<Batch>;

export interface TokenizeFilesOptions {
  inputs: string[];
  outDir: string;
  tokenizer?: string;
  bosId?: number | null;
  eosId?: number | null;
  template?: TemplateSpec;
  dtype?: TokenDtype;
  seed?: number;
  workers?: number;
  onError?: OnError;
  shard?: { index: number; count: number };
  force?: boolean;
  dsSidecars?: boolean;
  batchSize?: number;
  log?: Logger;
  /** Document reader; default: lib/io readDocuments. */
  read?: ReadFn;
  /** Bounds on what this shard keeps (default: non-empty input must not give empty output). */
  expect?: Expect;
}

/** What a tokenize task writes next to its prefix (its temp names are these with ".tmp-" before them). */
const TOKEN_SUFFIXES = [".bin", ".idx", ".manifest.json", ".ds", ".unshuffled"] as const;

export interface TokenizeFilesResult {
  shards: TokenFileManifest[];
  skipped: string[];
  stats: StageStats;
}

/** File name without folder and data extensions: "a/b/web.jsonl.gz" -> "web". */
export function fileStem(path: string): string {
  return basename(path).replace(/\.(gz|zst|zstd)$/i, "").replace(/\.(jsonl|json|parquet|arrow|ipc|feather|txt)$/i, "");
}

/** Output prefixes for inputs; duplicate stems get "-<k>" in input order, so names are stable. */
export function shardPrefixes(inputs: string[], outDir: string): string[] {
  const seen = new Map<string, number>();
  return inputs.map((f) => {
    const stem = fileStem(f);
    const k = seen.get(stem) ?? 0;
    seen.set(stem, k + 1);
    return join(outDir, k === 0 ? stem : `${stem}-${k}`);
  });
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

function remapped(t: TemplateSpec, textKey: string): TemplateSpec {
  // The reader renamed the template's main column to "text", and an input column already called "text" (when it is
  // not the main one) to "text_original"; point the template at both.
  const c = { ...(t.columns ?? {}) };
  for (const k of Object.keys(DEFAULT_COLUMNS) as (keyof typeof DEFAULT_COLUMNS)[]) {
    const col = c[k] ?? DEFAULT_COLUMNS[k];
    if (col === textKey) c[k] = "text";
    else if (col === "text") c[k] = "text_original";
  }
  return { name: t.name, columns: c };
}

async function defaultRead(): Promise<ReadFn> {
  const io = await import("../io/index.js");
  return (file, opts) => io.readDocuments(file, opts);
}

export async function tokenizeFiles(opts: TokenizeFilesOptions): Promise<TokenizeFilesResult> {
  const template = opts.template ?? { name: "web" };
  const seed = opts.seed ?? 0;
  const onError = opts.onError ?? "fail";
  const shard = opts.shard ?? { index: 0, count: 1 };
  const stats = new StageStats("tokenize");
  const read = opts.read ?? (await defaultRead());
  const prefixes = shardPrefixes(opts.inputs, opts.outDir);
  const bt = new BatchTokenizer(opts.tokenizer ?? "llama3", { workers: opts.workers, bosId: opts.bosId, eosId: opts.eosId });
  const t = bt.tokenizer;
  const info: TokenizerInfo = {
    name: t.name, hf_name: t.hfName, vocab_size: t.vocabSize, fingerprint: t.fingerprint, bos_id: bt.bosId, eos_id: bt.eosId,
  };
  const dtype = opts.dtype ?? "int32";
  const shards: TokenFileManifest[] = [];
  const skipped: string[] = [];
  const textKey = templateTextKey(template);
  const tmpl = remapped(template, textKey);
  const settings = { tokenizer: info, dtype, seed, template, ds: opts.dsSidecars ?? true };
  const tasks = [];
  for (let f = shard.index; f < opts.inputs.length; f += shard.count) {
    const file = opts.inputs[f];
    tasks.push({ key: basename(prefixes[f]), input: file, prefix: prefixes[f],
      fingerprint: taskFingerprint({ step: "tokenize", settings, reads: [await fingerprintFile(file)] }) });
  }
  try {
    await runTaskLoop({
      step: "tokenize", outDir: opts.outDir, tasks, force: opts.force, log: opts.log, tempSuffixes: TOKEN_SUFFIXES,
      onSkip: (t, m) => {
        skipped.push(t.input);
        stats.merge(m.stats.stages[0]);
        opts.log?.info(`tokenize: ${t.key} already done, skipping (use --force to redo)`);
      },
      run: async ({ input: file, prefix }) => {
        const writer = await TokenFileWriter.create(prefix, {
          tokenizer: info, dtype, seed, sources: [file], template, dsSidecars: opts.dsSidecars,
        });
        try {
          const fileStats = new StageStats("tokenize");
          const t0 = performance.now();
          await tokenizeOneFile(file, read, bt, tmpl, textKey, writer, fileStats, onError, opts.batchSize);
          const m = await writer.finish();
          fileStats.timeMs = performance.now() - t0;
          const problem = fileStats.check();
          if (problem) throw new Error(`${file}: ${problem}`);
          stats.merge(fileStats);
          shards.push(m);
          opts.log?.info(`tokenize: ${basename(prefix)}: ${m.documents} documents, ${m.tokens} tokens`);
          const outputs = [...m.files, `${m.prefix}.manifest.json`];
          return { outputs, stats: { files: 1, stages: [fileStats.toJSON()] }, extra: { tokens: m.tokens } };
        } catch (e) {
          await writer.abort();
          throw e;
        }
      },
    });
  } finally {
    await bt.close();
  }
  checkExpectation("tokenize", stats.docsIn, stats.docsOut, opts.expect, shard.count > 1 ? `shard ${shard.index}/${shard.count}` : "");
  const folder = await writeFolderManifest(opts.outDir);
  for (const l of folder?.left_out ?? []) opts.log?.warn(`tokenize: ${l.piece} left out of manifest.json: ${l.reason}`);
  return { shards, skipped, stats };
}

async function tokenizeOneFile(file: string, read: ReadFn, bt: BatchTokenizer, tmpl: TemplateSpec, textKey: string,
  writer: TokenFileWriter, stats: StageStats, onError: OnError, batchSize?: number): Promise<void> {
  let yielded = 0;
  let templateFailed = 0;
  const batches = read(file, { textKey, onError, stats, batchSize });
  const prepared = (async function* () {
    for await (const batch of batches) {
      yielded += batch.numRows;
      const ids = getStrings(batch, "id");
      const { texts, failures } = renderBatch(batch, tmpl);
      for (const fl of failures) {
        const where = `${file} row id ${ids[fl.row]}`;
        if (onError === "fail") throw new Error(`${where}: ${fl.reason}: ${fl.message}`);
        stats.fail(fl.reason, 1, where, fl.message);
        templateFailed++;
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
        stats.bytesIn += s.length;
      }
      yield { keep, keepIds };
    }
  })();
  const inFlight = Math.max(2, bt.workers * 2);
  for await (const r of orderedMap(prepared, async (b) => ({ ...b, framed: await bt.tokenize(b.keep) }), inFlight)) {
    let off = 0;
    for (let i = 0; i < r.keep.length; i++) {
      const len = r.framed.lengths[i];
      await writer.add(r.framed.ids.subarray(off, off + len), `${file} document ${r.keepIds[i]}`);
      off += len;
    }
    stats.docsOut += r.keep.length;
    stats.count("tokens", off);
  }
  // Rows the reader rejected were input documents too (counted as failed by the reader).
  stats.docsIn = yielded + (stats.failedTotal - templateFailed);
}
