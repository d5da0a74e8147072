// Scans documents against one or more n-gram indexes (the shipped one plus user benchmarks). A document is
// contaminated when any of its n-grams, or any short item / short question as a whole token run, is in an index.
// Every n-gram is looked up: tokens are never empty, so no n-gram "normalizes to empty" and nothing but a hit can
// end the scan early (MegaMath's filter kept the whole document when that happened).
//
// The hot loop is written out here (rolling hash, two cache-sized prefilters, then the directory lookup) rather than
// through callbacks: it is where decontamination spends its time, with the tokenizer (hash.ts).
import * as hash from "./hash.js";

// Local copies: under tsx every access to an imported binding is a getter call (see hash.ts).
const { TokenizedText, rollingConstants } = hash;
type TokenizedText = hash.TokenizedText;
import * as ngramIndex from "./ngram-index.js";
type NgramIndex = ngramIndex.NgramIndex;
const { spanKey } = ngramIndex;

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
  /** The scan tokenization (hashes only). */
  private readonly tok = new TokenizedText();
  /** The reference tokenization, for the text of reported n-grams: only documents with a hit pay for it. */
  private readonly exact = new TokenizedText();
  readonly n: number;
  private readonly roll: { pa: number; pb: number; topA: number; topB: number };
  // Per-document match state, reused so a clean document allocates nothing here.
  private max = 1;
  private readonly found: Found[] = [];
  private readonly seen = new Set<string>();

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
    this.tok.loadFast(text);
    return this.collect(opts, text, null, 0, 0);
  }

  /**
   * match() on the UTF-8 bytes b[from, to), e.g. a row of an Arrow string column: the same matches as
   * match(decoded text), without building a string unless the document has a hit.
   */
  matchUtf8(b: Uint8Array, from: number, to: number, opts: MatchOptions = {}): Match[] {
    this.tok.loadUtf8(b, from, to);
    return this.collect(opts, null, b, from, to);
  }

  private collect(opts: MatchOptions, text: string | null, b: Uint8Array | null, from: number, to: number): Match[] {
    this.max = Math.max(1, opts.maxMatches ?? 1);
    const found = this.found;
    found.length = 0;
    if (this.seen.size) this.seen.clear();
    const tok = this.tok;
    if (!this.scanNgrams(tok)) this.scanShort(tok);
    if (!found.length) return [];
    found.sort((x, y) => x.pos - y.pos);
    // Token text comes from the reference tokenization, which must have the very same tokens.
    const ex = this.exact.load(text ?? utf8.decode(b!.subarray(from, to)));
    if (ex.count !== tok.count || found.some((f) => ex.hashA[f.pos] !== tok.hashA[f.pos] || ex.hashB[f.pos] !== tok.hashB[f.pos])) {
      throw new Error("decontamination: scan and reference tokenizations differ (a bug in lib/decontam/hash.ts)");
    }
    return found.map(({ ix, ref, pos, len }) => ({ ...ix.describe(ref), ngram: ex.tokenText(pos, pos + len), position: pos }));
  }

  /** Record a hit; true once enough distinct (benchmark, item) matches were found. */
  private record(ix: NgramIndex, ref: number, pos: number, len: number): boolean {
    const key = `${ix.refBench[ref]}:${ref}:${this.indexes.indexOf(ix)}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.found.push({ ix, ref, pos, len });
    }
    return this.found.length >= this.max;
  }

  /** True as soon as record() says enough matches were found. */
  private scanNgrams(tok: TokenizedText): boolean {
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
    // The common case, one index, with its tables in locals.
    if (single) {
      const filter = single.filter;
      const fshift = single.filterShift;
      const filter2 = single.filter2;
      const f2shift = single.filter2Shift;
      const dir = single.dir;
      const dshift = single.shift;
      const keys = single.keys;
      for (let i = 0; ; i++) {
        // The two prefilters (NgramIndex.mayContain, inlined), then the directory walk (NgramIndex.find, inlined).
        const m1 = (1 << (ha & 31)) | (1 << ((ha >>> 5) & 31)) | (1 << ((ha >>> 10) & 31));
        if ((filter[hb >>> fshift] & m1) === m1) {
          const m2 = (1 << (hb & 31)) | (1 << ((hb >>> 5) & 31)) | (1 << ((hb >>> 10) & 31));
          if ((filter2[ha >>> f2shift] & m2) === m2) {
            const h = ha >>> 0;
            const l = hb >>> 0;
            const bucket = h >>> dshift;
            const end = dir[bucket + 1];
            for (let e = dir[bucket]; e < end; e++) {
              const x = keys[2 * e];
              if (x < h) continue;
              if (x > h) break;
              const y = keys[2 * e + 1];
              if (y < l) continue;
              if (y > l) break;
              if (this.lookup(single, h, l, i)) return true;
              break;
            }
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
        if (ix.mayContain(h, l) && this.lookup(ix, h, l, i)) return true;
      }
      if (i + n >= count) return false;
      ha = (Math.imul((ha - Math.imul(A[i], topA)) | 0, pa) + A[i + n]) | 0;
      hb = (Math.imul((hb - Math.imul(B[i], topB)) | 0, pb) + B[i + n]) | 0;
    }
  }

  private lookup(ix: NgramIndex, h: number, l: number, pos: number): boolean {
    let e = ix.find(h, l);
    if (e < 0) return false;
    // Several items can share an n-gram; record each.
    for (; e < ix.size && ix.keys[2 * e] === h && ix.keys[2 * e + 1] === l; e++) if (this.record(ix, ix.ref[e], pos, this.n)) return true;
    return false;
  }

  /**
   * Items and questions shorter than n tokens are indexed whole; look for them as contiguous token runs. A start is a
   * candidate when its first token pair is in the head filter (about 3% of positions); a candidate span is looked up
   * only at the indexed lengths and when its lane-A hash and length pass the span filter (see NgramIndex).
   */
  private scanShort(tok: TokenizedText): void {
    const count = tok.count;
    const A = tok.hashA;
    const B = tok.hashB;
    const { pa, pb } = this.roll;
    for (const ix of this.indexes) {
      const maxLen = ix.shortMaxLen;
      if (!maxLen) continue;
      const minLen = ix.shortMinLen;
      const head = ix.shortHead;
      const spans = ix.shortSpans;
      const byLen = ix.shortByLength;
      // A start needs room for the shortest indexed span (and for its head pair).
      const stop = count - Math.max(minLen, 2);
      for (let i = 0; i <= stop; i++) {
        const key = (A[i] ^ Math.imul(A[i + 1], 0x27d4eb2d)) >>> 16;
        if (!(head[key >>> 3] & (1 << (key & 7)))) continue;
        // A candidate start: extend the span one token at a time and check each indexed length.
        const last = Math.min(maxLen, count - i);
        let ha = 0;
        for (let len = 1; len <= last; len++) {
          ha = (Math.imul(ha, pa) + A[i + len - 1]) | 0;
          if (len < minLen) continue;
          const sk = spanKey(ha, len);
          if (!(spans[sk >>> 3] & (1 << (sk & 7)))) continue;
          const list = byLen[len]?.get(ha >>> 0);
          if (!list) continue;
          let hb = 0;
          for (let j = i; j < i + len; j++) hb = (Math.imul(hb, pb) + B[j]) | 0;
          for (const e of list) if (e.lo === hb >>> 0 && this.record(ix, e.ref, i, len)) return;
        }
      }
    }
  }
}

interface Found {
  ix: NgramIndex;
  ref: number;
  pos: number;
  len: number;
}

const utf8 = new TextDecoder();
