// Input rows projected onto the output layer: the default path for prediction with a big model and few labels.
//
// Why: every output the prediction needs is a dot product of an output row with the hidden vector, and the hidden
// vector is the mean of the document's input rows, so (by linearity) wo_r · mean(rows) = mean(wo_r · row_i). With
// P[i][r] = wo_r · input row i computed once per model, a document costs one read of `osz` floats per input id
// instead of `dim` floats: for the MegaMath model (dim 256, 2 labels, 2M buckets) a 16 MB table instead of random
// 1 KB reads from a 2 GB matrix, which were over half of the scoring CPU (bench/classify.ts; the reads are
// latency-bound: halving the row to 512 bytes, as fp16 rows would, saved only 3-33% of the row-sum time there).
//
// The result is not bit-identical to fastText: fastText sums the rows in float32 and so does its dots; here the
// products and the per-document sums are float64, so the difference is fastText's own float32 rounding (ours is
// within 1.2e-7 of a float64 forward pass; bench/score-agree.ts). That rounding grows with the document: on the
// 53,893-document bench corpus (at most 11,975 ids) the largest difference in probability was 3.1e-6, but on
// documents of 33k-500k ids it reached 1.1e-4. So documents of more than PROJECTED_MAX_IDS ids take the exact
// float32 row sums (every difference up to that length was <= 4.4e-6), and only losses whose probabilities are
// smooth in the dots use the projection: one-vs-all and negative sampling read fastText's 512-entry sigmoid table,
// where a difference in the last bits of a dot can move a whole table step.
import { quantAddRow, type DenseData, type MatrixData } from "./matrix.js";
import { sharedFloat32 } from "./shared.js";
import type { LossName } from "./args.js";

/** Documents with more input ids than this are scored with the exact float32 row sums (see above). */
export const PROJECTED_MAX_IDS = 16384;

/** Use the projection only when it is much smaller than the rows it replaces (osz floats vs dim floats per id) and
 * the loss's probabilities are smooth in the dots (softmax, hierarchical softmax; not the sigmoid table's). */
export function projectionWorthIt(input: DenseData, output: MatrixData, loss: LossName): boolean {
  return (loss === "softmax" || loss === "hs") && output.rows > 0 && output.rows * 8 <= input.cols;
}

/** The output matrix as dense float32 rows (a quantized one decoded, as QuantMatrix::addRowToVector reads it). */
function denseOutput(output: MatrixData, dim: number): Float32Array {
  if (output.kind === "dense") return output.data;
  const out = new Float32Array(output.rows * dim);
  for (let r = 0; r < output.rows; r++) quantAddRow(output, out.subarray(r * dim, (r + 1) * dim), r);
  return out;
}

/**
 * P[i * osz + r] = output row r · input row i, in float64 then stored as float32 (a relative rounding of 6e-8 per
 * entry, far below fastText's own float32 error). Shared memory, so worker threads read the one copy.
 */
export function buildProjection(input: DenseData, output: MatrixData): Float32Array {
  const dim = input.cols, osz = output.rows, rows = input.rows;
  if (output.cols !== dim) throw new Error(`fastText projection: output rows have ${output.cols} columns, input rows ${dim}`);
  const wo = denseOutput(output, dim);
  const x = input.data;
  const p = sharedFloat32(rows * osz);
  // Row-major over the input: each 1 KB row is read from memory once and stays in L1 for all osz dot products.
  for (let i = 0; i < rows; i++) {
    const o = i * dim;
    for (let r = 0; r < osz; r++) {
      const w = r * dim;
      // four partial sums: independent adds, so the loop is not one long dependency chain
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j + 4 <= dim; j += 4) {
        s0 += x[o + j]! * wo[w + j]!;
        s1 += x[o + j + 1]! * wo[w + j + 1]!;
        s2 += x[o + j + 2]! * wo[w + j + 2]!;
        s3 += x[o + j + 3]! * wo[w + j + 3]!;
      }
      for (; j < dim; j++) s0 += x[o + j]! * wo[w + j]!;
      p[i * osz + r] = s0 + s1 + s2 + s3;
    }
  }
  return p;
}

/** dots[r] = float32(mean over ids of P[id][r]), the float64 sum divided by the id count. */
export function projectedDots(p: Float32Array, osz: number, ids: Int32Array, count: number, dots: Float32Array): void {
  if (osz === 2) {
    let a = 0, b = 0;
    for (let i = 0; i < count; i++) {
      const o = ids[i]! * 2;
      a += p[o]!;
      b += p[o + 1]!;
    }
    dots[0] = a / count;
    dots[1] = b / count;
    return;
  }
  for (let r = 0; r < osz; r++) {
    let s = 0;
    for (let i = 0; i < count; i++) s += p[ids[i]! * osz + r]!;
    dots[r] = s / count;
  }
}
