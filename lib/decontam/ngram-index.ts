// The benchmark n-gram index: sorted 64-bit n-gram hashes, each with the benchmark item it came from, plus a
// bucket directory on the top hash bits so a lookup touches one or two entries. Built deterministically from
// benchmark items (same items ⇒ byte-identical file) and stored in a compact binary file that ships with the package.
//
// Building it from benchmark items is index-build.ts; its file layout (read and written) is index-file.ts.
//
// False positives: a 64-bit hash match without the n-gram text. With U distinct indexed hashes, a document n-gram
// that is in no benchmark matches by accident with probability about U / 2^64 (≈ 6.2e-14 for the 1.15M hashes of
// the 12 benchmarks). A 264B-token corpus has about 264e9 n-grams, so the expected number of accidental hits over the
// whole MegaMath-Web corpus is about 0.016, i.e. likely none. We therefore do not ship the benchmark text to verify.
import { readFileSync } from "node:fs";
import type { Benchmark } from "./benchmarks.js";
import type { BenchmarkInfo, ShortEntry } from "./index-types.js";
import { sharedU32, serializeIndex, parseIndex } from "./index-file.js";
import { buildIndexParts } from "./index-build.js";

export { FORMAT_VERSION } from "./index-file.js";
export { MIN_PROSE_WORDS, MIN_SHORT_ITEM_TOKENS, MIN_NOTATION_TOKENS, MIN_NOTATION_INFORMATIVE, MAX_WHOLE_TOKENS, headKey } from "./index-build.js";

export type { BenchmarkInfo, ShortEntry } from "./index-types.js";

/**
 * Key of a short entry's (lane-A hash, length) in the span filter, so a candidate span is looked up in the Map only
 * when this bit is set (about 1.5% of the 2^16 bits for the shipped 942 short entries).
 */
export function spanKey(hi: number, len: number): number {
  return (hi ^ Math.imul(len, 0x9e3779b1)) >>> 16;
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

  /** Build from benchmark items (index-build.ts). Deterministic: entries sorted by (hash, item). */
  static build(benchmarks: Benchmark[], n = 13): NgramIndex {
    const p = buildIndexParts(benchmarks, n);
    return new NgramIndex(p.n, p.benchmarks, p.keys, p.ref, p.short);
  }

  /** The binary file (index-file.ts has the layout). */
  serialize(): Uint8Array {
    return serializeIndex(this);
  }

  static parse(buf: Uint8Array, where = "index"): NgramIndex {
    const p = parseIndex(buf, where);
    return new NgramIndex(p.n, p.benchmarks, p.keys, p.ref, p.short);
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
