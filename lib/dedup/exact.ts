// Exact dedup (`--exact`): one key per document, a hash of its normalized words (lowercase, digit runs as 0, no
// combining marks, punctuation and whitespace only separate words: what MinHash shingles), in place of MinHash band
// keys. The key folds the word hashes MinHash computes (32-bit FNV-1a + fmix32 per word, straight from the UTF-8
// bytes for most documents: utf8-words.ts), so it costs a word-hashing pass and nothing more; like MinHash's
// shingles it takes two words with equal 32-bit hashes as equal (two documents that differ in one word collide
// with probability 2^-32). The key goes to one of `bands` hash partitions instead of to every band, so stage 2
// still splits into `bands` shards; stages 2-4 run unchanged on these files (a partition's equal keys are a bucket;
// every bucket is a set of identical texts, so union and bucket clustering agree; the provenance band is the
// partition).
//
// Cheap: one word-hashing pass and three 32-bit lanes over the word hashes, no shingles and no permutations, and
// 16 bytes per document per stage-1 file instead of 16 × bands; documents too short for MinHash are deduplicated
// too (only a text with no word at all is skipped, counted as too_short).
// A false match needs two different texts with equal 64-bit keys in the same partition: about n² / 2^(65 + log2
// bands) for n documents, below 10^-4 for 10^8 documents at 11 partitions.
import { SEPARATOR, lowerNfd, normalizeInto } from "./normalize.js";
import { hashWordsUtf8 } from "./utf8-words.js";
import { fmix32 } from "./fmix.js";
import { sortByKey64 } from "./radix.js";

let scratch = new Uint16Array(1 << 16);
let words = new Int32Array(4096);
const dec = new TextDecoder("utf-8"); // the decoder getTexts uses: same strings on both paths

/** Key of a text's normalized form: [hi, lo, partition] in `out`; false when the text has no word. */
export function exactKey(text: string, partitions: number, out: Uint32Array): boolean {
  const s = lowerNfd(text);
  if (scratch.length <= s.length) scratch = new Uint16Array(Math.max(s.length + 1, scratch.length * 2));
  const len = normalizeInto(s, scratch);
  const u = scratch, sep = SEPARATOR;
  if (words.length < (len >> 1) + 1) words = new Int32Array(Math.max((len >> 1) + 1, words.length * 2));
  // The word hashes MinHasher computes (FNV-1a over the normalized units of each word, then fmix32).
  let n = 0, h = 0x811c9dc5, inWord = false;
  for (let i = 0; i < len; i++) {
    const c = u[i];
    if (sep[c] === 1) {
      if (inWord) { words[n++] = fmix32(h); h = 0x811c9dc5; inWord = false; }
    } else {
      h = Math.imul(h ^ c, 0x01000193);
      inWord = true;
    }
  }
  if (inWord) words[n++] = fmix32(h);
  return fold(words, n, partitions, out);
}

/** exactKey of the UTF-8 text bytes[start, end) (a row of an Arrow Utf8 column), same result, from the word hashes
 * utf8-words.ts computes without a JS string. Returns 1 (key made), 0 (no word) or -1 (take the string path). */
export function exactKeyUtf8(bytes: Uint8Array, start: number, end: number, partitions: number, out: Uint32Array): number {
  if (words.length < end - start + 1) words = new Int32Array(Math.max(end - start + 1, words.length * 2));
  const n = hashWordsUtf8(bytes, start, end, words);
  if (n < 0) return -1;
  return fold(words, n, partitions, out) ? 1 : 0;
}

/** The key of a sequence of word hashes, in three 32-bit lanes (the word count mixed in last). */
function fold(w: Int32Array, n: number, partitions: number, out: Uint32Array): boolean {
  if (n === 0) return false;
  let a = 0x6a09e667, b = 0xbb67ae85 | 0, c = 0x3c6ef372;
  for (let i = 0; i < n; i++) {
    const v = w[i];
    a = Math.imul(a ^ v, 0x9e3779b1); a = (a << 13) | (a >>> 19);
    b = Math.imul(b ^ v, 0x85ebca77); b = (b << 17) | (b >>> 15);
    c = Math.imul(c ^ v, 0xc2b2ae3d); c = (c << 11) | (c >>> 21);
  }
  out[0] = fmix32(a ^ n);
  out[1] = fmix32(b ^ Math.imul(n, 0x27d4eb2f));
  out[2] = fmix32(c ^ 0x165667b1) % partitions;
  return true;
}

/** Keys of up to `cap` documents, written as one sorted run per partition (stage 1's record layout). */
export class ExactBuffer {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly part: Uint32Array;
  readonly rows: Uint32Array;
  n = 0;
  private readonly key = new Uint32Array(3);
  constructor(readonly partitions: number, readonly cap: number) {
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.part = new Uint32Array(cap);
    this.rows = new Uint32Array(cap);
  }

  add(text: string, row: number): boolean {
    if (!exactKey(text, this.partitions, this.key)) return false;
    this.addKey(this.key, 0, row);
    return true;
  }

  /** add() for the UTF-8 text bytes[start, end) (a null row is an empty text). */
  addUtf8(bytes: Uint8Array, start: number, end: number, row: number): boolean {
    let r = exactKeyUtf8(bytes, start, end, this.partitions, this.key);
    if (r < 0) r = exactKey(dec.decode(bytes.subarray(start, end)), this.partitions, this.key) ? 1 : 0;
    if (r === 0) return false;
    this.addKey(this.key, 0, row);
    return true;
  }

  /** A key (hi, lo, partition) at `at` in `keys`, as exactKey or a worker made it. */
  addKey(keys: Uint32Array, at: number, row: number): void {
    const k = this.n++;
    this.hi[k] = keys[at];
    this.lo[k] = keys[at + 1];
    this.part[k] = keys[at + 2];
    this.rows[k] = row;
  }

  /** Per partition, its records (hi, lo, file, row) sorted by (key, row): one sort for all partitions. */
  runs(file: number): Uint32Array[] {
    const order = sortByKey64(this.hi, this.lo, this.n);
    const count = new Uint32Array(this.partitions);
    for (let i = 0; i < this.n; i++) count[this.part[i]]++;
    const out = Array.from(count, (c) => new Uint32Array(c * 4));
    const at = new Uint32Array(this.partitions);
    for (let i = 0; i < this.n; i++) {
      const e = order[i], p = this.part[e], r = out[p], k = at[p];
      r[k] = this.hi[e]; r[k + 1] = this.lo[e]; r[k + 2] = file; r[k + 3] = this.rows[e];
      at[p] = k + 4;
    }
    return out;
  }
}
