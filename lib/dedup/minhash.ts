// MinHash signatures over word n-gram shingles, with 32-bit arithmetic only.
//
// Why this hash family (and not datatrove's (a*x + b) mod (2^61 - 1) on 64-bit xxhash values):
// - JavaScript has no fast 64-bit integer multiply; the BigInt version of datatrove's formula ran at 130 docs/s
//   and an exact mod-(2^31 - 1) version at ~1.2k docs/s, against ~3.9k docs/s for the family below
//   (../shared/research/library-bench.md §4).
// - Each word is hashed once (FNV-1a over UTF-16 code units, then the murmur3 finalizer), and a shingle's hash
//   mixes its n word hashes in order (multiply-rotate chain + finalizer). That makes a shingle cost n small mixes
//   instead of hashing n words' bytes again for every window position.
// - Permutation k is x -> (a_k * x + b_k) mod 2^32 with a_k odd: a bijection of 32-bit values, one Math.imul and
//   one add. Multiply-add mod 2^w is not exactly min-wise independent, but the inputs are already finalized
//   hashes, and what matters is that the detection rate follows 1 - (1 - s^r)^b: the quality test
//   (test/dedup/lsh-curve.test.ts) checks exactly that on planted pairs of known Jaccard similarity.
// - A band's r values are folded into a 64-bit key (two independent 32-bit mixes). A false key collision needs
//   two 64-bit values to collide: about n^2 / 2^65 per band, < 10^-3 for 10^8 documents.
import { SEPARATOR, prenormalize } from "./normalize.js";
import { type DedupParams, permutationCoefficients } from "./params.js";

export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class MinHasher {
  readonly numHashes: number;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private words: Uint32Array = new Uint32Array(4096);

  constructor(readonly params: DedupParams) {
    this.numHashes = params.bands * params.rows;
    ({ a: this.a, b: this.b } = permutationCoefficients(params));
  }

  /** Hash every normalized word of `text` into this.words; returns the word count. */
  private hashWords(text: string): number {
    const s = prenormalize(text);
    const sep = SEPARATOR;
    let words = this.words;
    let n = 0;
    let h = 0x811c9dc5;
    let inWord = false;
    const len = s.length;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (sep[c] === 1) {
        if (inWord) {
          if (n === words.length) words = this.grow();
          words[n++] = fmix32(h);
          h = 0x811c9dc5;
          inWord = false;
        }
      } else {
        h = Math.imul(h ^ c, 0x01000193);
        inWord = true;
      }
    }
    if (inWord) {
      if (n === words.length) words = this.grow();
      words[n++] = fmix32(h);
    }
    return n;
  }

  private grow(): Uint32Array {
    const w = new Uint32Array(this.words.length * 2);
    w.set(this.words);
    this.words = w;
    return w;
  }

  /** The shingle hashes of a text (one per window position, repeats kept), for tests and inspection. */
  shingleHashes(text: string): Uint32Array {
    const n = this.hashWords(text);
    const k = this.params.ngram;
    const out = new Uint32Array(Math.max(0, n - k + 1));
    for (let i = 0; i + k <= n; i++) out[i] = this.shingleAt(i);
    return out;
  }

  private shingleAt(i: number): number {
    const w = this.words;
    let h = 0x2545f491;
    for (let j = 0; j < this.params.ngram; j++) {
      h = Math.imul(h ^ w[i + j], 0x9e3779b1);
      h = (h << 15) | (h >>> 17);
    }
    return fmix32(h);
  }

  /** Fill `sig` (length bands*rows) with the MinHash signature of `text`. Returns false, leaving `sig`
   * untouched, when the text has fewer than `ngram` words: such documents are never duplicates. */
  signature(text: string, sig: Uint32Array): boolean {
    const n = this.hashWords(text);
    const k = this.params.ngram;
    if (n < k) return false;
    const P = this.numHashes;
    const a = this.a;
    const b = this.b;
    sig.fill(0xffffffff, 0, P);
    for (let i = 0; i + k <= n; i++) {
      const x = this.shingleAt(i);
      for (let p = 0; p < P; p++) {
        const v = (Math.imul(a[p], x) + b[p]) >>> 0;
        if (v < sig[p]) sig[p] = v;
      }
    }
    return true;
  }

  /** Fold band `band` of a signature into a 64-bit key, returned as [hi, lo] in `out` at `at`. */
  bandKey(sig: Uint32Array, band: number, out: Uint32Array, at: number): void {
    const r = this.params.rows;
    let hi = 0x3c6ef372 ^ band;
    let lo = 0xa54ff53a ^ Math.imul(band, 0x27d4eb2f);
    for (let j = band * r, end = j + r; j < end; j++) {
      const v = sig[j];
      hi = Math.imul(hi ^ v, 0x9e3779b1);
      hi = (hi << 13) | (hi >>> 19);
      lo = Math.imul(lo ^ v, 0x85ebca77);
      lo = (lo << 17) | (lo >>> 15);
    }
    out[at] = fmix32(hi);
    out[at + 1] = fmix32(lo ^ 0x5bd1e995);
  }
}
