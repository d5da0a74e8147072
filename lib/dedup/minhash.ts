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
import { SEPARATOR, lowerNfd, normalizeInto } from "./normalize.js";
import { type DedupParams, permutationCoefficients } from "./params.js";
import { SimdMinHash } from "./simd.js";
import { fmix32 } from "./fmix.js";
import { hashWordsUtf8 } from "./utf8-words.js";

export { fmix32 };

const utf8 = new TextDecoder("utf-8"); // the decoder getTexts uses: the string path must see the same text

export class MinHasher {
  readonly numHashes: number;
  private readonly a: Int32Array;
  /** b_k + 2^31 (mod 2^32): (a*x + b) ^ 0x80000000 compared as signed int32 orders like the unsigned value,
   * so the min-reduction stays in int32 (small-integer) arithmetic; uint32 values above 2^31 would be doubles. */
  private readonly bBiased: Int32Array;
  private words: Int32Array = new Int32Array(4096);
  private shingles: Int32Array = new Int32Array(4096);
  private text: Uint16Array = new Uint16Array(1 << 16);

  /** The WebAssembly SIMD kernel (null: not available, or turned off to test the JS loop). */
  private readonly simd: SimdMinHash | null;

  constructor(readonly params: DedupParams, useSimd = true) {
    this.numHashes = params.bands * params.rows;
    const { a, b } = permutationCoefficients(params);
    this.a = a;
    this.bBiased = b.map((v) => v ^ 0x80000000);
    this.simd = useSimd ? SimdMinHash.create(a, b) : null;
  }

  /** Hash every normalized word of `text` into this.words; returns the word count. */
  private hashWords(text: string): number {
    const s = lowerNfd(text);
    if (this.text.length <= s.length) this.text = new Uint16Array(Math.max(s.length + 1, this.text.length * 2));
    const u = this.text;
    const len = normalizeInto(s, u);
    // A trailing space ends the last word inside the loop: code after the loop that only some texts reach left
    // V8 without type feedback there, and it deoptimized this function over and over.
    u[len] = 0x20;
    const sep = SEPARATOR;
    // A text of len units has at most len/2 + 1 words.
    if (this.words.length < (len >> 1) + 1) this.words = new Int32Array(Math.max((len >> 1) + 1, this.words.length * 2));
    const words = this.words;
    let n = 0;
    let h = 0x811c9dc5;
    let inWord = false;
    for (let i = 0; i <= len; i++) {
      const c = u[i];
      if (sep[c] === 1) {
        if (inWord) {
          words[n++] = fmix32(h);
          h = 0x811c9dc5;
          inWord = false;
        }
      } else {
        h = Math.imul(h ^ c, 0x01000193);
        inWord = true;
      }
    }
    return n;
  }

  /** Like signature(text) for the UTF-8 text bytes[start, end) (a row of an Arrow Utf8 column), same result;
   * most documents are hashed straight from the bytes (utf8-words.ts), the rest take the string path. */
  signatureUtf8(bytes: Uint8Array, start: number, end: number, sig: Uint32Array): boolean {
    // At most one word per input byte (see hashWordsUtf8).
    const need = end - start + 1;
    if (this.words.length < need) this.words = new Int32Array(Math.max(need, this.words.length * 2));
    const n = hashWordsUtf8(bytes, start, end, this.words);
    if (n < 0) return this.signature(utf8.decode(bytes.subarray(start, end)), sig);
    const m = this.hashShingles(n);
    if (m === 0) return false;
    if (this.simd) this.simd.minima(m, sig);
    else minPermutations(this.shingles, m, this.a, this.bBiased, this.numHashes, sig);
    return true;
  }

  /** Shingle hashes of the first n words into this.shingles (as int32); returns their count. */
  private hashShingles(n: number): number {
    const k = this.params.ngram;
    const m = n - k + 1;
    if (m <= 0) return 0;
    let out: Int32Array;
    if (this.simd) {
      this.simd.reserve(m);
      out = this.simd.shingles;
    } else {
      if (this.shingles.length < m) this.shingles = new Int32Array(Math.max(m, this.shingles.length * 2));
      out = this.shingles;
    }
    const w = this.words;
    for (let i = 0; i < m; i++) {
      let h = 0x2545f491;
      for (let j = i, end = i + k; j < end; j++) {
        h = Math.imul(h ^ w[j], 0x9e3779b1);
        h = (h << 15) | (h >>> 17);
      }
      out[i] = fmix32(h);
    }
    return m;
  }

  /** The shingle hashes of a text (one per window position, repeats kept), for tests and inspection. */
  shingleHashes(text: string): Uint32Array {
    const m = this.hashShingles(this.hashWords(text));
    return Uint32Array.from((this.simd ? this.simd.shingles : this.shingles).subarray(0, m), (x) => x >>> 0);
  }

  /** Fill `sig` (length bands*rows) with the MinHash signature of `text`. Returns false, leaving `sig`
   * untouched, when the text has fewer than `ngram` words: such documents are never duplicates. */
  signature(text: string, sig: Uint32Array): boolean {
    const m = this.hashShingles(this.hashWords(text));
    if (m === 0) return false;
    if (this.simd) this.simd.minima(m, sig);
    else minPermutations(this.shingles, m, this.a, this.bBiased, this.numHashes, sig);
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

/** sig[p] = min over the m shingle hashes x of (a[p] * x + b[p]) mod 2^32, with b biased (see MinHasher.bBiased).
 */
function minPermutations(x: Int32Array, m: number, a: Int32Array, b: Int32Array, P: number, sig: Uint32Array): void {
  // Permutation-major, five permutations per pass: coefficients and running minima stay in registers and each
  // loaded shingle hash serves five multiply-adds (measured: 1.15 ns per permutation x shingle one at a time,
  // 0.6 ns five at a time; shingle-major with sig[] updates in memory was 2.4 ns).
  let p = 0;
  for (; p + 5 <= P; p += 5) {
    const a0 = a[p], a1 = a[p + 1], a2 = a[p + 2], a3 = a[p + 3], a4 = a[p + 4];
    const b0 = b[p], b1 = b[p + 1], b2 = b[p + 2], b3 = b[p + 3], b4 = b[p + 4];
    let m0 = 0x7fffffff, m1 = m0, m2 = m0, m3 = m0, m4 = m0;
    for (let i = 0; i < m; i++) {
      const xi = x[i];
      const v0 = (Math.imul(a0, xi) + b0) | 0;
      const v1 = (Math.imul(a1, xi) + b1) | 0;
      const v2 = (Math.imul(a2, xi) + b2) | 0;
      const v3 = (Math.imul(a3, xi) + b3) | 0;
      const v4 = (Math.imul(a4, xi) + b4) | 0;
      if (v0 < m0) m0 = v0;
      if (v1 < m1) m1 = v1;
      if (v2 < m2) m2 = v2;
      if (v3 < m3) m3 = v3;
      if (v4 < m4) m4 = v4;
    }
    sig[p] = m0 ^ 0x80000000;
    sig[p + 1] = m1 ^ 0x80000000;
    sig[p + 2] = m2 ^ 0x80000000;
    sig[p + 3] = m3 ^ 0x80000000;
    sig[p + 4] = m4 ^ 0x80000000;
  }
  // The leftover permutations (none for 11 x 10) live in their own function: a loop that never runs leaves no
  // type feedback, and V8 deoptimized this whole function every time it reached one.
  if (p < P) minRemaining(x, m, a, b, p, P, sig);
}

function minRemaining(x: Int32Array, m: number, a: Int32Array, b: Int32Array, from: number, P: number, sig: Uint32Array): void {
  for (let p = from; p < P; p++) {
    const a0 = a[p], b0 = b[p];
    let m0 = 0x7fffffff;
    for (let i = 0; i < m; i++) {
      const v0 = (Math.imul(a0, x[i]) + b0) | 0;
      if (v0 < m0) m0 = v0;
    }
    sig[p] = m0 ^ 0x80000000;
  }
}
