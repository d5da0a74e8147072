// The benchmark n-gram index: sorted 64-bit n-gram hashes, each with the benchmark item it came from, plus a
// bucket directory on the top hash bits so a lookup touches one or two entries. Built deterministically from
// benchmark items (same items ⇒ byte-identical file) and stored in a compact binary file that ships with the package.
//
// File layout (little-endian):
//   "MMDECONT" | u32 format version | u32 header length | header JSON (utf-8) | body
//   body = N varint deltas of the high lanes | N raw u32 low lanes | N varint item refs
// The header records the normalization and hash ids (checked at load), n, the benchmarks (name, source file, item
// count, item ids unless they are just row numbers), and the short items (fewer than n tokens, matched whole).
//
// False positives: a 64-bit hash match without the n-gram text. With U distinct indexed hashes, a document n-gram
// that is in no benchmark matches by accident with probability about U / 2^64 (≈ 6.2e-14 for the 1.15M hashes of
// the 12 benchmarks). A 264B-token corpus has about 264e9 n-grams, so the expected number of accidental hits over the
// whole MegaMath-Web corpus is about 0.016, i.e. likely none. We therefore do not ship the benchmark text to verify.
import { readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { NORMALIZATION_ID } from "./normalize.js";
import { HASH_ID, TokenizedText, forEachNgram, hashSpan } from "./hash.js";
import type { Benchmark } from "./benchmarks.js";

export const FORMAT_VERSION = 1;
const MAGIC = "MMDECONT";
/**
 * An n-gram needs this many prose words (letter tokens of 2+ characters that are not LaTeX command names) to be
 * indexed. Pure notation — "x 8 x 7 x 6 …" polynomial runs, identity matrices, runs of 1s — recurs across unrelated
 * math texts and identifies no benchmark item: on the peer corpus all 16 non-planted hits were of this kind.
 */
export const MIN_PROSE_WORDS = 3;
/** Items shorter than this many tokens are too generic to match whole ("what is 2 + 3") and are skipped. */
export const MIN_SHORT_ITEM_TOKENS = 8;

export interface BenchmarkInfo {
  name: string;
  source: string;
  items: number;
  /** Item ids; absent when they are the row numbers 0..items-1. */
  ids?: string[];
  /** Index entries (distinct n-gram, item pairs) contributed. */
  ngrams: number;
  /** N-grams not indexed because they have fewer than MIN_PROSE_WORDS prose words (pure notation). */
  notationNgrams: number;
  /** Items of n+ tokens left with no indexed n-gram (all notation); they can only match via their query. */
  itemsWithoutNgrams: number;
  /** Items shorter than n tokens indexed whole, and items skipped for having fewer than MIN_SHORT_ITEM_TOKENS. */
  shortIndexed: number;
  shortSkipped: number;
}

export interface ShortEntry {
  len: number;
  hi: number;
  lo: number;
  ref: number;
  /** Prefilter key of the first two tokens (see headKey). */
  head: number;
}

/** Key of the token pair starting a short entry; a document position is a candidate only when its pair matches. */
export function headKey(a0: number, a1: number): number {
  return (a0 ^ Math.imul(a1, 0x27d4eb2d)) >>> 16;
}

/**
 * Key of a short entry's (lane-A hash, length) in the span filter, so a candidate span is looked up in the Map only
 * when this bit is set (about 1.5% of the 2^16 bits for the shipped 942 short entries).
 */
export function spanKey(hi: number, len: number): number {
  return (hi ^ Math.imul(len, 0x9e3779b1)) >>> 16;
}

interface Header {
  normalization: string;
  hash: string;
  n: number;
  entries: number;
  benchmarks: BenchmarkInfo[];
  short: ShortEntry[];
  compressed: boolean;
}

export interface SharedIndex {
  n: number;
  benchmarks: BenchmarkInfo[];
  short: ShortEntry[];
  keys: Uint32Array;
  ref: Uint32Array;
  dir: Uint32Array;
  filter: Uint32Array;
  filter2: Uint32Array;
}

/**
 * The three bits an entry sets in its prefilter word, from the low 15 bits of the other lane (matcher.ts inlines the
 * same expression in its hot loop).
 */
export function filterMask(x: number): number {
  return (1 << (x & 31)) | (1 << ((x >>> 5) & 31)) | (1 << ((x >>> 10) & 31));
}

/** A Uint32Array on a SharedArrayBuffer, so worker threads can read it without a copy. */
function sharedU32(n: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(4 * n));
}

export interface ItemRef {
  benchmark: string;
  itemId: string;
}

export class NgramIndex {
  readonly dir: Uint32Array;
  readonly keys: Uint32Array;
  readonly shift: number;
  /** Global item ref → benchmark number. */
  readonly refBench: Uint16Array;
  private readonly refBase: number[];
  /**
   * Prefilter, two blocked Bloom filters, because a document n-gram costs one memory read here and the tables must
   * stay near the CPU. The first, 512 KB for the 12 benchmarks (~8 entries per 32-bit word), fits this machine's
   * 1 MB L2: the low lane's top bits pick a word, three bits of the high lane are tested; about 15% of document
   * n-grams pass. Those are tested in the second, 1 MB, indexed the other way round (high lane's top bits, low lane's
   * bits); about 1% of the first's passes go on to the directory. Measured against one 1 MB filter (5% to the
   * directory): about 12% less CPU for the whole match on the bench corpus.
   */
  readonly filter: Uint32Array;
  readonly filterShift: number;
  readonly filter2: Uint32Array;
  readonly filter2Shift: number;
  /** Whole-item entries: a 2^16-bit prefilter on their first token pair, and the entries by length then hi lane. */
  readonly shortHead: Uint8Array;
  readonly shortSpans: Uint8Array;
  readonly shortByLength: (Map<number, ShortEntry[]> | undefined)[];
  readonly shortMinLen: number;
  readonly shortMaxLen: number;

  /**
   * `keys` holds the sorted (hi, lo) hash pairs side by side, so checking an entry touches one cache line, not two
   * arrays. `tables` (directory and prefilter) are passed when they were already computed (shared with a worker).
   */
  constructor(
    readonly n: number,
    readonly benchmarks: BenchmarkInfo[],
    keys: Uint32Array,
    readonly ref: Uint32Array,
    readonly short: ShortEntry[],
    tables?: { dir: Uint32Array; filter: Uint32Array; filter2: Uint32Array },
  ) {
    const N = ref.length;
    if (keys.length !== 2 * N) throw new Error(`index: ${keys.length / 2} hashes but ${N} item refs`);
    this.keys = keys;
    // About 4 entries per directory bucket: a bucket's pairs share a cache line, and the directory stays small.
    const bits = Math.min(22, Math.max(4, Math.ceil(Math.log2(Math.max(2, N))) - 2));
    this.shift = 32 - bits;
    // First filter: one 32-bit word per ~8 entries (4 bits per entry); the second has twice as many words.
    const wbits = Math.min(23, Math.max(5, Math.ceil(Math.log2(Math.max(2, N))) - 3));
    this.filterShift = 32 - wbits;
    this.filter2Shift = 31 - wbits;
    if (tables) {
      this.dir = tables.dir;
      this.filter = tables.filter;
      this.filter2 = tables.filter2;
    } else {
      this.dir = sharedU32((1 << bits) + 1);
      let e = 0;
      for (let b = 0; b <= 1 << bits; b++) {
        while (e < N && keys[2 * e] >>> this.shift < b) e++;
        this.dir[b] = e;
      }
      this.filter = sharedU32(1 << wbits);
      this.filter2 = sharedU32(2 << wbits);
      for (let i = 0; i < N; i++) {
        const h = keys[2 * i];
        const l = keys[2 * i + 1];
        this.filter[l >>> this.filterShift] |= filterMask(h);
        this.filter2[h >>> this.filter2Shift] |= filterMask(l);
      }
    }
    let total = 0;
    this.refBase = [];
    for (const b of benchmarks) {
      this.refBase.push(total);
      total += b.items;
    }
    this.refBench = new Uint16Array(total);
    benchmarks.forEach((b, k) => this.refBench.fill(k, this.refBase[k], this.refBase[k] + b.items));
    this.shortHead = new Uint8Array(8192);
    this.shortSpans = new Uint8Array(8192);
    this.shortByLength = [];
    this.shortMaxLen = 0;
    this.shortMinLen = short.length ? Infinity : 0;
    for (const e of short) {
      this.shortHead[e.head >>> 3] |= 1 << (e.head & 7);
      const sk = spanKey(e.hi, e.len);
      this.shortSpans[sk >>> 3] |= 1 << (sk & 7);
      this.shortMinLen = Math.min(this.shortMinLen, e.len);
      const m = (this.shortByLength[e.len] ??= new Map());
      const list = m.get(e.hi);
      if (list) list.push(e);
      else m.set(e.hi, [e]);
      this.shortMaxLen = Math.max(this.shortMaxLen, e.len);
    }
  }

  get size(): number {
    return this.ref.length;
  }

  hiAt(i: number): number {
    return this.keys[2 * i];
  }

  loAt(i: number): number {
    return this.keys[2 * i + 1];
  }

  /** Everything a worker thread needs, with the large arrays on shared memory (no copy, no re-parse). */
  toShared(): SharedIndex {
    return { n: this.n, benchmarks: this.benchmarks, short: this.short, keys: this.keys, ref: this.ref, dir: this.dir, filter: this.filter,
      filter2: this.filter2 };
  }

  static fromShared(p: SharedIndex): NgramIndex {
    return new NgramIndex(p.n, p.benchmarks, p.keys, p.ref, p.short, { dir: p.dir, filter: p.filter, filter2: p.filter2 });
  }

  /** Whether (h, l) passes both prefilters (the multi-index path; the one-index loop in matcher.ts inlines it). */
  mayContain(h: number, l: number): boolean {
    const m1 = filterMask(h);
    if ((this.filter[l >>> this.filterShift] & m1) !== m1) return false;
    const m2 = filterMask(l);
    return (this.filter2[h >>> this.filter2Shift] & m2) === m2;
  }

  /** Index of the first entry with this hash, or -1. Entries with the same hash (several items) follow it. */
  find(h: number, l: number): number {
    const b = h >>> this.shift;
    const end = this.dir[b + 1];
    const keys = this.keys;
    for (let i = this.dir[b]; i < end; i++) {
      const x = keys[2 * i];
      if (x === h) {
        const y = keys[2 * i + 1];
        if (y === l) return i;
        if (y > l) return -1;
      } else if (x > h) return -1;
    }
    return -1;
  }

  describe(ref: number): ItemRef {
    const k = this.refBench[ref];
    const b = this.benchmarks[k];
    const i = ref - this.refBase[k];
    return { benchmark: b.name, itemId: b.ids ? b.ids[i] : String(i) };
  }

  /** Build from benchmark items. Deterministic: entries sorted by (hash, item). */
  static build(benchmarks: Benchmark[], n = 13): NgramIndex {
    const tok = new TokenizedText();
    let his: number[] = [];
    let los: number[] = [];
    let refs: number[] = [];
    const short: ShortEntry[] = [];
    const shortSeen = new Set<string>();
    const infos: BenchmarkInfo[] = [];
    const names = new Set<string>();
    let ref = 0;
    const proseSum = (from: number, len: number): number => {
      let p = 0;
      for (let j = from; j < from + len; j++) p += tok.prose[j];
      return p;
    };
    // A whole item or query shorter than n tokens: indexed as one span when specific enough.
    const addShort = (text: string, r: number): "indexed" | "skipped" | "long" => {
      tok.load(text);
      if (tok.count >= n) return "long";
      if (tok.count < MIN_SHORT_ITEM_TOKENS || proseSum(0, tok.count) < MIN_PROSE_WORDS) return "skipped";
      const [h, l] = hashSpan(tok, 0, tok.count);
      const key = `${tok.count}:${h}:${l}:${r}`;
      if (!shortSeen.has(key)) {
        shortSeen.add(key);
        short.push({ len: tok.count, hi: h, lo: l, ref: r, head: headKey(tok.hashA[0], tok.hashA[1]) });
      }
      return "indexed";
    };
    for (const b of benchmarks) {
      if (names.has(b.name)) throw new Error(`benchmark "${b.name}" given twice`);
      names.add(b.name);
      let shortIndexed = 0;
      let shortSkipped = 0;
      let notation = 0;
      let noNgrams = 0;
      for (const item of b.items) {
        let pushed = 0;
        let longest = 0;
        let longestText = "";
        for (const text of item.texts) {
          tok.load(text);
          if (tok.count > longest) {
            longest = tok.count;
            longestText = text;
          }
          // Rolling count of prose words in the window.
          let prose = 0;
          for (let j = 0; j < Math.min(n, tok.count); j++) prose += tok.prose[j];
          forEachNgram(tok, n, (h, l, pos) => {
            if (pos > 0) prose += tok.prose[pos + n - 1] - tok.prose[pos - 1];
            if (prose < MIN_PROSE_WORDS) {
              notation++;
              return;
            }
            // Repeats within an item are removed after sorting (exactly, on both lanes).
            pushed++;
            his.push(h);
            los.push(l);
            refs.push(ref);
          });
        }
        if (longest < n) {
          if (addShort(longestText, ref) === "indexed") shortIndexed++;
          else shortSkipped++;
        } else if (item.query) {
          if (addShort(item.query, ref) === "indexed") shortIndexed++;
        }
        if (!pushed && longest >= n) noNgrams++;
        ref++;
      }
      const ids = b.items.map((it) => it.id);
      const plain = ids.every((id, i) => id === String(i));
      infos.push({
        name: b.name, source: b.source, items: b.items.length, ...(plain ? {} : { ids }), ngrams: 0,
        notationNgrams: notation, itemsWithoutNgrams: noNgrams, shortIndexed, shortSkipped,
      });
    }
    const order = Array.from({ length: his.length }, (_, i) => i);
    order.sort((a, b) => his[a] - his[b] || los[a] - los[b] || refs[a] - refs[b]);
    // Drop exact (hash, item) repeats that the per-item double key could conflate (kept sorted and unique).
    const keep = order.filter((i, k) => k === 0 || his[i] !== his[order[k - 1]] || los[i] !== los[order[k - 1]] || refs[i] !== refs[order[k - 1]]);
    const keys = sharedU32(2 * keep.length);
    const rf = sharedU32(keep.length);
    keep.forEach((i, k) => {
      keys[2 * k] = his[i];
      keys[2 * k + 1] = los[i];
      rf[k] = refs[i];
    });
    his = los = refs = [];
    const ix = new NgramIndex(n, infos, keys, rf, []);
    for (let i = 0; i < rf.length; i++) infos[ix.refBench[rf[i]]].ngrams++;
    short.sort((a, b) => a.len - b.len || a.hi - b.hi || a.lo - b.lo || a.ref - b.ref);
    return new NgramIndex(n, infos, keys, rf, short);
  }

  /** The binary file (see the layout at the top). The body is gzipped: the item refs and deltas compress. */
  serialize(): Uint8Array {
    const N = this.ref.length;
    const varints = new VarintWriter(N * 6);
    let prev = 0;
    for (let i = 0; i < N; i++) {
      varints.write(this.keys[2 * i] - prev);
      prev = this.keys[2 * i];
    }
    const deltas = varints.bytes();
    const refsW = new VarintWriter(N * 3);
    for (let i = 0; i < N; i++) refsW.write(this.ref[i]);
    const refs = refsW.bytes();
    const lo = new Uint8Array(N * 4);
    const dv = new DataView(lo.buffer);
    for (let i = 0; i < N; i++) dv.setUint32(i * 4, this.keys[2 * i + 1], true);
    const body = gzipSync(concat([u32(deltas.length), deltas, lo, refs]), { level: 9 });
    const header: Header = {
      normalization: NORMALIZATION_ID, hash: HASH_ID, n: this.n, entries: N, benchmarks: this.benchmarks,
      short: this.short, compressed: true,
    };
    const hj = new TextEncoder().encode(JSON.stringify(header));
    return concat([new TextEncoder().encode(MAGIC), u32(FORMAT_VERSION), u32(hj.length), hj, body]);
  }

  static parse(buf: Uint8Array, where = "index"): NgramIndex {
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
    return new NgramIndex(header.n, header.benchmarks, keys, ref, header.short);
  }

  static load(path: string): NgramIndex {
    let buf: Uint8Array;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read decontamination index ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return NgramIndex.parse(buf, path);
  }
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
