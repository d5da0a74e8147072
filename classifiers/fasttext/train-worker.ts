// One Hogwild training thread (FastText::trainThread for supervised models). Phase "init" fills this thread's
// share of the input matrix; phase "tokenize" turns this thread's slice of the file into cached input ids (so later
// epochs skip tokenization; skipped when the cache would pass its memory budget); phase "train" runs SGD from this
// thread's start offset over the cached lines — or, without a cache, streams the file like fastText does — and
// advances the shared token counter that drives the learning-rate decay.
import { parentPort, workerData } from "node:worker_threads";
import { openSync, closeSync, fstatSync } from "node:fs";
import { Dictionary, type DictionaryData, type DictionaryParams } from "./dictionary.js";
import { IntBuffer } from "./int-buffer.js";
import { LineCursor } from "./line-cursor.js";
import { buildHsTree } from "./output.js";
import { Rng, SgdStep } from "./sgd.js";
import { TrainKernel } from "./simd-train.js";
import type { WasmLayout } from "./simd-rows.js";
import type { LossName } from "./args.js";

export interface TrainWorkerData {
  threadId: number;
  threads: number;
  input: string;
  dict: DictionaryData;
  params: DictionaryParams;
  dim: number;
  loss: LossName;
  lr: number;
  epoch: number;
  neg: number;
  lrUpdateRate: number;
  seed: number;
  wi: Float32Array;
  wo: Float32Array;
  /** set when wi lives in the SIMD kernels' shared WebAssembly.Memory */
  wasm?: WasmLayout;
  /** false: run the JS loops even when the kernels are available (tests compare the two) */
  simd: boolean;
  negatives: Int32Array | null;
  /** [0] global token count (fastText's tokenCount_) */
  tokenCount: BigInt64Array;
  /** per thread: [lossSum, examples] */
  stats: Float64Array;
  /** most int32s one thread's token cache may hold */
  cacheBudget: number;
}

/** A cached slice: per line [nIds, nLabels, ntokens, ids..., labels...]. */
export type Segment = Int32Array;

const d = workerData as TrainWorkerData;
const dict = new Dictionary(d.dict, d.params);
const kernel = d.wasm && d.simd ? TrainKernel.create(d.wasm, d.dim) : null;

/** Initialise this thread's share of the input matrix: uniform in [-1/dim, 1/dim] (DenseMatrix::uniform). */
function initInput(): void {
  const rows = d.wi.length / d.dim;
  const from = Math.floor((rows * d.threadId) / d.threads) * d.dim;
  const to = Math.floor((rows * (d.threadId + 1)) / d.threads) * d.dim;
  const rng = new Rng(d.seed * 7919 + d.threadId + 1);
  const a = 1 / d.dim;
  if (kernel) kernel.initUniform(from, to, rng.state, a);
  else for (let i = from; i < to; i++) d.wi[i] = (rng.next() * 2 - 1) * a;
}

/** Lines whose first byte lies in [from, to) of the file, tokenized; null if over budget. */
function tokenize(): Segment | null {
  const fd = openSync(d.input, "r");
  try {
    const size = fstatSync(fd).size;
    let from = Math.floor((d.threadId * size) / d.threads);
    const to = Math.floor(((d.threadId + 1) * size) / d.threads);
    // Start at the first line that begins at or after `from` (line starts are where the previous byte is '\n').
    if (from > 0) {
      const probe = new LineCursor(fd, size, from - 1);
      probe.next();
      from = from - 1 + (probe.end - probe.start) + (probe.newline ? 1 : 0);
    }
    if (from >= to) return new Int32Array(new SharedArrayBuffer(4), 0, 0);
    const c = new LineCursor(fd, size, from);
    const out = new IntBuffer(1 << 16);
    const words = new IntBuffer(1024);
    const labels = new IntBuffer(16);
    let pos = from;
    while (pos < to) {
      c.next();
      pos += c.end - c.start + (c.newline ? 1 : 0);
      words.clear();
      labels.clear();
      const ntokens = dict.getLine(c.buf, c.start, c.end, c.newline, words, labels);
      out.push(words.length);
      out.push(labels.length);
      out.push(ntokens);
      for (let i = 0; i < words.length; i++) out.push(words.data[i]!);
      for (let i = 0; i < labels.length; i++) out.push(labels.data[i]!);
      if (out.length > d.cacheBudget) return null;
      if (!c.newline) break; // last line of the file
    }
    const seg = new Int32Array(new SharedArrayBuffer(Math.max(4, out.length * 4)), 0, out.length);
    seg.set(out.data.subarray(0, out.length));
    return seg;
  } finally {
    closeSync(fd);
  }
}

function makeStep(): SgdStep {
  return new SgdStep(
    {
      dim: d.dim,
      loss: d.loss,
      wi: d.wi,
      wo: d.wo,
      nlabels: dict.nlabels,
      neg: d.neg,
      tree: d.loss === "hs" ? buildHsTree(dict.labelCounts()) : null,
      negatives: d.negatives,
      kernel,
    },
    new Rng(d.seed + d.threadId + 1),
  );
}

/** SGD over the cached segments, starting with this thread's own, cycling until the token budget is spent. */
function trainCached(segments: Segment[]): void {
  const step = makeStep();
  const total = d.epoch * d.dict.ntokens;
  const counter = d.tokenCount;
  const slot = d.threadId * 2;
  if (segments.every((s) => s.length === 0)) throw new Error("no lines to train on");
  let seg = d.threadId % segments.length;
  let at = 0;
  let local = 0;
  let shared = Number(Atomics.load(counter, 0));
  while (shared < total) {
    let s = segments[seg]!;
    while (at >= s.length) {
      seg = (seg + 1) % segments.length;
      at = 0;
      s = segments[seg]!;
    }
    const nw = s[at]!;
    const nl = s[at + 1]!;
    local += s[at + 2]!;
    const lr = d.lr * (1 - shared / total);
    step.update(s, at + 3, nw, s, at + 3 + nw, nl, lr);
    at += 3 + nw + nl;
    if (local > d.lrUpdateRate) {
      shared = Number(Atomics.add(counter, 0, BigInt(local))) + local;
      local = 0;
      d.stats[slot] = step.lossSum;
      d.stats[slot + 1] = step.examples;
    }
  }
  d.stats[slot] = step.lossSum;
  d.stats[slot + 1] = step.examples;
}

/** SGD streaming the file from this thread's offset, re-tokenizing every pass (fastText's own way). */
function trainStreaming(): void {
  const step = makeStep();
  const fd = openSync(d.input, "r");
  try {
    const size = fstatSync(fd).size;
    const cursor = new LineCursor(fd, size, Math.floor((d.threadId * size) / d.threads));
    const words = new IntBuffer(1024);
    const labels = new IntBuffer(16);
    const total = d.epoch * d.dict.ntokens;
    const counter = d.tokenCount;
    const slot = d.threadId * 2;
    let local = 0;
    let shared = Number(Atomics.load(counter, 0));
    while (shared < total) {
      const lr = d.lr * (1 - shared / total);
      cursor.next();
      words.clear();
      labels.clear();
      local += dict.getLine(cursor.buf, cursor.start, cursor.end, cursor.newline, words, labels);
      step.update(words.data, 0, words.length, labels.data, 0, labels.length, lr);
      if (local > d.lrUpdateRate) {
        shared = Number(Atomics.add(counter, 0, BigInt(local))) + local;
        local = 0;
        d.stats[slot] = step.lossSum;
        d.stats[slot + 1] = step.examples;
      }
    }
    d.stats[slot] = step.lossSum;
    d.stats[slot + 1] = step.examples;
  } finally {
    closeSync(fd);
  }
}

parentPort!.on("message", (msg: { phase: string; segments?: Segment[] | null }) => {
  try {
    let segment: Segment | null = null;
    if (msg.phase === "init") initInput();
    else if (msg.phase === "tokenize") segment = tokenize();
    else if (msg.phase === "train") msg.segments ? trainCached(msg.segments) : trainStreaming();
    parentPort!.postMessage({ done: msg.phase, segment });
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
