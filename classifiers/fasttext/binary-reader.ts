// Sequential little-endian reader over a file descriptor. It never holds the whole file: small fields come out of a
// refillable window, and big blocks (weight matrices) are read straight into their destination in chunks, because
// one read (and Node's readFile) cannot exceed 2 GiB and a MegaMath-sized model is 2.5 GB.
import { readSync, fstatSync } from "node:fs";
import { FastTextModelError } from "./errors.js";

const WINDOW = 1 << 20;
const BULK_CHUNK = 256 << 20;

export class BinaryReader {
  private buf = Buffer.alloc(WINDOW);
  private start = 0; // window covers file bytes [fileOffset, fileOffset + end)
  private end = 0;
  private fileOffset = 0;
  readonly size: number;

  constructor(
    private readonly fd: number,
    readonly file: string,
  ) {
    this.size = fstatSync(fd).size;
  }

  /** File offset of the next byte to be read. */
  get offset(): number {
    return this.fileOffset + this.start;
  }

  get remaining(): number {
    return this.size - this.offset;
  }

  fail(message: string): never {
    throw new FastTextModelError(this.file, `${message} (at byte ${this.offset} of ${this.size})`);
  }

  /** Make at least n bytes available in the window (growing it for long strings). */
  private need(n: number, what: string): void {
    if (this.end - this.start >= n) return;
    if (this.remaining < n) this.fail(`file is truncated: needed ${n} more bytes for ${what}, ${this.remaining} left`);
    const keep = this.end - this.start;
    if (n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(n, this.buf.length * 2));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else {
      this.buf.copy(this.buf, 0, this.start, this.end);
    }
    this.fileOffset += this.start;
    this.start = 0;
    this.end = keep;
    while (this.end < n) {
      const want = Math.min(this.buf.length - this.end, this.size - (this.fileOffset + this.end));
      const got = readSync(this.fd, this.buf, this.end, want, this.fileOffset + this.end);
      if (got <= 0) this.fail(`file is truncated while reading ${what}`);
      this.end += got;
    }
  }

  int32(what: string): number {
    this.need(4, what);
    const v = this.buf.readInt32LE(this.start);
    this.start += 4;
    return v;
  }

  /** An int64 as a JS number; fails if it does not fit in 53 bits (no real model has such sizes). */
  int64(what: string): number {
    this.need(8, what);
    const v = this.buf.readBigInt64LE(this.start);
    this.start += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(`${what} out of range: ${v}`);
    return Number(v);
  }

  float64(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleLE(this.start);
    this.start += 8;
    return v;
  }

  uint8(what: string): number {
    this.need(1, what);
    return this.buf[this.start++]!;
  }

  int8(what: string): number {
    this.need(1, what);
    return this.buf.readInt8(this.start++);
  }

  /** Bytes up to (not including) the next NUL; the NUL is consumed. */
  cstring(what: string): Uint8Array {
    for (;;) {
      const nul = this.buf.indexOf(0, this.start);
      if (nul >= 0 && nul < this.end) {
        const out = new Uint8Array(this.buf.subarray(this.start, nul)); // a copy: the window gets reused
        this.start = nul + 1;
        return out;
      }
      const have = this.end - this.start;
      if (this.remaining <= have) this.fail(`file is truncated inside ${what} (no terminating NUL)`);
      this.need(have + 1, what);
    }
  }

  /** Fill `dest` with the next dest.byteLength bytes of the file, whatever its size. */
  readInto(dest: Uint8Array, what: string): void {
    const n = dest.byteLength;
    if (this.remaining < n) this.fail(`file is truncated: ${what} needs ${n} bytes, only ${this.remaining} left`);
    let done = 0;
    const buffered = Math.min(this.end - this.start, n);
    dest.set(this.buf.subarray(this.start, this.start + buffered), 0);
    this.start += buffered;
    done = buffered;
    // Anything beyond the window comes straight from the file.
    let pos = this.offset;
    while (done < n) {
      const want = Math.min(BULK_CHUNK, n - done);
      const got = readSync(this.fd, dest, done, want, pos);
      if (got <= 0) this.fail(`file is truncated while reading ${what}`);
      done += got;
      pos += got;
    }
    // Drop the window and continue after the block.
    this.fileOffset = pos;
    this.start = 0;
    this.end = 0;
  }
}
