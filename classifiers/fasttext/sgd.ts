// One supervised SGD step, as fastText's Model::update with its losses: average the input rows into `hidden`,
// run the loss forward and backward (softmax, ns, hs or ova), scale the gradient by 1/|input| and add it to
// every input row. The matrices are shared with the other worker threads and updated without locks (Hogwild),
// exactly as fastText's threads do. Arithmetic is float64 in registers and float32 in the matrices.
import type { LossName } from "./args.js";
import { tableLog, tableSigmoid, type HsTree } from "./output.js";
import type { TrainKernel } from "./simd-train.js";

/** Small fast PRNG (mulberry32); each thread gets its own stream from seed + thread id. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** the raw 32-bit state (the WASM init kernel continues the same stream) */
  get state(): number {
    return this.s;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

export interface SgdModel {
  dim: number;
  loss: LossName;
  wi: Float32Array;
  wo: Float32Array;
  nlabels: number;
  neg: number;
  tree: HsTree | null;
  negatives: Int32Array | null;
  /** the WASM SIMD kernels over `wi` (same bits as the JS loops), or null to run the JS loops */
  kernel?: TrainKernel | null;
}

export class SgdStep {
  private readonly hidden: Float64Array;
  private readonly grad: Float64Array;
  private readonly out: Float64Array;
  lossSum = 0;
  examples = 0;

  constructor(
    private readonly m: SgdModel,
    private readonly rng: Rng,
  ) {
    this.hidden = m.kernel?.hidden ?? new Float64Array(m.dim);
    this.grad = m.kernel?.grad ?? new Float64Array(m.dim);
    this.out = new Float64Array(m.nlabels);
  }

  /** FastText::supervised + Model::update for one line. */
  update(input: Int32Array, at: number, n: number, labels: Int32Array, lat: number, nl: number, lr: number): void {
    if (n === 0 || nl === 0) return;
    const { dim, wi } = this.m;
    const h = this.hidden;
    const g = this.grad;
    const kernel = this.m.kernel;
    h.fill(0);
    g.fill(0);
    if (kernel) kernel.sumRows(input, at, n);
    else
      for (let i = at; i < at + n; i++) {
        const o = input[i]! * dim;
        for (let j = 0; j < dim; j++) h[j] += wi[o + j]!;
      }
    const inv = 1 / n;
    for (let j = 0; j < dim; j++) h[j] *= inv;
    let loss: number;
    switch (this.m.loss) {
      case "softmax":
        loss = this.softmax(labels[lat + this.rng.below(nl)]!, lr);
        break;
      case "ns":
        loss = this.negativeSampling(labels[lat + this.rng.below(nl)]!, lr);
        break;
      case "hs":
        loss = this.hierarchical(labels[lat + this.rng.below(nl)]!, lr);
        break;
      case "ova":
        loss = this.oneVsAll(labels, lat, nl, lr);
        break;
    }
    this.lossSum += loss;
    this.examples++;
    // normalizeGradient: supervised models divide the gradient by the number of input rows.
    for (let j = 0; j < dim; j++) g[j] *= inv;
    if (kernel) kernel.addGrad(input, at, n);
    else
      for (let i = at; i < at + n; i++) {
        const o = input[i]! * dim;
        for (let j = 0; j < dim; j++) wi[o + j] += g[j]!;
      }
  }

  private dot(row: number): number {
    const { dim, wo } = this.m;
    const h = this.hidden;
    const o = row * dim;
    let d = 0;
    for (let j = 0; j < dim; j++) d += wo[o + j]! * h[j]!;
    return d;
  }

  /** grad += alpha * wo[row]; wo[row] += alpha * hidden (both with the old wo[row]). */
  private backprop(row: number, alpha: number): void {
    const { dim, wo } = this.m;
    const h = this.hidden;
    const g = this.grad;
    const o = row * dim;
    for (let j = 0; j < dim; j++) {
      const w = wo[o + j]!;
      g[j] += alpha * w;
      wo[o + j] = w + alpha * h[j]!;
    }
  }

  private softmax(target: number, lr: number): number {
    const osz = this.m.nlabels;
    const out = this.out;
    let max = -Infinity;
    for (let i = 0; i < osz; i++) {
      out[i] = this.dot(i);
      if (out[i]! > max) max = out[i]!;
    }
    let z = 0;
    for (let i = 0; i < osz; i++) {
      out[i] = Math.exp(out[i]! - max);
      z += out[i]!;
    }
    for (let i = 0; i < osz; i++) out[i] /= z;
    for (let i = 0; i < osz; i++) {
      const alpha = lr * ((i === target ? 1 : 0) - out[i]!);
      this.backprop(i, alpha);
    }
    return -tableLog(out[target]!);
  }

  private binaryLogistic(row: number, positive: boolean, lr: number): number {
    const score = tableSigmoid(this.dot(row));
    const alpha = lr * ((positive ? 1 : 0) - score);
    this.backprop(row, alpha);
    return positive ? -tableLog(score) : -tableLog(1 - score);
  }

  private negativeSampling(target: number, lr: number): number {
    let loss = this.binaryLogistic(target, true, lr);
    const negatives = this.m.negatives!;
    if (this.m.nlabels < 2) return loss; // no other label to sample (fastText would loop forever)
    for (let k = 0; k < this.m.neg; k++) {
      let neg: number;
      do neg = negatives[this.rng.below(negatives.length)]!;
      while (neg === target);
      loss += this.binaryLogistic(neg, false, lr);
    }
    return loss;
  }

  private hierarchical(target: number, lr: number): number {
    const tree = this.m.tree!;
    const path = tree.paths[target]!;
    const code = tree.codes[target]!;
    let loss = 0;
    for (let i = 0; i < path.length; i++) loss += this.binaryLogistic(path[i]!, code[i] === 1, lr);
    return loss;
  }

  private oneVsAll(labels: Int32Array, lat: number, nl: number, lr: number): number {
    let loss = 0;
    for (let i = 0; i < this.m.nlabels; i++) {
      let match = false;
      for (let k = lat; k < lat + nl; k++) if (labels[k] === i) match = true;
      loss += this.binaryLogistic(i, match, lr);
    }
    return loss;
  }
}

export const NEGATIVE_TABLE_SIZE = 10_000_000;

/** NegativeSamplingLoss's table: label i repeated in proportion to sqrt(count). */
export function negativeTable(counts: number[]): Int32Array {
  let z = 0;
  for (const c of counts) z += Math.sqrt(c);
  const ids: number[] = [];
  counts.forEach((c, i) => {
    const n = (Math.sqrt(c) * NEGATIVE_TABLE_SIZE) / z;
    for (let j = 0; j < n; j++) ids.push(i);
  });
  const t = new Int32Array(new SharedArrayBuffer(ids.length * 4));
  t.set(ids);
  return t;
}
