// Building the vocabulary from a training file the way Dictionary::readFromFile does: readWord over the bytes
// ("</s>" per newline), count every token, prune with a rising threshold if the vocabulary explodes, then keep
// words with count >= minCount and labels with count >= minCountLabel, sorted by type then decreasing count.
// Ties keep first-seen order (fastText's std::sort leaves tie order unspecified).
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { allocDictionaryData, EOS_BYTES, TYPE_LABEL, TYPE_WORD, type DictionaryData } from "./dictionary.js";
import { fnv1a } from "./hash.js";

const MAX_VOCAB_SIZE = 30_000_000;
const CHUNK = 16 << 20;

class WordCounter {
  pool = new Uint8Array(1 << 20);
  poolLen = 0;
  offsets: number[] = [];
  lengths: number[] = [];
  counts: number[] = [];
  types: number[] = [];
  hashes: number[] = [];
  table = new Int32Array(1 << 16).fill(-1);
  ntokens = 0;

  constructor(private readonly labelPrefix: Uint8Array) {}

  get size(): number {
    return this.offsets.length;
  }

  add(bytes: Uint8Array, s: number, e: number, h: number): void {
    this.ntokens++;
    const mask = this.table.length - 1;
    let slot = h & mask;
    const len = e - s;
    for (;;) {
      const id = this.table[slot]!;
      if (id === -1) break;
      if (this.lengths[id] === len && this.hashes[id] === h) {
        const o = this.offsets[id]!;
        let k = 0;
        while (k < len && this.pool[o + k] === bytes[s + k]) k++;
        if (k === len) {
          this.counts[id]!++;
          return;
        }
      }
      slot = (slot + 1) & mask;
    }
    if (this.poolLen + len > this.pool.length) {
      const bigger = new Uint8Array(Math.max(this.pool.length * 2, this.poolLen + len));
      bigger.set(this.pool.subarray(0, this.poolLen));
      this.pool = bigger;
    }
    this.pool.set(bytes.subarray(s, e), this.poolLen);
    const id = this.size;
    this.offsets.push(this.poolLen);
    this.lengths.push(len);
    this.counts.push(1);
    this.hashes.push(h);
    this.types.push(this.isLabel(bytes, s, e) ? TYPE_LABEL : TYPE_WORD);
    this.poolLen += len;
    this.table[slot] = id;
    if (this.size * 2 > this.table.length) this.rehash(this.table.length * 2);
  }

  private isLabel(bytes: Uint8Array, s: number, e: number): boolean {
    const p = this.labelPrefix;
    if (e - s < p.length) return false;
    for (let k = 0; k < p.length; k++) if (bytes[s + k] !== p[k]) return false;
    return true;
  }

  private rehash(cap: number): void {
    this.table = new Int32Array(cap).fill(-1);
    const mask = cap - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = this.hashes[id]! & mask;
      while (this.table[slot] !== -1) slot = (slot + 1) & mask;
      this.table[slot] = id;
    }
  }

  /** Keep words with count >= t and labels with count >= tl, in fastText's order. */
  threshold(t: number, tl: number): number[] {
    const keep: number[] = [];
    for (let id = 0; id < this.size; id++) {
      const c = this.counts[id]!;
      if (this.types[id] === TYPE_WORD ? c >= t : c >= tl) keep.push(id);
    }
    keep.sort((a, b) => this.types[a]! - this.types[b]! || this.counts[b]! - this.counts[a]! || a - b);
    return keep;
  }

  /** Drop everything not in `keep` (used by the vocabulary-size guard). */
  compact(keep: number[]): void {
    const old = { offsets: this.offsets, lengths: this.lengths, counts: this.counts, types: this.types, hashes: this.hashes, pool: this.pool };
    this.offsets = [];
    this.lengths = [];
    this.counts = [];
    this.types = [];
    this.hashes = [];
    this.pool = new Uint8Array(Math.max(1 << 20, this.poolLen));
    this.poolLen = 0;
    for (const id of keep) {
      const o = old.offsets[id]!;
      const len = old.lengths[id]!;
      this.pool.set(old.pool.subarray(o, o + len), this.poolLen);
      this.offsets.push(this.poolLen);
      this.poolLen += len;
      this.lengths.push(len);
      this.counts.push(old.counts[id]!);
      this.types.push(old.types[id]!);
      this.hashes.push(old.hashes[id]!);
    }
    let cap = 1 << 16;
    while (cap < this.size * 2) cap *= 2;
    this.rehash(cap);
  }

  toData(keep: number[]): DictionaryData {
    let total = 0;
    for (const id of keep) total += this.lengths[id]!;
    const d = allocDictionaryData(keep.length, total, 0);
    let off = 0;
    keep.forEach((id, i) => {
      const o = this.offsets[id]!;
      const len = this.lengths[id]!;
      d.wordOffsets[i] = off;
      d.wordBytes.set(this.pool.subarray(o, o + len), off);
      off += len;
      d.counts[i] = this.counts[id]!;
      d.types[i] = this.types[id]!;
      d.hashes[i] = this.hashes[id]! >>> 0;
      if (this.types[id] === TYPE_WORD) d.nwords++;
      else d.nlabels++;
    });
    d.wordOffsets[keep.length] = off;
    d.ntokens = this.ntokens;
    return d;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 11 || c === 12 || c === 0;
}

/** Read `path` and build the training dictionary. */
export function buildDictionary(path: string, opts: { minCount: number; minCountLabel: number; label: string }): DictionaryData {
  const counter = new WordCounter(new TextEncoder().encode(opts.label));
  const eosHash = fnv1a(EOS_BYTES, 0, EOS_BYTES.length);
  const fd = openSync(path, "r");
  let minThreshold = 1;
  try {
    const size = fstatSync(fd).size;
    let buf = new Uint8Array(CHUNK);
    let carry = 0; // bytes of an unfinished word kept at the start of buf
    let pos = 0;
    for (;;) {
      if (carry === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const got = pos < size ? readSync(fd, buf, carry, buf.length - carry, pos) : 0;
      pos += got;
      const end = carry + got;
      const last = got === 0;
      let i = 0;
      let wordStart = -1;
      let h = 0;
      for (; i < end; i++) {
        const c = buf[i]!;
        if (isSpace(c)) {
          if (wordStart >= 0) {
            counter.add(buf, wordStart, i, h >>> 0);
            wordStart = -1;
          }
          if (c === 10) counter.add(EOS_BYTES, 0, EOS_BYTES.length, eosHash);
        } else {
          if (wordStart < 0) {
            wordStart = i;
            h = 2166136261 | 0;
          }
          h = Math.imul(h ^ ((c << 24) >> 24), 16777619);
        }
      }
      if (wordStart >= 0) {
        if (last) counter.add(buf, wordStart, end, h >>> 0);
        else {
          buf.copyWithin(0, wordStart, end);
          carry = end - wordStart;
        }
      } else carry = 0;
      if (counter.size > 0.75 * MAX_VOCAB_SIZE) {
        minThreshold++;
        counter.compact(counter.threshold(minThreshold, minThreshold));
      }
      if (last) break;
    }
  } finally {
    closeSync(fd);
  }
  return counter.toData(counter.threshold(opts.minCount, opts.minCountLabel));
}
