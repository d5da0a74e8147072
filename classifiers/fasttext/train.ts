// Supervised training inside Node, no external binary: fastText's algorithm (dictionary from the file, input
// matrix uniform in [-1/dim, 1/dim], zero output matrix, linear lr decay driven by a shared token counter) run as
// lock-free Hogwild SGD by worker threads that share the weights through SharedArrayBuffers.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { statSync } from "node:fs";
import { workerFile } from "../../lib/runtime/pool.js";
import { workerBootstrap } from "./worker-boot.js";
import { supervisedDefaults, type FastTextArgs, type LossName } from "./args.js";
import { buildDictionary } from "./dictionary-builder.js";
import { FastTextModel } from "./model.js";
import type { SharedModelHandle } from "./model-file.js";
import { negativeTable } from "./sgd.js";
import { sharedFloat32 } from "./shared.js";
import { allocDense } from "./matrix.js";
import type { Segment, TrainWorkerData } from "./train-worker.js";

export interface TrainOptions {
  dim?: number;
  lr?: number;
  epoch?: number;
  wordNgrams?: number;
  minCount?: number;
  minCountLabel?: number;
  bucket?: number;
  minn?: number;
  maxn?: number;
  loss?: LossName;
  neg?: number;
  /** worker threads (default: available cores). Only thread = 1 is reproducible: Hogwild updates race. */
  thread?: number;
  lrUpdateRate?: number;
  t?: number;
  label?: string;
  seed?: number;
  /** Memory for input ids tokenized once and reused every epoch (default 1 GiB in all); a larger corpus streams
   * and re-tokenizes each pass, as fastText does. 0 disables the cache. */
  cacheBytes?: number;
  /** false: train with the JS loops instead of the WASM SIMD kernels (same bits; tests compare the two) */
  simd?: boolean;
  onProgress?: (p: { progress: number; wordsPerSecPerThread: number; loss: number }) => void;
}

function positiveInt(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`fastText train: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

function resolveArgs(o: TrainOptions): { args: FastTextArgs; lr: number; threads: number; seed: number; minCountLabel: number } {
  const a = supervisedDefaults();
  a.dim = positiveInt("dim", o.dim ?? 100);
  a.epoch = positiveInt("epoch", o.epoch ?? 5);
  a.wordNgrams = positiveInt("wordNgrams", o.wordNgrams ?? 1);
  a.minCount = positiveInt("minCount", o.minCount ?? 1, 0);
  a.bucket = positiveInt("bucket", o.bucket ?? 2_000_000, 0);
  a.minn = positiveInt("minn", o.minn ?? 0, 0);
  a.maxn = positiveInt("maxn", o.maxn ?? 0, 0);
  a.neg = positiveInt("neg", o.neg ?? 5);
  a.lrUpdateRate = positiveInt("lrUpdateRate", o.lrUpdateRate ?? 100);
  a.t = o.t ?? 1e-4;
  a.label = o.label ?? "__label__";
  a.loss = o.loss ?? "softmax";
  if (!["softmax", "hs", "ns", "ova"].includes(a.loss)) throw new RangeError(`fastText train: unknown loss ${a.loss}`);
  if (a.wordNgrams <= 1 && a.maxn === 0) a.bucket = 0; // as fastText: no n-grams, no bucket rows
  if (a.maxn > 0 && a.minn > a.maxn) throw new RangeError("fastText train: minn must be <= maxn");
  const lr = o.lr ?? 0.1;
  if (!(lr > 0)) throw new RangeError(`fastText train: lr must be > 0, got ${lr}`);
  return {
    args: a,
    lr,
    threads: positiveInt("thread", o.thread ?? availableParallelism()),
    seed: o.seed ?? 0,
    minCountLabel: positiveInt("minCountLabel", o.minCountLabel ?? 0, 0),
  };
}

/** Run `threads` workers through one phase ("init" or "train"). */
function runPhase(workers: Worker[], phase: string, segments?: Segment[] | null): Promise<(Segment | null)[]> {
  return Promise.all(
    workers.map(
      (w) =>
        new Promise<Segment | null>((resolve, reject) => {
          const onMsg = (m: { done?: string; error?: string; segment?: Segment | null }) => {
            w.off("message", onMsg);
            w.off("error", onErr);
            if (m.error) reject(new Error(`fastText training thread failed: ${m.error}`));
            else resolve(m.segment ?? null);
          };
          const onErr = (e: Error) => {
            w.off("message", onMsg);
            reject(e);
          };
          w.on("message", onMsg);
          w.on("error", onErr);
          w.postMessage({ phase, segments });
        }),
    ),
  );
}

/** Train a supervised model on a fastText-format file ("__label__X text" per line). */
export async function trainSupervised(inputFile: string, opts: TrainOptions = {}): Promise<FastTextModel> {
  const { args, lr, threads, seed, minCountLabel } = resolveArgs(opts);
  let size: number;
  try {
    size = statSync(inputFile).size;
  } catch (e) {
    throw new Error(`fastText train: ${inputFile} cannot be opened for training: ${(e as Error).message}`);
  }
  if (size === 0) throw new Error(`fastText train: ${inputFile} is empty`);
  const dict = buildDictionary(inputFile, { minCount: args.minCount, minCountLabel, label: args.label });
  if (dict.nwords === 0) throw new Error(`fastText train: empty vocabulary in ${inputFile}; try a smaller minCount`);
  if (dict.nlabels === 0) throw new Error(`fastText train: no labels in ${inputFile} (lines must contain ${args.label}NAME tokens)`);
  const dim = args.dim;
  const inputRows = dict.nwords + args.bucket;
  const input = allocDense(inputRows, dim);
  const wi = input.data;
  const wo = sharedFloat32(dict.nlabels * dim);
  const labelCounts = Array.from(dict.counts.subarray(dict.nwords, dict.size));
  const tokenCount = new BigInt64Array(new SharedArrayBuffer(8));
  const stats = new Float64Array(new SharedArrayBuffer(threads * 16));
  const base: Omit<TrainWorkerData, "threadId"> = {
    threads,
    input: inputFile,
    dict,
    params: args,
    dim,
    loss: args.loss,
    lr,
    epoch: args.epoch,
    neg: args.neg,
    lrUpdateRate: args.lrUpdateRate,
    seed,
    wi,
    wo,
    wasm: input.wasm,
    simd: opts.simd ?? true,
    negatives: args.loss === "ns" ? negativeTable(labelCounts) : null,
    tokenCount,
    stats,
    cacheBudget: Math.floor((opts.cacheBytes ?? 1 << 30) / 4 / threads),
  };
  const url = workerFile(import.meta.url, "./train-worker.js");
  const boot = workerBootstrap(url);
  const workers = Array.from({ length: threads }, (_, threadId) => new Worker(boot, { eval: true, workerData: { ...base, threadId } }));
  const started = Date.now();
  const total = args.epoch * dict.ntokens;
  const report = () => {
    if (!opts.onProgress) return;
    const done = Number(Atomics.load(tokenCount, 0));
    let loss = 0;
    let n = 0;
    for (let i = 0; i < threads; i++) {
      loss += stats[i * 2]!;
      n += stats[i * 2 + 1]!;
    }
    const secs = Math.max(1e-3, (Date.now() - started) / 1000);
    opts.onProgress({ progress: Math.min(1, done / total), wordsPerSecPerThread: done / secs / threads, loss: n > 0 ? loss / n : 0 });
  };
  const timer = opts.onProgress ? setInterval(report, 250) : null;
  try {
    await runPhase(workers, "init");
    const segs = await runPhase(workers, "tokenize");
    const cached = segs.every((s) => s !== null) ? (segs as Segment[]) : null;
    await runPhase(workers, "train", cached);
  } finally {
    if (timer) clearInterval(timer);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  report();
  const handle: SharedModelHandle = { args, dict, quantInput: false, input, output: { kind: "dense", rows: dict.nlabels, cols: dim, data: wo } };
  return FastTextModel.fromShared(handle);
}
