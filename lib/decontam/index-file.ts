// The decontamination index's file (NgramIndex.serialize / NgramIndex.parse), little-endian:
//   "MMDECONT" | u32 format version | u32 header length | header JSON (utf-8) | body
//   body (gzipped) = u32 length of the deltas | N varint deltas of the high lanes | N raw u32 low lanes | N varint item refs
// The header records the normalization and hash ids (checked at load), n, the benchmarks and the whole-item entries.
import { gunzipSync, gzipSync } from "node:zlib";
import { NORMALIZATION_ID } from "./normalize.js";
import { HASH_ID } from "./hash.js";
import type { BenchmarkInfo, ShortEntry } from "./index-types.js";

export const FORMAT_VERSION = 1;
const MAGIC = "MMDECONT";

/** What an index is made of: sorted (hi, lo) hash pairs side by side, their item refs, and the whole-item entries. */
export interface IndexParts {
  n: number;
  benchmarks: BenchmarkInfo[];
  keys: Uint32Array;
  ref: Uint32Array;
  short: ShortEntry[];
}

export interface Header {
  normalization: string;
  hash: string;
  n: number;
  entries: number;
  benchmarks: BenchmarkInfo[];
  short: ShortEntry[];
  compressed: boolean;
}

/** A Uint32Array on a SharedArrayBuffer, so worker threads can read it without a copy. */
export function sharedU32(n: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(4 * n));
}

/** The binary file (see the layout at the top). The body is gzipped: the item refs and deltas compress. */
export function serializeIndex(ix: IndexParts): Uint8Array {
  const N = ix.ref.length;
  const varints = new VarintWriter(N * 6);
  let prev = 0;
  for (let i = 0; i < N; i++) {
    varints.write(ix.keys[2 * i] - prev);
    prev = ix.keys[2 * i];
  }
  const deltas = varints.bytes();
  const refsW = new VarintWriter(N * 3);
  for (let i = 0; i < N; i++) refsW.write(ix.ref[i]);
  const refs = refsW.bytes();
  const lo = new Uint8Array(N * 4);
  const dv = new DataView(lo.buffer);
  for (let i = 0; i < N; i++) dv.setUint32(i * 4, ix.keys[2 * i + 1], true);
  const body = gzipSync(concat([u32(deltas.length), deltas, lo, refs]), { level: 9 });
  const header: Header = {
    normalization: NORMALIZATION_ID, hash: HASH_ID, n: ix.n, entries: N, benchmarks: ix.benchmarks,
    short: ix.short, compressed: true,
  };
  const hj = new TextEncoder().encode(JSON.stringify(header));
  return concat([new TextEncoder().encode(MAGIC), u32(FORMAT_VERSION), u32(hj.length), hj, body]);
}

/** The header alone (n, benchmarks, whole-item entries), checked as parseIndex checks it, without unpacking the
 * body: what a dataset card needs to name the benchmarks costs no gunzip and no hash table. */
export function readIndexHeader(buf: Uint8Array, where = "index"): Header & { headerEnd: number } {
  const magic = new TextDecoder().decode(buf.subarray(0, 8));
  if (magic !== MAGIC) throw new Error(`${where}: not a megamath decontamination index (bad magic)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== FORMAT_VERSION) throw new Error(`${where}: index format ${version}, this megamath reads ${FORMAT_VERSION}`);
  const hlen = dv.getUint32(12, true);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(16, 16 + hlen)));
  } catch {
    throw new Error(`${where}: corrupt index header`);
  }
  if (header.normalization !== NORMALIZATION_ID || header.hash !== HASH_ID) {
    throw new Error(
      `${where}: built with normalization ${header.normalization} / hash ${header.hash}; this megamath uses ` +
        `${NORMALIZATION_ID} / ${HASH_ID}. Rebuild it with 'megamath decontaminate --build-index'.`,
    );
  }
  return { ...header, headerEnd: 16 + hlen };
}

export function parseIndex(buf: Uint8Array, where = "index"): IndexParts {
  const header = readIndexHeader(buf, where);
  const hlen = header.headerEnd - 16;
  let body: Uint8Array;
  try {
    body = header.compressed ? gunzipSync(buf.subarray(16 + hlen)) : buf.subarray(16 + hlen);
  } catch (e) {
    throw new Error(`${where}: corrupt or truncated index body (${(e as Error).message})`);
  }
  const N = header.entries;
  const bdv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const dlen = bdv.getUint32(0, true);
  if (4 + dlen + N * 4 > body.length) throw new Error(`${where}: truncated index body`);
  const keys = sharedU32(2 * N);
  let p = 4;
  let acc = 0;
  for (let i = 0; i < N; i++) {
    let v = 0;
    let mul = 1;
    let b: number;
    do {
      b = body[p++];
      v += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    acc += v;
    keys[2 * i] = acc;
  }
  if (p !== 4 + dlen) throw new Error(`${where}: corrupt index body (hash section length)`);
  for (let i = 0; i < N; i++) keys[2 * i + 1] = bdv.getUint32(p + i * 4, true);
  p += N * 4;
  const ref = sharedU32(N);
  for (let i = 0; i < N; i++) {
    let v = 0;
    let mul = 1;
    let b: number;
    do {
      if (p >= body.length) throw new Error(`${where}: truncated index body (item refs)`);
      b = body[p++];
      v += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    ref[i] = v;
  }
  return { n: header.n, benchmarks: header.benchmarks, keys, ref, short: header.short };
}

class VarintWriter {
  private buf: Uint8Array;
  private p = 0;
  constructor(cap: number) {
    this.buf = new Uint8Array(Math.max(16, cap));
  }
  write(v: number): void {
    if (this.p + 10 > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    while (v >= 128) {
      this.buf[this.p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.p++] = v;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.p);
  }
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
