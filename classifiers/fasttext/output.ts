// The output layer at prediction time, per loss, in fastText's float32 arithmetic: softmax, one-vs-all and
// negative sampling (both through fastText's 512-entry sigmoid table), and the hierarchical softmax tree walk.
// Scores are log-probabilities as fastText keeps them: std_log(p) = log(p + 1e-5), rounded to float32.
import type { LossName } from "./args.js";
import { dotRow, type MatrixData } from "./matrix.js";

const f = Math.fround;

export const SIGMOID_TABLE_SIZE = 512;
export const MAX_SIGMOID = 8;
export const LOG_TABLE_SIZE = 512;

/** Loss::t_sigmoid_ exactly as fastText fills it. */
export const SIGMOID_TABLE: Float32Array = (() => {
  const t = new Float32Array(SIGMOID_TABLE_SIZE + 1);
  for (let i = 0; i <= SIGMOID_TABLE_SIZE; i++) {
    const x = f(f((i * 2 * MAX_SIGMOID) / SIGMOID_TABLE_SIZE) - MAX_SIGMOID);
    t[i] = 1 / (1 + f(Math.exp(-x)));
  }
  return t;
})();

/** Loss::t_log_ (used for the training loss report). */
export const LOG_TABLE: Float32Array = (() => {
  const t = new Float32Array(LOG_TABLE_SIZE + 1);
  for (let i = 0; i <= LOG_TABLE_SIZE; i++) t[i] = Math.log(f((i + 1e-5) / LOG_TABLE_SIZE));
  return t;
})();

/** Loss::sigmoid: the table lookup, including its float32 index arithmetic. */
export function tableSigmoid(x: number): number {
  if (x < -MAX_SIGMOID) return 0;
  if (x > MAX_SIGMOID) return 1;
  const i = Math.trunc(f(f(f(f(x + MAX_SIGMOID) * SIGMOID_TABLE_SIZE) / MAX_SIGMOID) / 2));
  return SIGMOID_TABLE[i]!;
}

/** Loss::log: the table lookup. */
export function tableLog(x: number): number {
  if (x > 1) return 0;
  return LOG_TABLE[Math.trunc(f(x * LOG_TABLE_SIZE))]!;
}

/** fastText's std_log: log(x + 1e-5) with x a float, returned as float. */
export function stdLog(x: number): number {
  return f(Math.log(f(x) + 1e-5));
}

/** Hierarchical softmax tree (HierarchicalSoftmaxLoss::buildTree) over label counts sorted by decreasing count. */
export interface HsTree {
  left: Int32Array;
  right: Int32Array;
  /** per label: inner-node rows (node - osz) from the leaf to the root, and the branch bits */
  paths: Int32Array[];
  codes: Uint8Array[];
}

export function buildHsTree(counts: number[]): HsTree {
  const osz = counts.length;
  const n = Math.max(1, 2 * osz - 1);
  const parent = new Int32Array(n).fill(-1);
  const left = new Int32Array(n).fill(-1);
  const right = new Int32Array(n).fill(-1);
  const count = new Float64Array(n).fill(1e15);
  const binary = new Uint8Array(n);
  for (let i = 0; i < osz; i++) count[i] = counts[i]!;
  let leaf = osz - 1;
  let node = osz;
  for (let i = osz; i < 2 * osz - 1; i++) {
    const mini = [0, 0];
    for (let j = 0; j < 2; j++) {
      if (leaf >= 0 && count[leaf]! < count[node]!) mini[j] = leaf--;
      else mini[j] = node++;
    }
    left[i] = mini[0]!;
    right[i] = mini[1]!;
    count[i] = count[mini[0]!]! + count[mini[1]!]!;
    parent[mini[0]!] = i;
    parent[mini[1]!] = i;
    binary[mini[1]!] = 1;
  }
  const paths: Int32Array[] = [];
  const codes: Uint8Array[] = [];
  for (let i = 0; i < osz; i++) {
    const p: number[] = [];
    const c: number[] = [];
    let j = i;
    while (parent[j] !== -1) {
      p.push(parent[j]! - osz);
      c.push(binary[j]!);
      j = parent[j]!;
    }
    paths.push(Int32Array.from(p));
    codes.push(Uint8Array.from(c));
  }
  return { left, right, paths, codes };
}

/** A prediction before the label lookup: float32 log-probability and label index. */
export interface RawPrediction {
  score: number;
  label: number;
}

export class OutputLayer {
  private readonly out: Float32Array;
  readonly tree: HsTree | null;

  /** Top-1 search only: a subtree whose score is below the best leaf found so far by more than this cannot hold
   * the best leaf (see dfs). */
  private readonly pruneMargin: number;
  /** Best leaf score found so far by the current top-1 dfs. */
  private best = -Infinity;

  constructor(
    readonly loss: LossName,
    readonly wo: MatrixData,
    readonly labelCounts: number[],
  ) {
    this.out = new Float32Array(wo.rows);
    this.tree = loss === "hs" ? buildHsTree(labelCounts) : null;
    let depth = 0;
    for (const p of this.tree?.paths ?? []) depth = Math.max(depth, p.length);
    // A step down adds stdLog(p) <= log(1 + 1e-5) ~ 1e-5, plus at most one float32 rounding of the sum (< 2e-6
    // for |score| < 16, and deeper scores are pruned by the threshold anyway): 4e-5 per level is a safe bound.
    this.pruneMargin = (depth + 1) * 4e-5;
  }

  /** Output row `row` · hidden, or its precomputed value when `dots` holds all of them (projection.ts). */
  private dot(hidden: Float32Array, row: number, dots: Float32Array | null): number {
    return dots ? dots[row]! : dotRow(this.wo, hidden, row);
  }

  /** Per-label probabilities for softmax / ova / ns (Loss::computeOutput). */
  computeOutput(hidden: Float32Array, dots: Float32Array | null = null): Float32Array {
    const out = this.out;
    const osz = this.wo.rows;
    for (let i = 0; i < osz; i++) out[i] = this.dot(hidden, i, dots);
    if (this.loss === "softmax") {
      let max = out[0]!;
      for (let i = 0; i < osz; i++) if (out[i]! > max) max = out[i]!;
      let z = 0;
      for (let i = 0; i < osz; i++) {
        out[i] = Math.exp(f(out[i]! - max));
        z = f(z + out[i]!);
      }
      for (let i = 0; i < osz; i++) out[i] = out[i]! / z;
    } else {
      for (let i = 0; i < osz; i++) out[i] = tableSigmoid(out[i]!);
    }
    return out;
  }

  /** Loss::predict: the k best labels with probability >= threshold, best first. */
  predict(hidden: Float32Array, k: number, threshold: number, dots: Float32Array | null = null): RawPrediction[] {
    const preds: RawPrediction[] = [];
    if (this.loss === "hs") {
      const osz = this.labelCounts.length;
      this.best = -Infinity;
      if (osz > 0) this.dfs(k, stdLog(threshold), 2 * osz - 2, 0, preds, hidden, dots);
    } else {
      const out = this.computeOutput(hidden, dots);
      for (let i = 0; i < out.length; i++) {
        if (out[i]! < threshold) continue;
        preds.push({ score: stdLog(out[i]!), label: i });
      }
    }
    preds.sort((a, b) => b.score - a.score || a.label - b.label);
    if (preds.length > k) preds.length = k;
    return preds;
  }

  /**
   * HierarchicalSoftmaxLoss::dfs; it prunes branches below the threshold as fastText does. For k = 1 (language ID)
   * it also skips subtrees that provably cannot hold the best leaf: scores can grow by at most pruneMargin on the
   * way down, so a subtree more than that below the best leaf found so far only has leaves strictly worse than it.
   * The best leaf, ties included, is therefore the one a full walk finds: same result, a fraction of the dot products.
   */
  private dfs(k: number, logThreshold: number, node: number, score: number, preds: RawPrediction[], hidden: Float32Array,
    dots: Float32Array | null): void {
    if (score < logThreshold) return;
    if (k === 1 && score + this.pruneMargin < this.best) return;
    const tree = this.tree!;
    const osz = this.labelCounts.length;
    if (tree.left[node] === -1 && tree.right[node] === -1) {
      preds.push({ score, label: node });
      if (score > this.best) this.best = score;
      return;
    }
    const d = this.dot(hidden, node - osz, dots);
    const p = f(1 / f(1 + f(Math.exp(-d))));
    const left = f(score + stdLog(1 - p)), right = f(score + stdLog(p));
    // The walk order does not change the result (predict sorts what is found, and a pruned leaf cannot be the best),
    // so with pruning on, the likelier branch goes first: the best leaf is found early and prunes the most.
    if (k === 1 && p > 0.5) {
      this.dfs(k, logThreshold, tree.right[node]!, right, preds, hidden, dots);
      this.dfs(k, logThreshold, tree.left[node]!, left, preds, hidden, dots);
    } else {
      this.dfs(k, logThreshold, tree.left[node]!, left, preds, hidden, dots);
      this.dfs(k, logThreshold, tree.right[node]!, right, preds, hidden, dots);
    }
  }

  /** log-probability of one label, without the threshold pruning of predict (hs walks the label's path). */
  labelScore(hidden: Float32Array, label: number, dots: Float32Array | null = null): number {
    if (this.loss !== "hs") return stdLog(this.computeOutput(hidden, dots)[label]!);
    const tree = this.tree!;
    // Walk root -> leaf: the path is stored leaf -> root.
    const path = tree.paths[label]!;
    const code = tree.codes[label]!;
    let score = 0;
    for (let i = path.length - 1; i >= 0; i--) {
      const d = this.dot(hidden, path[i]!, dots);
      const p = f(1 / f(1 + f(Math.exp(-d))));
      score = f(score + stdLog(code[i] ? p : 1 - p));
    }
    return score;
  }
}
