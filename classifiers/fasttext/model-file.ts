// Reading and writing fastText's .bin / .ftz format (FastText::loadModel / saveModel, version 12):
//   int32 magic 793712314, int32 version | Args | Dictionary (+ pruneidx) | bool quant_input | input matrix
//   | bool qout | output matrix.
// Every size is checked against the bytes left before anything is allocated, so a corrupt or truncated file
// fails with a message instead of a huge allocation or a crash.
import { openSync, closeSync, writeSync, fsyncSync } from "node:fs";
import { rename, rm, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { tempPathFor } from "../../lib/io/atomic.js";
import { BinaryReader } from "./binary-reader.js";
import { FastTextModelError } from "./errors.js";
import { type FastTextArgs, LOSS_CODES, MODEL_CODES, lossFromCode, modelFromCode, supervisedDefaults } from "./args.js";
import { allocDictionaryData, type DictionaryData, TYPE_LABEL, TYPE_WORD } from "./dictionary.js";
import { fnv1a } from "./hash.js";
import { KSUB, allocDense, quantAddRow, type DenseData, type MatrixData, type PQData, type QuantData } from "./matrix.js";
import { sharedUint8 } from "./shared.js";

export const FASTTEXT_MAGIC = 793712314;
export const FASTTEXT_VERSION = 12;

/** Everything a model is made of, as plain SharedArrayBuffer-backed data (structured-clone-able). */
export interface SharedModelHandle {
  args: FastTextArgs;
  dict: DictionaryData;
  quantInput: boolean;
  input: MatrixData;
  output: MatrixData;
  /** input rows projected onto the output rows (projection.ts), once FastTextModel.useProjection() built it */
  projection?: Float32Array;
}

function readArgs(r: BinaryReader): FastTextArgs {
  const a = supervisedDefaults();
  a.dim = r.int32("args.dim");
  a.ws = r.int32("args.ws");
  a.epoch = r.int32("args.epoch");
  a.minCount = r.int32("args.minCount");
  a.neg = r.int32("args.neg");
  a.wordNgrams = r.int32("args.wordNgrams");
  const loss = r.int32("args.loss");
  const model = r.int32("args.model");
  a.bucket = r.int32("args.bucket");
  a.minn = r.int32("args.minn");
  a.maxn = r.int32("args.maxn");
  a.lrUpdateRate = r.int32("args.lrUpdateRate");
  a.t = r.float64("args.t");
  const l = lossFromCode(loss);
  const m = modelFromCode(model);
  if (!l) r.fail(`unknown loss code ${loss} in header (corrupt file?)`);
  if (!m) r.fail(`unknown model code ${model} in header (corrupt file?)`);
  a.loss = l;
  a.model = m;
  if (a.dim <= 0 || a.dim > 1 << 20) r.fail(`implausible dim ${a.dim} (corrupt file?)`);
  if (a.bucket < 0) r.fail(`negative bucket count ${a.bucket} (corrupt file?)`);
  if (a.wordNgrams < 0 || a.minn < 0 || a.maxn < 0) r.fail("negative n-gram settings in header (corrupt file?)");
  return a;
}

function readDictionary(r: BinaryReader): DictionaryData {
  const size = r.int32("dictionary size");
  const nwords = r.int32("dictionary nwords");
  const nlabels = r.int32("dictionary nlabels");
  const ntokens = r.int64("dictionary ntokens");
  const pruneidxSize = r.int64("dictionary pruneidx_size");
  if (size < 0 || nwords < 0 || nlabels < 0 || nwords + nlabels !== size)
    r.fail(`inconsistent dictionary sizes (size ${size}, nwords ${nwords}, nlabels ${nlabels})`);
  // Each entry needs at least 10 bytes (NUL, int64 count, int8 type).
  if (size * 10 > r.remaining) r.fail(`dictionary of ${size} entries cannot fit in the file (truncated?)`);
  if (pruneidxSize > 0 && pruneidxSize * 8 > r.remaining) r.fail(`pruneidx of ${pruneidxSize} pairs cannot fit in the file`);
  const words: Uint8Array[] = [];
  let total = 0;
  const counts: number[] = [];
  const types: number[] = [];
  for (let i = 0; i < size; i++) {
    const w = r.cstring(`dictionary entry ${i}`);
    words.push(w);
    total += w.length;
    counts.push(r.int64(`count of dictionary entry ${i}`));
    const t = r.int8(`type of dictionary entry ${i}`);
    if (t !== TYPE_WORD && t !== TYPE_LABEL) r.fail(`dictionary entry ${i} has unknown type ${t}`);
    if ((t === TYPE_LABEL) !== i >= nwords) r.fail(`dictionary entry ${i} is out of order (words must precede labels)`);
    types.push(t);
  }
  const pairs = Math.max(0, pruneidxSize);
  const d = allocDictionaryData(size, total, pairs);
  d.nwords = nwords;
  d.nlabels = nlabels;
  d.ntokens = ntokens;
  d.pruneidxSize = pruneidxSize;
  let off = 0;
  for (let i = 0; i < size; i++) {
    const w = words[i]!;
    d.wordOffsets[i] = off;
    d.wordBytes.set(w, off);
    off += w.length;
    d.counts[i] = counts[i]!;
    d.types[i] = types[i]!;
    d.hashes[i] = fnv1a(w, 0, w.length);
  }
  d.wordOffsets[size] = off;
  for (let i = 0; i < pairs; i++) {
    d.pruneFrom[i] = r.int32("pruneidx key");
    d.pruneTo[i] = r.int32("pruneidx value");
  }
  return d;
}

function readDense(r: BinaryReader, what: string, simd = false): DenseData {
  const rows = r.int64(`${what} rows`);
  const cols = r.int64(`${what} cols`);
  if (rows < 0 || cols < 0) r.fail(`${what} has negative shape ${rows}x${cols}`);
  const bytes = rows * cols * 4;
  if (bytes > r.remaining) r.fail(`file is truncated: ${what} (${rows}x${cols}) needs ${bytes} bytes, ${r.remaining} left`);
  const m: DenseData = simd ? allocDense(rows, cols) : { kind: "dense", rows, cols, data: new Float32Array(new SharedArrayBuffer(bytes)) };
  r.readInto(new Uint8Array(m.data.buffer, m.data.byteOffset, bytes), what);
  return m;
}

function readPQ(r: BinaryReader, what: string): PQData {
  const dim = r.int32(`${what} dim`);
  const nsubq = r.int32(`${what} nsubq`);
  const dsub = r.int32(`${what} dsub`);
  const lastdsub = r.int32(`${what} lastdsub`);
  if (dim <= 0 || nsubq <= 0 || dsub <= 0 || lastdsub <= 0 || (nsubq - 1) * dsub + lastdsub !== dim)
    r.fail(`${what} has inconsistent shape (dim ${dim}, nsubq ${nsubq}, dsub ${dsub}, lastdsub ${lastdsub})`);
  const n = dim * KSUB;
  if (n * 4 > r.remaining) r.fail(`file is truncated: ${what} centroids need ${n * 4} bytes`);
  const sab = new SharedArrayBuffer(n * 4);
  r.readInto(new Uint8Array(sab), `${what} centroids`);
  return { dim, nsubq, dsub, lastdsub, centroids: new Float32Array(sab) };
}

function readQuant(r: BinaryReader, what: string): QuantData {
  const qnorm = r.uint8(`${what} qnorm`) !== 0;
  const rows = r.int64(`${what} rows`);
  const cols = r.int64(`${what} cols`);
  const codesize = r.int32(`${what} codesize`);
  if (rows < 0 || cols <= 0 || codesize < 0) r.fail(`${what} has an invalid shape ${rows}x${cols} / ${codesize} codes`);
  if (codesize > r.remaining) r.fail(`file is truncated: ${what} needs ${codesize} code bytes`);
  const codes = sharedUint8(codesize);
  r.readInto(codes, `${what} codes`);
  const pq = readPQ(r, `${what} quantizer`);
  if (pq.dim !== cols || codesize !== rows * pq.nsubq) r.fail(`${what}: quantizer does not match the matrix shape`);
  let normCodes: Uint8Array | null = null;
  let npq: PQData | null = null;
  if (qnorm) {
    if (rows > r.remaining) r.fail(`file is truncated: ${what} norm codes`);
    normCodes = sharedUint8(rows);
    r.readInto(normCodes, `${what} norm codes`);
    npq = readPQ(r, `${what} norm quantizer`);
  }
  return { kind: "quant", rows, cols, qnorm, codes, pq, normCodes, npq };
}

/** Quantized input matrices up to this size (decoded) are expanded to dense rows at load time. */
const DECODE_LIMIT_BYTES = 256 << 20;

/** Decode a small quantized matrix to dense float32 rows, so prediction takes the fast dense path. Each decoded
 * value is float32(norm * centroid), the very number QuantMatrix::addRowToVector adds, so sums are unchanged.
 * The quantized form is kept for saving. */
function decodeIfSmall(q: QuantData): QuantData {
  if (q.rows * q.cols * 4 > DECODE_LIMIT_BYTES) return q;
  const dense = allocDense(q.rows, q.cols);
  const row = new Float32Array(q.cols);
  for (let i = 0; i < q.rows; i++) {
    row.fill(0);
    quantAddRow(q, row, i);
    dense.data.set(row, i * q.cols);
  }
  return { ...q, decoded: dense };
}

/** Parse a .bin or .ftz file into shared data. Throws FastTextModelError for anything unusable. */
export function readModelFile(path: string): SharedModelHandle {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new FastTextModelError(path, `cannot open: ${(e as Error).message}`);
  }
  try {
    const r = new BinaryReader(fd, path);
    if (r.size < 8) r.fail("file is too short to be a fastText model");
    const magic = r.int32("magic");
    if (magic !== FASTTEXT_MAGIC) r.fail(`not a fastText model (magic number ${magic}, expected ${FASTTEXT_MAGIC})`);
    const version = r.int32("version");
    if (version > FASTTEXT_VERSION || version < 11) r.fail(`unsupported fastText file version ${version} (this reader knows 11-12)`);
    const args = readArgs(r);
    if (version === 11 && args.model === "supervised") args.maxn = 0; // what fastText does for old supervised models
    const dict = readDictionary(r);
    const quantInput = r.uint8("quant_input flag") !== 0;
    const input = quantInput ? decodeIfSmall(readQuant(r, "input matrix")) : readDense(r, "input matrix", true);
    if (!quantInput && dict.pruneidxSize > 0) r.fail("dictionary is pruned but the input matrix is not quantized (invalid model)");
    args.qout = r.uint8("qout flag") !== 0;
    const output = quantInput && args.qout ? readQuant(r, "output matrix") : readDense(r, "output matrix");
    if (r.remaining !== 0) r.fail(`${r.remaining} unexpected bytes after the output matrix (corrupt file?)`);
    checkShapes(path, args, dict, input, output);
    return { args, dict, quantInput, input, output };
  } finally {
    closeSync(fd);
  }
}

function checkShapes(path: string, args: FastTextArgs, dict: DictionaryData, input: MatrixData, output: MatrixData): void {
  const bad = (m: string) => {
    throw new FastTextModelError(path, m);
  };
  if (input.cols !== args.dim) bad(`input matrix has ${input.cols} columns but dim is ${args.dim}`);
  if (output.cols !== args.dim) bad(`output matrix has ${output.cols} columns but dim is ${args.dim}`);
  if (dict.pruneidxSize > 0) {
    for (let i = 0; i < dict.pruneTo.length; i++)
      if (dict.pruneTo[i]! < 0 || dict.nwords + dict.pruneTo[i]! >= input.rows) bad(`pruneidx entry ${i} points outside the input matrix`);
    if (input.rows < dict.nwords) bad(`input matrix has ${input.rows} rows, fewer than the ${dict.nwords} words`);
  } else if (input.rows !== dict.nwords + args.bucket) {
    bad(`input matrix has ${input.rows} rows, expected nwords + bucket = ${dict.nwords + args.bucket}`);
  }
  const expectOut = args.model === "supervised" ? dict.nlabels : dict.nwords;
  if (output.rows !== expectOut) bad(`output matrix has ${output.rows} rows, expected ${expectOut}`);
}

/** Buffered sequential writer to a file descriptor. */
class BinaryWriter {
  private buf = Buffer.alloc(1 << 20);
  private pos = 0;
  constructor(private readonly fd: number) {}
  private room(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
  }
  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }
  int32(v: number): void {
    this.room(4);
    this.pos = this.buf.writeInt32LE(v, this.pos);
  }
  int64(v: number): void {
    this.room(8);
    this.pos = this.buf.writeBigInt64LE(BigInt(v), this.pos);
  }
  float64(v: number): void {
    this.room(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }
  uint8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }
  bytes(b: Uint8Array): void {
    if (b.byteLength <= this.buf.length - this.pos) {
      this.buf.set(b, this.pos);
      this.pos += b.byteLength;
      return;
    }
    this.flush();
    // Large blocks go straight to the file in chunks (one write is limited to 2 GiB).
    for (let off = 0; off < b.byteLength; ) {
      const n = Math.min(b.byteLength - off, 256 << 20);
      off += writeSync(this.fd, b, off, n);
    }
  }
}

function writeMatrix(w: BinaryWriter, m: MatrixData): void {
  const writePQ = (pq: PQData) => {
    w.int32(pq.dim);
    w.int32(pq.nsubq);
    w.int32(pq.dsub);
    w.int32(pq.lastdsub);
    w.bytes(new Uint8Array(pq.centroids.buffer, pq.centroids.byteOffset, pq.centroids.byteLength));
  };
  if (m.kind === "dense") {
    w.int64(m.rows);
    w.int64(m.cols);
    w.bytes(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    return;
  }
  w.uint8(m.qnorm ? 1 : 0);
  w.int64(m.rows);
  w.int64(m.cols);
  w.int32(m.codes.length);
  w.bytes(m.codes);
  writePQ(m.pq);
  if (m.qnorm) {
    w.bytes(m.normCodes!);
    writePQ(m.npq!);
  }
}

/** Write a model in fastText's format (temp file + fsync + rename). */
export async function writeModelFile(path: string, h: SharedModelHandle): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, "w");
  try {
    const w = new BinaryWriter(fd);
    const a = h.args;
    w.int32(FASTTEXT_MAGIC);
    w.int32(FASTTEXT_VERSION);
    for (const v of [a.dim, a.ws, a.epoch, a.minCount, a.neg, a.wordNgrams, LOSS_CODES[a.loss], MODEL_CODES[a.model], a.bucket, a.minn, a.maxn, a.lrUpdateRate])
      w.int32(v);
    w.float64(a.t);
    const d = h.dict;
    w.int32(d.size);
    w.int32(d.nwords);
    w.int32(d.nlabels);
    w.int64(d.ntokens);
    w.int64(d.pruneidxSize);
    for (let i = 0; i < d.size; i++) {
      w.bytes(d.wordBytes.subarray(d.wordOffsets[i]!, d.wordOffsets[i + 1]!));
      w.uint8(0);
      w.int64(d.counts[i]!);
      w.uint8(d.types[i]!);
    }
    for (let i = 0; i < Math.max(0, d.pruneidxSize); i++) {
      w.int32(d.pruneFrom[i]!);
      w.int32(d.pruneTo[i]!);
    }
    w.uint8(h.quantInput ? 1 : 0);
    writeMatrix(w, h.input);
    w.uint8(a.qout && h.quantInput ? 1 : 0);
    writeMatrix(w, h.output);
    w.flush();
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    await rm(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  await rename(tmp, path);
}
