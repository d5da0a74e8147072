// Megatron-LM indexed dataset (`megatron/core/datasets/indexed_dataset.py`), the canonical token format:
//   <prefix>.bin  raw token ids, little-endian, no header;
//   <prefix>.idx  "MMIDIDX\0\0", u64 version 1, u8 dtype code, u64 sequence count S, u64 document count D (= docs+1),
//                 int32 lengths[S], int64 byte pointers[S], int64 document_indices[D] (0..S, one document per sequence).
// Layout from ../shared/research/trainer-anchors.md §2.1 and anchors.md §3.1.
import { open, rename, rm, mkdir, type FileHandle } from "node:fs/promises";
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { dirname } from "node:path";
import { endianness } from "node:os";
import { tempPathFor } from "../io/atomic.js";

export const IDX_MAGIC = Uint8Array.from([0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0x00, 0x00]); // "MMIDIDX\0\0"
const HEADER_BYTES = 34;
const LITTLE_ENDIAN = endianness() === "LE";
/** The most a writer buffers before writing (8 MiB: few, large writes). */
const WRITE_BUFFER = 8 << 20;

export type TokenDtype = "int32" | "uint16";
/** Megatron DType codes: 1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 6 float64, 7 float32, 8 uint16. */
export const DTYPE_CODE: Record<TokenDtype, number> = { int32: 4, uint16: 8 };
const DTYPE_BYTES: Record<TokenDtype, number> = { int32: 4, uint16: 2 };
const DTYPE_MAX: Record<TokenDtype, number> = { int32: 0x7fffffff, uint16: 0xffff };

/** Megatron's own rule: uint16 when the vocabulary is below 65,500 ids, else int32. */
export function optimalDtype(vocabSize: number): TokenDtype {
  return vocabSize < 65500 ? "uint16" : "int32";
}

export class TokenRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenRangeError";
  }
}

/** Streams documents into `<prefix>.bin`/`.idx` under temporary names; `finish()` renames them into place
 * (.bin first, .idx last, so a present .idx always means a complete dataset). */
export class MegatronWriter {
  readonly dtype: TokenDtype;
  private fh: FileHandle | null = null;
  private readonly tmpBin: string;
  private readonly tmpIdx: string;
  private lengths = new Int32Array(1024);
  private count = 0;
  private tokens = 0;
  private buf: Buffer;
  private bufLen = 0;

  private constructor(readonly prefix: string, dtype: TokenDtype) {
    this.dtype = dtype;
    this.tmpBin = tempPathFor(prefix + ".bin");
    this.tmpIdx = tempPathFor(prefix + ".idx");
    // Grown as the file does, up to WRITE_BUFFER (add): a build writes dozens of small token files, and 8 MiB
    // each at once made V8 run full collections for the external memory alone.
    this.buf = Buffer.allocUnsafe(64 << 10);
  }

  static async create(prefix: string, dtype: TokenDtype = "int32"): Promise<MegatronWriter> {
    const w = new MegatronWriter(prefix, dtype);
    await mkdir(dirname(prefix), { recursive: true });
    w.fh = await open(w.tmpBin, "w");
    return w;
  }

  get documents(): number {
    return this.count;
  }
  get totalTokens(): number {
    return this.tokens;
  }
  documentLengths(): Int32Array {
    return this.lengths.subarray(0, this.count);
  }

  /** Append one document (one sequence). `where` names the document in a range error. */
  async add(ids: ArrayLike<number>, where = `document ${this.count}`): Promise<void> {
    const n = ids.length;
    const max = DTYPE_MAX[this.dtype];
    for (let i = 0; i < n; i++) {
      const v = ids[i];
      if (v > max || v < 0 || !Number.isInteger(v)) {
        throw new TokenRangeError(`${where}: token id ${v} does not fit dtype ${this.dtype} (0..${max}) of ${this.prefix}.bin`);
      }
    }
    if (n > 0x7fffffff) throw new TokenRangeError(`${where}: ${n} tokens is more than an int32 length allows`);
    const width = DTYPE_BYTES[this.dtype];
    const bytes = n * width;
    if (this.bufLen + bytes > this.buf.length) {
      await this.flush(); // written and awaited: the buffer is free to replace
      if (this.buf.length < WRITE_BUFFER) this.buf = Buffer.allocUnsafe(Math.min(WRITE_BUFFER, this.buf.length * 4));
    }
    if (bytes > this.buf.length) this.buf = Buffer.allocUnsafe(bytes);
    const view = this.buf;
    let o = this.bufLen;
    const start = view.byteOffset + o;
    if (LITTLE_ENDIAN && start % width === 0) {
      // Fast path: ids were range-checked above, so a typed-array copy writes the same little-endian bytes.
      if (width === 4) new Uint32Array(view.buffer, start, n).set(ids);
      else new Uint16Array(view.buffer, start, n).set(ids);
      o += bytes;
    } else if (width === 4) for (let i = 0; i < n; i++, o += 4) view.writeInt32LE(ids[i], o);
    else for (let i = 0; i < n; i++, o += 2) view.writeUInt16LE(ids[i], o);
    this.bufLen = o;
    if (this.count === this.lengths.length) {
      const g = new Int32Array(this.lengths.length * 2);
      g.set(this.lengths);
      this.lengths = g;
    }
    this.lengths[this.count++] = n;
    this.tokens += n;
  }

  private async flush(): Promise<void> {
    if (this.bufLen === 0) return;
    let off = 0;
    while (off < this.bufLen) {
      const { bytesWritten } = await this.fh!.write(this.buf, off, this.bufLen - off);
      off += bytesWritten;
    }
    this.bufLen = 0;
  }

  /** Write the index and move both files into place. */
  async finish(): Promise<{ documents: number; tokens: number }> {
    await this.flush();
    await this.fh!.sync();
    await this.fh!.close();
    this.fh = null;
    const idx = encodeIndex(this.documentLengths(), this.dtype);
    const ih = await open(this.tmpIdx, "w");
    try {
      await ih.writeFile(idx);
      await ih.sync();
    } finally {
      await ih.close();
    }
    await rename(this.tmpBin, this.prefix + ".bin");
    await rename(this.tmpIdx, this.prefix + ".idx");
    return { documents: this.count, tokens: this.tokens };
  }

  async abort(): Promise<void> {
    if (this.fh) await this.fh.close().catch(() => {});
    this.fh = null;
    await rm(this.tmpBin, { force: true });
    await rm(this.tmpIdx, { force: true });
  }
}

/** The .idx bytes for documents of the given lengths (one sequence per document). */
export function encodeIndex(lengths: Int32Array, dtype: TokenDtype): Uint8Array {
  const s = lengths.length;
  const size = HEADER_BYTES + 4 * s + 8 * s + 8 * (s + 1);
  const buf = new ArrayBuffer(size);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  u8.set(IDX_MAGIC, 0);
  dv.setBigUint64(9, 1n, true);
  dv.setUint8(17, DTYPE_CODE[dtype]);
  dv.setBigUint64(18, BigInt(s), true);
  dv.setBigUint64(26, BigInt(s + 1), true);
  let o = HEADER_BYTES;
  for (let i = 0; i < s; i++, o += 4) dv.setInt32(o, lengths[i], true);
  let ptr = 0;
  const width = DTYPE_BYTES[dtype];
  for (let i = 0; i < s; i++, o += 8) {
    dv.setBigInt64(o, BigInt(ptr), true);
    ptr += lengths[i] * width;
  }
  for (let i = 0; i <= s; i++, o += 8) dv.setBigInt64(o, BigInt(i), true);
  return u8;
}

export interface MegatronIndex {
  dtype: TokenDtype;
  dtypeCode: number;
  lengths: Int32Array;
  /** Byte offsets into .bin (as numbers: files stay far below 2^53 bytes). */
  pointers: Float64Array;
  documentIndices: Float64Array;
  tokens: number;
}

/** Parse and validate a .idx file (clear errors naming the file). */
export function readMegatronIndex(prefix: string): MegatronIndex {
  const path = prefix + ".idx";
  const data = readWhole(path);
  const where = `${path}`;
  if (data.length < HEADER_BYTES || !IDX_MAGIC.every((b, i) => data[i] === b)) {
    throw new Error(`${where}: not a Megatron index (bad magic)`);
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = dv.getBigUint64(9, true);
  if (version !== 1n) throw new Error(`${where}: unsupported index version ${version}`);
  const code = dv.getUint8(17);
  const dtype = (Object.keys(DTYPE_CODE) as TokenDtype[]).find((k) => DTYPE_CODE[k] === code);
  if (!dtype) throw new Error(`${where}: dtype code ${code} is not a token dtype this reader supports (4 int32, 8 uint16)`);
  const s = Number(dv.getBigUint64(18, true));
  const d = Number(dv.getBigUint64(26, true));
  const need = HEADER_BYTES + 4 * s + 8 * s + 8 * d;
  if (data.length < need) throw new Error(`${where}: truncated (${data.length} bytes, header promises ${need})`);
  const lengths = new Int32Array(s);
  const pointers = new Float64Array(s);
  const documentIndices = new Float64Array(d);
  let o = HEADER_BYTES;
  let tokens = 0;
  for (let i = 0; i < s; i++, o += 4) {
    lengths[i] = dv.getInt32(o, true);
    tokens += lengths[i];
  }
  for (let i = 0; i < s; i++, o += 8) pointers[i] = Number(dv.getBigInt64(o, true));
  for (let i = 0; i < d; i++, o += 8) documentIndices[i] = Number(dv.getBigInt64(o, true));
  return { dtype, dtypeCode: code, lengths, pointers, documentIndices, tokens };
}

function readWhole(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new Error(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const out = new Uint8Array(size);
    let off = 0;
    while (off < size) off += readSync(fd, out, off, size - off, off);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Random access to documents of a .bin/.idx pair. */
export class MegatronReader {
  readonly index: MegatronIndex;
  private fd: number;
  private binSize: number;
  private scratch = new Uint32Array(1024);

  constructor(readonly prefix: string) {
    this.index = readMegatronIndex(prefix);
    try {
      this.fd = openSync(prefix + ".bin", "r");
    } catch (e) {
      throw new Error(`cannot open ${prefix}.bin: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    this.binSize = fstatSync(this.fd).size;
    const width = DTYPE_BYTES[this.index.dtype];
    if (this.binSize !== this.index.tokens * width) {
      closeSync(this.fd);
      throw new Error(`${prefix}.bin has ${this.binSize} bytes, the index describes ${this.index.tokens * width}`);
    }
    // Every sequence must lie inside the .bin (a read past its end would never complete).
    const { lengths, pointers } = this.index;
    for (let i = 0; i < lengths.length; i++) {
      if (lengths[i] < 0 || pointers[i] < 0 || pointers[i] + lengths[i] * width > this.binSize) {
        closeSync(this.fd);
        throw new Error(`${prefix}.idx: sequence ${i} (byte offset ${pointers[i]}, ${lengths[i]} tokens) lies outside ${prefix}.bin (${this.binSize} bytes)`);
      }
    }
  }

  get documents(): number {
    return this.index.lengths.length;
  }

  /** Document i's ids in a buffer this reader reuses: valid until its next documentView() call. For copying
   * documents from file to file (a shuffle, a mixture), where a fresh array per document made the garbage collector
   * run full collections for the external memory alone. */
  documentView(i: number): Uint32Array {
    if (i < 0 || i >= this.documents) throw new RangeError(`document ${i} out of range (0..${this.documents - 1})`);
    const n = this.index.lengths[i];
    const width = DTYPE_BYTES[this.index.dtype];
    if (!LITTLE_ENDIAN) return this.document(i);
    if (this.scratch.length < n) this.scratch = new Uint32Array(Math.max(n, this.scratch.length * 2));
    const out = this.scratch.subarray(0, n);
    // Little-endian int32 bytes read straight into a Uint32Array are the same values document() decodes.
    const bytes = width === 4 ? new Uint8Array(out.buffer, 0, n * 4) : new Uint8Array(out.buffer, out.buffer.byteLength - n * 2, n * 2);
    let off = 0;
    while (off < bytes.length) off += readSync(this.fd, bytes, off, bytes.length - off, this.index.pointers[i] + off);
    if (width === 2) {
      // uint16 ids sit at the end of the buffer; widened front to back, no id is overwritten before it is read.
      const u16 = new Uint16Array(out.buffer, out.buffer.byteLength - n * 2, n);
      for (let k = 0; k < n; k++) out[k] = u16[k];
    }
    return out;
  }

  document(i: number): Uint32Array {
    if (i < 0 || i >= this.documents) throw new RangeError(`document ${i} out of range (0..${this.documents - 1})`);
    const n = this.index.lengths[i];
    const width = DTYPE_BYTES[this.index.dtype];
    const bytes = Buffer.allocUnsafe(n * width);
    let off = 0;
    while (off < bytes.length) off += readSync(this.fd, bytes, off, bytes.length - off, this.index.pointers[i] + off);
    const out = new Uint32Array(n);
    if (width === 4) for (let k = 0; k < n; k++) out[k] = bytes.readInt32LE(k * 4);
    else for (let k = 0; k < n; k++) out[k] = bytes.readUInt16LE(k * 2);
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
