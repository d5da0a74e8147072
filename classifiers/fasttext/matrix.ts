// The two matrix kinds of a fastText model: dense (float32 rows) and product-quantized (.ftz). Both keep their
// storage in SharedArrayBuffers; the arithmetic follows fastText's float32 order so results match bit for bit.
import { allocWasmMatrix, type WasmLayout } from "./simd-rows.js";

const f = Math.fround;

/** Dense m x n float32 matrix, row-major (DenseMatrix). */
export interface DenseData {
  kind: "dense";
  rows: number;
  cols: number;
  data: Float32Array;
  /** set when `data` lives in a shared WebAssembly.Memory that the SIMD row-sum kernel can use */
  wasm?: WasmLayout;
}

/** A dense rows x cols matrix in shared memory: in the SIMD kernel's WebAssembly.Memory when possible,
 * else in a plain SharedArrayBuffer. */
export function allocDense(rows: number, cols: number): DenseData {
  const w = allocWasmMatrix(rows, cols);
  if (w) return { kind: "dense", rows, cols, data: w.data, wasm: w.layout };
  return { kind: "dense", rows, cols, data: new Float32Array(new SharedArrayBuffer(rows * cols * 4)) };
}

/** ProductQuantizer: nsubq sub-vectors of dsub floats (the last one lastdsub), 256 centroids each. */
export interface PQData {
  dim: number;
  nsubq: number;
  dsub: number;
  lastdsub: number;
  centroids: Float32Array;
}

/** QuantMatrix: one byte code per sub-vector per row, optionally a quantized norm per row. */
export interface QuantData {
  kind: "quant";
  rows: number;
  cols: number;
  qnorm: boolean;
  codes: Uint8Array;
  pq: PQData;
  normCodes: Uint8Array | null;
  npq: PQData | null;
  /** the same rows decoded to dense float32, when small enough (prediction uses it; saving writes the codes) */
  decoded?: DenseData;
}

export type MatrixData = DenseData | QuantData;

export const KSUB = 256;

/** Offset of centroid i of sub-quantizer m (ProductQuantizer::get_centroids). */
export function centroidOffset(pq: PQData, m: number, i: number): number {
  if (m === pq.nsubq - 1) return m * KSUB * pq.dsub + i * pq.lastdsub;
  return (m * KSUB + i) * pq.dsub;
}

function rowNorm(q: QuantData, row: number): number {
  if (!q.qnorm) return 1;
  return q.npq!.centroids[centroidOffset(q.npq!, 0, q.normCodes![row]!)]!;
}

/** x += row `row` of a quantized matrix (QuantMatrix::addRowToVector, alpha = the row's norm). */
export function quantAddRow(q: QuantData, x: Float32Array, row: number): void {
  const pq = q.pq;
  const alpha = rowNorm(q, row);
  const code = row * pq.nsubq;
  const c = pq.centroids;
  let d = pq.dsub;
  for (let m = 0; m < pq.nsubq; m++) {
    const base = centroidOffset(pq, m, q.codes[code + m]!);
    if (m === pq.nsubq - 1) d = pq.lastdsub;
    const xo = m * pq.dsub;
    for (let k = 0; k < d; k++) x[xo + k] = x[xo + k]! + f(alpha * c[base + k]!);
  }
}

/** Row `row` · vec for a quantized matrix (QuantMatrix::dotRow), float32 accumulation. */
export function quantDotRow(q: QuantData, vec: Float32Array, row: number): number {
  const pq = q.pq;
  const alpha = rowNorm(q, row);
  const code = row * pq.nsubq;
  const c = pq.centroids;
  let res = 0;
  let d = pq.dsub;
  for (let m = 0; m < pq.nsubq; m++) {
    const base = centroidOffset(pq, m, q.codes[code + m]!);
    if (m === pq.nsubq - 1) d = pq.lastdsub;
    const xo = m * pq.dsub;
    for (let k = 0; k < d; k++) res = f(res + f(vec[xo + k]! * c[base + k]!));
  }
  return f(res * alpha);
}

/** Row `row` · vec for a dense matrix (DenseMatrix::dotRow), float32 accumulation. */
export function denseDotRow(m: DenseData, vec: Float32Array, row: number): number {
  const data = m.data;
  const n = m.cols;
  const o = row * n;
  let d = 0;
  for (let j = 0; j < n; j++) d = f(d + f(data[o + j]! * vec[j]!));
  return d;
}

export function dotRow(m: MatrixData, vec: Float32Array, row: number): number {
  return m.kind === "dense" ? denseDotRow(m, vec, row) : quantDotRow(m, vec, row);
}

/** Bytes this matrix takes in a .bin file. */
export function matrixFileBytes(m: MatrixData): number {
  if (m.kind === "dense") return 16 + m.rows * m.cols * 4;
  const pqBytes = (pq: PQData) => 16 + pq.centroids.length * 4;
  return 1 + 16 + 4 + m.codes.length + pqBytes(m.pq) + (m.qnorm ? m.rows + pqBytes(m.npq!) : 0);
}
