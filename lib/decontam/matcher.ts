// Scans documents against one or more n-gram indexes (the shipped one plus user benchmarks). A document is
// contaminated when any of its n-grams, or any short item / short question as a whole token run, is in an index.
// Every n-gram is looked up: tokens are never empty, so no n-gram "normalizes to empty" and nothing but a hit can
// end the scan early (MegaMath's filter kept the whole document when that happened).
//
// The hot loop is written out here (rolling hash, cache-resident prefilter, then the directory lookup) rather than
// through callbacks: it is where decontamination spends its time.
import * as hash from "./hash.js";

// Local copies: under tsx every access to an imported binding is a getter call (see hash.ts).
const { TokenizedText, rollingConstants } = hash;
type TokenizedText = hash.TokenizedText;
import type { NgramIndex } from "./ngram-index.js";

export interface Match {
  benchmark: string;
  itemId: string;
  /** The matched n-gram (or whole short item) as normalized tokens joined by single spaces. */
  ngram: string;
  /** Token position of the match in the document. */
  position: number;
}

export interface MatchOptions {
  /** Collect up to this many distinct (benchmark, item) matches per document; 1 = stop at the first hit. */
  maxMatches?: number;
}

export class Matcher {
  private readonly tok = new TokenizedText();
  readonly n: number;
  private readonly roll: { pa: number; pb: number; topA: number; topB: number };

  constructor(readonly indexes: NgramIndex[]) {
    if (!indexes.length) throw new Error("decontamination needs at least one index");
    this.n = indexes[0].n;
    for (const ix of indexes) {
      if (ix.n !== this.n) throw new Error(`indexes disagree on n-gram size (${ix.n} vs ${this.n})`);
    }
    this.roll = rollingConstants(this.n);
  }

  /** Matches of one document, in document order (first hit first); [] when clean. */
  match(text: string, opts: MatchOptions = {}): Match[] {
    const max = Math.max(1, opts.maxMatches ?? 1);
    const tok = this.tok.load(text);
    const found: { ix: NgramIndex; ref: number; pos: number; len: number }[] = [];
    const seen = new Set<string>();
    const record = (ix: NgramIndex, ref: number, pos: number, len: number): boolean => {
      const key = `${ix.refBench[ref]}:${ref}:${this.indexes.indexOf(ix)}`;
      if (!seen.has(key)) {
        seen.add(key);
        found.push({ ix, ref, pos, len });
      }
      return found.length >= max;
    };
    if (!this.scanNgrams(tok, record)) this.scanShort(tok, record);
    found.sort((a, b) => a.pos - b.pos);
    return found.map(({ ix, ref, pos, len }) => ({ ...ix.describe(ref), ngram: tok.tokenText(pos, pos + len), position: pos }));
  }

  /** True as soon as `record` says enough matches were found. */
  private scanNgrams(tok: TokenizedText, record: (ix: NgramIndex, ref: number, pos: number, len: number) => boolean): boolean {
    const n = this.n;
    const count = tok.count;
    if (count < n) return false;
    const A = tok.hashA;
    const B = tok.hashB;
    const { pa, pb, topA, topB } = this.roll;
    const indexes = this.indexes;
    const single = indexes.length === 1 ? indexes[0] : null;
    let ha = 0;
    let hb = 0;
    for (let j = 0; j < n; j++) {
      ha = (Math.imul(ha, pa) + A[j]) | 0;
      hb = (Math.imul(hb, pb) + B[j]) | 0;
    }
    // The common case, one index, with its tables in locals; the directory walk is inlined (see NgramIndex.find).
    if (single) {
      const filter = single.filter;
      const fshift = single.filterShift;
      const dir = single.dir;
      const dshift = single.shift;
      const keys = single.keys;
      for (let i = 0; ; i++) {
        const l = hb >>> 0;
        const mask = (1 << (ha & 31)) | (1 << ((ha >>> 5) & 31));
        if ((filter[l >>> fshift] & mask) === mask) {
          const h = ha >>> 0;
          const bucket = h >>> dshift;
          const end = dir[bucket + 1];
          for (let e = dir[bucket]; e < end; e++) {
            const x = keys[2 * e];
            if (x < h) continue;
            if (x > h) break;
            const y = keys[2 * e + 1];
            if (y < l) continue;
            if (y > l) break;
            if (this.lookup(single, h, l, i, record)) return true;
            break;
          }
        }
        if (i + n >= count) return false;
        ha = (Math.imul((ha - Math.imul(A[i], topA)) | 0, pa) + A[i + n]) | 0;
        hb = (Math.imul((hb - Math.imul(B[i], topB)) | 0, pb) + B[i + n]) | 0;
      }
    }
    for (let i = 0; ; i++) {
      const h = ha >>> 0;
      const l = hb >>> 0;
      for (let k = 0; k < indexes.length; k++) {
        const ix = indexes[k];
        const mask = (1 << (h & 31)) | (1 << ((h >>> 5) & 31));
        if ((ix.filter[l >>> ix.filterShift] & mask) === mask && this.lookup(ix, h, l, i, record)) return true;
      }
      if (i + n >= count) return false;
      ha = (Math.imul((ha - Math.imul(A[i], topA)) | 0, pa) + A[i + n]) | 0;
      hb = (Math.imul((hb - Math.imul(B[i], topB)) | 0, pb) + B[i + n]) | 0;
    }
  }

  private lookup(
    ix: NgramIndex, h: number, l: number, pos: number,
    record: (ix: NgramIndex, ref: number, pos: number, len: number) => boolean,
  ): boolean {
    let e = ix.find(h, l);
    if (e < 0) return false;
    // Several items can share an n-gram; record each.
    for (; e < ix.size && ix.keys[2 * e] === h && ix.keys[2 * e + 1] === l; e++) if (record(ix, ix.ref[e], pos, this.n)) return true;
    return false;
  }

  /** Items and questions shorter than n tokens are indexed whole; look for them as contiguous token runs. */
  private scanShort(tok: TokenizedText, record: (ix: NgramIndex, ref: number, pos: number, len: number) => boolean): void {
    const count = tok.count;
    const A = tok.hashA;
    const B = tok.hashB;
    const { pa, pb } = this.roll;
    for (const ix of this.indexes) {
      const maxLen = ix.shortMaxLen;
      if (!maxLen) continue;
      const head = ix.shortHead;
      const byLen = ix.shortByLength;
      for (let i = 0; i + 1 < count; i++) {
        const key = (A[i] ^ Math.imul(A[i + 1], 0x27d4eb2d)) >>> 16;
        if (!(head[key >>> 3] & (1 << (key & 7)))) continue;
        // A candidate start: extend the span one token at a time and check each indexed length.
        let ha = 0;
        let hb = 0;
        for (let len = 1; len <= maxLen && i + len <= count; len++) {
          ha = (Math.imul(ha, pa) + A[i + len - 1]) | 0;
          hb = (Math.imul(hb, pb) + B[i + len - 1]) | 0;
          const list = byLen[len]?.get(ha >>> 0);
          if (!list) continue;
          for (const e of list) if (e.lo === hb >>> 0 && record(ix, e.ref, i, len)) return;
        }
      }
    }
  }
}
