// The binary file format every dedup stage hands to the next: a checksummed, atomically written run of
// fixed-width little-endian uint32 records with a JSON header.
//
//   "MMDEDUP\n" | u32 format version | u32 header length L | L bytes of JSON (space-padded to 4) |
//   records (header.width u32 words each) | u32 count lo | u32 count hi | sha256 of all preceding bytes
//
// A file only ever appears under its final name complete (temp name + fsync + rename), and the trailer makes a
// truncated or corrupted copy detectable: corrupt signature files are datatrove's most reported dedup failure.
import { open, rm, stat, type FileHandle } from "node:fs/promises";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { createHash, type Hash } from "node:crypto";
import { endianness } from "node:os";
import { tempPathFor, commitFile } from "../io/atomic.js";
import { DEDUP_FORMAT_VERSION } from "./params.js";

const MAGIC = Buffer.from("MMDEDUP\n", "ascii");
const TRAILER_BYTES = 8 + 32;

if (endianness() !== "LE") throw new Error("megamath dedup files are little-endian; this machine is big-endian");

export interface RecordHeader {
  /** What the file holds, e.g. "signatures", "pairs", "dups", "priorities". */
  kind: string;
  /** u32 words per record. */
  width: number;
  [key: string]: unknown;
}

/** An intermediate file that is truncated, corrupted, of another version, or otherwise unusable. */
export class CorruptFileError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = "CorruptFileError";
  }
}

function headerBytes(header: RecordHeader): Buffer {
  let json = JSON.stringify(header);
  while (Buffer.byteLength(json) % 4 !== 0) json += " ";
  const body = Buffer.from(json, "utf8");
  const pre = Buffer.alloc(16);
  MAGIC.copy(pre, 0);
  pre.writeUInt32LE(DEDUP_FORMAT_VERSION, 8);
  pre.writeUInt32LE(body.length, 12);
  return Buffer.concat([pre, body]);
}

function countBytes(records: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(records % 0x100000000, 0);
  b.writeUInt32LE(Math.floor(records / 0x100000000), 4);
  return b;
}

/** Streams records to a temp file; `close()` adds the trailer, fsyncs and renames to the final path. */
export class RecordFileWriter {
  private buf: Uint32Array;
  private used = 0;
  private records = 0;
  private hash: Hash = createHash("sha256");
  private constructor(
    private readonly fh: FileHandle,
    private readonly tmp: string,
    readonly path: string,
    readonly width: number,
    bufferWords = 1 << 18,
  ) {
    this.buf = new Uint32Array(Math.max(width, bufferWords - (bufferWords % width)));
  }

  /** `bufferWords`: the write buffer (default 1 MiB); a writer fed only whole buffers by `append` needs none. */
  static async create(path: string, header: RecordHeader, bufferWords?: number): Promise<RecordFileWriter> {
    if (!Number.isInteger(header.width) || header.width < 1) throw new Error(`bad record width ${header.width}`);
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempPathFor(path);
    const fh = await open(tmp, "w");
    const w = new RecordFileWriter(fh, tmp, path, header.width, bufferWords);
    await w.writeRaw(headerBytes(header));
    return w;
  }

  private async writeRaw(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
  }

  /** Append whole records (words.length must be a multiple of the width). */
  async append(words: Uint32Array): Promise<void> {
    if (words.length % this.width !== 0) throw new Error(`append of ${words.length} words, width ${this.width}`);
    this.records += words.length / this.width;
    if (words.length >= this.buf.length) {
      await this.flush();
      await this.writeRaw(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
      return;
    }
    if (this.used + words.length > this.buf.length) await this.flush();
    this.buf.set(words, this.used);
    this.used += words.length;
  }

  /** Append one record given as separate words (hot path of the merge stages). */
  async push4(a: number, b: number, c: number, d: number): Promise<void> {
    if (this.used + 4 > this.buf.length) await this.flush();
    const u = this.used;
    this.buf[u] = a;
    this.buf[u + 1] = b;
    this.buf[u + 2] = c;
    this.buf[u + 3] = d;
    this.used = u + 4;
    this.records++;
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.writeRaw(new Uint8Array(this.buf.buffer, 0, this.used * 4));
    this.used = 0;
  }

  get count(): number {
    return this.records;
  }

  /** Finish: trailer, fsync, rename. Returns the record count and the file's checksum. */
  async close(): Promise<{ records: number; sha256: string }> {
    try {
      await this.flush();
      await this.writeRaw(countBytes(this.records));
      const digest = this.hash.digest();
      await this.fh.write(digest);
      await this.fh.sync();
      await this.fh.close();
      await commitFile(this.tmp, this.path);
      return { records: this.records, sha256: digest.toString("hex") };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await rm(this.tmp, { force: true });
  }
}

/** Write a whole record array in one go. */
export async function writeRecordFile(path: string, header: RecordHeader, words: Uint32Array):
Promise<{ records: number; sha256: string }> {
  const w = await RecordFileWriter.create(path, header);
  try {
    await w.append(words);
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.close();
}

export interface RecordFileInfo {
  header: RecordHeader;
  records: number;
  /** Byte offset of the first record. */
  dataOffset: number;
  size: number;
}

/** Read and check the header and the length (catches truncated files) without reading the records. */
export async function readRecordHeader(path: string, expectKind?: string): Promise<RecordFileInfo> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new CorruptFileError(path, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = (await fh.stat()).size;
    if (size < 16 + TRAILER_BYTES) throw new CorruptFileError(path, `truncated (${size} bytes)`);
    const pre = Buffer.alloc(16);
    await fh.read(pre, 0, 16, 0);
    if (!pre.subarray(0, 8).equals(MAGIC)) throw new CorruptFileError(path, "not a megamath dedup file (bad magic)");
    const version = pre.readUInt32LE(8);
    if (version !== DEDUP_FORMAT_VERSION) {
      throw new CorruptFileError(path, `format version ${version}, this megamath writes ${DEDUP_FORMAT_VERSION}`);
    }
    const hlen = pre.readUInt32LE(12);
    if (16 + hlen + TRAILER_BYTES > size) throw new CorruptFileError(path, "truncated inside the header");
    const hb = Buffer.alloc(hlen);
    await fh.read(hb, 0, hlen, 16);
    let header: RecordHeader;
    try {
      header = JSON.parse(hb.toString("utf8"));
    } catch {
      throw new CorruptFileError(path, "header is not valid JSON");
    }
    if (expectKind && header.kind !== expectKind) {
      throw new CorruptFileError(path, `holds "${header.kind}" records, expected "${expectKind}"`);
    }
    const dataOffset = 16 + hlen;
    const cb = Buffer.alloc(8);
    await fh.read(cb, 0, 8, size - TRAILER_BYTES);
    const records = cb.readUInt32LE(0) + cb.readUInt32LE(4) * 0x100000000;
    const expectSize = dataOffset + records * header.width * 4 + TRAILER_BYTES;
    if (expectSize !== size) {
      throw new CorruptFileError(path, `truncated or padded: ${size} bytes, header and trailer say ${expectSize}`);
    }
    return { header, records, dataOffset, size };
  } finally {
    await fh.close();
  }
}

/** Stream the records of a file in chunks, verifying the checksum at the end (throws CorruptFileError). */
export async function* readRecordChunks(path: string, expectKind?: string, chunkRecords = 65536):
AsyncGenerator<Uint32Array, void, void> {
  const info = await readRecordHeader(path, expectKind);
  const width = info.header.width;
  const fh = await open(path, "r");
  try {
    const hash = createHash("sha256");
    const pre = Buffer.alloc(info.dataOffset);
    await fh.read(pre, 0, info.dataOffset, 0);
    hash.update(pre);
    let left = info.records;
    let pos = info.dataOffset;
    while (left > 0) {
      const n = Math.min(left, chunkRecords);
      const bytes = new Uint8Array(n * width * 4);
      let got = 0;
      while (got < bytes.length) {
        const { bytesRead } = await fh.read(bytes, got, bytes.length - got, pos + got);
        if (bytesRead === 0) throw new CorruptFileError(path, "file shrank while being read");
        got += bytesRead;
      }
      hash.update(bytes);
      pos += bytes.length;
      left -= n;
      if (left === 0) await checkTrailer(fh, path, hash, pos);
      yield new Uint32Array(bytes.buffer);
    }
    if (info.records === 0) await checkTrailer(fh, path, hash, pos);
  } finally {
    await fh.close();
  }
}

async function checkTrailer(fh: FileHandle, path: string, hash: Hash, pos: number): Promise<void> {
  const tr = Buffer.alloc(TRAILER_BYTES);
  await fh.read(tr, 0, TRAILER_BYTES, pos);
  hash.update(tr.subarray(0, 8));
  if (!hash.digest().equals(tr.subarray(8))) throw new CorruptFileError(path, "checksum mismatch (corrupted file)");
}

/** Read a whole (small) record file, checksum verified. */
export async function readRecordFile(path: string, expectKind?: string): Promise<{ header: RecordHeader; data: Uint32Array }> {
  const info = await readRecordHeader(path, expectKind);
  const data = new Uint32Array(info.records * info.header.width);
  let at = 0;
  for await (const chunk of readRecordChunks(path, expectKind, 1 << 20)) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return { header: info.header, data };
}

/** Full check of a file (header, length, checksum). Returns its header and record count. */
export async function verifyRecordFile(path: string, expectKind?: string): Promise<RecordFileInfo> {
  const info = await readRecordHeader(path, expectKind);
  for await (const _ of readRecordChunks(path, expectKind, 1 << 18)) void _;
  return info;
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
