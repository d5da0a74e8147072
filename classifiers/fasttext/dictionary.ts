// fastText's Dictionary: the vocabulary (words then labels), its lookup table, char n-gram subwords, the pruning
// map of quantized models, and getLine — the tokenizer that turns one line of bytes into input row ids exactly
// the way fastText does (whitespace split, "</s>" at a newline, subwords per token, then word n-grams).
import { fnv1a, modInv, U64 } from "./hash.js";
import { IntBuffer } from "./int-buffer.js";
import { SubwordCache } from "./subword-cache.js";
import { sharedInt32, sharedUint32, sharedUint8, sharedFloat64 } from "./shared.js";

export const EOS = "</s>";
export const EOS_BYTES = new TextEncoder().encode(EOS);
export const TYPE_WORD = 0;
export const TYPE_LABEL = 1;

/** The plain-data form of a dictionary: every array is SharedArrayBuffer-backed, so it can be posted to worker
 * threads and rebuilt there without copying. */
export interface DictionaryData {
  size: number;
  nwords: number;
  nlabels: number;
  ntokens: number;
  /** -1 when the model is not pruned (fastText's pruneidx_size_). */
  pruneidxSize: number;
  pruneFrom: Int32Array;
  pruneTo: Int32Array;
  wordBytes: Uint8Array;
  wordOffsets: Int32Array;
  counts: Float64Array;
  types: Uint8Array;
  hashes: Uint32Array;
}

/** Hyper-parameters the dictionary needs. */
export interface DictionaryParams {
  wordNgrams: number;
  bucket: number;
  minn: number;
  maxn: number;
  label: string;
}

function isSpace(c: number): boolean {
  // fastText's readWord separators: ' ' \n \r \t \v \f \0
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 11 || c === 12 || c === 0;
}

export class Dictionary {
  readonly size: number;
  readonly nwords: number;
  readonly nlabels: number;
  /** open addressing: slot k holds [2k] a word's 32-bit hash (as int32) and [2k + 1] its id, or -1 when empty */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly labelPrefix: Uint8Array;
  /** pruneidx as an open-addressing table (keys, values): a Map lookup per char n-gram was the hot spot */
  private readonly pruneKeys: Int32Array | null;
  private readonly pruneVals: Int32Array | null;
  private readonly pruneMask: number;
  /** CSR subword lists per word (the word's own id first), only when maxn > 0. */
  private subOffsets: Int32Array | null = null;
  private subIds: Int32Array | null = null;
  private readonly ngram = new U64();
  /** 1 / bucket, so the n-gram hashes are reduced by multiplications (hash.ts modInv) */
  private readonly bucketInv: number;
  private readonly wordHashes = new IntBuffer(256);
  private subBytes = new Uint8Array(256);
  private labelCache: string[] | null = null;
  /** memo of every non-label token's input ids (created on first use, only for models with subwords) */
  private tokenCache: SubwordCache | null = null;

  constructor(
    readonly data: DictionaryData,
    readonly params: DictionaryParams,
  ) {
    this.size = data.size;
    this.nwords = data.nwords;
    this.nlabels = data.nlabels;
    this.bucketInv = 1 / params.bucket;
    let cap = 16;
    while (cap < data.size / 0.7) cap *= 2;
    this.table = new Int32Array(2 * cap).fill(-1);
    this.mask = cap - 1;
    for (let i = 0; i < data.size; i++) {
      let slot = data.hashes[i]! & this.mask;
      while (this.table[2 * slot + 1] !== -1) slot = (slot + 1) & this.mask;
      this.table[2 * slot] = data.hashes[i]! | 0;
      this.table[2 * slot + 1] = i;
    }
    this.labelPrefix = new TextEncoder().encode(params.label);
    if (data.pruneidxSize > 0) {
      let pcap = 16;
      while (pcap < data.pruneFrom.length * 2) pcap *= 2;
      this.pruneKeys = new Int32Array(pcap).fill(-1);
      this.pruneVals = new Int32Array(pcap);
      this.pruneMask = pcap - 1;
      for (let i = 0; i < data.pruneFrom.length; i++) {
        const key = data.pruneFrom[i]!;
        let slot = Math.imul(key, 0x9e3779b1) >>> 0 & this.pruneMask;
        while (this.pruneKeys[slot] !== -1 && this.pruneKeys[slot] !== key) slot = (slot + 1) & this.pruneMask;
        this.pruneKeys[slot] = key;
        this.pruneVals[slot] = data.pruneTo[i]!;
      }
    } else {
      this.pruneKeys = null;
      this.pruneVals = null;
      this.pruneMask = 0;
    }
    if (params.maxn > 0) this.initSubwords();
  }

  /** Id of the word bytes[s, e) with hash h, or -1. */
  find(bytes: Uint8Array, s: number, e: number, h: number): number {
    const { wordBytes, wordOffsets } = this.data;
    const table = this.table;
    const len = e - s;
    h |= 0;
    let slot = h & this.mask;
    for (;;) {
      const id = table[2 * slot + 1]!;
      if (id === -1) return -1;
      // The hash sits next to the id, so a probe past another word rarely touches that word's bytes.
      const ws = table[2 * slot] === h ? wordOffsets[id]! : -1;
      if (ws >= 0 && wordOffsets[id + 1]! - ws === len) {
        let k = 0;
        while (k < len && wordBytes[ws + k] === bytes[s + k]) k++;
        if (k === len) return id;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private startsWithLabel(bytes: Uint8Array, s: number, e: number): boolean {
    const p = this.labelPrefix;
    if (e - s < p.length) return false;
    for (let k = 0; k < p.length; k++) if (bytes[s + k] !== p[k]) return false;
    return true;
  }

  word(id: number): string {
    const { wordBytes, wordOffsets } = this.data;
    return Buffer.from(wordBytes.buffer, wordBytes.byteOffset + wordOffsets[id]!, wordOffsets[id + 1]! - wordOffsets[id]!).toString("utf8");
  }

  /** Label strings in label-index order (label i is word nwords + i). */
  labels(): string[] {
    if (!this.labelCache) {
      this.labelCache = [];
      for (let i = 0; i < this.nlabels; i++) this.labelCache.push(this.word(this.nwords + i));
    }
    return this.labelCache;
  }

  /** Label occurrence counts in label-index order (used to build the hs tree and the ns table). */
  labelCounts(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.nlabels; i++) out.push(this.data.counts[this.nwords + i]!);
    return out;
  }

  /** pushHash: an n-gram bucket becomes row nwords + bucket (or its pruned row, or nothing). */
  private pushHash(out: IntBuffer, id: number): void {
    const keys = this.pruneKeys;
    if (keys) {
      // bucket ids are >= 0, so -1 marks an empty slot
      let slot = Math.imul(id, 0x9e3779b1) >>> 0 & this.pruneMask;
      for (;;) {
        const k = keys[slot]!;
        if (k === id) break;
        if (k === -1) return;
        slot = (slot + 1) & this.pruneMask;
      }
      id = this.pruneVals![slot]!;
    }
    out.push(this.nwords + id);
  }

  /** computeSubwords over "<word>" given as bytes[0, n): every UTF-8-aware char n-gram of length minn..maxn. */
  private computeSubwords(word: Uint8Array, n: number, out: IntBuffer): void {
    const { minn, maxn, bucket } = this.params;
    if (bucket <= 0) return; // fastText would divide by zero; a model without buckets has no n-gram rows
    for (let i = 0; i < n; i++) {
      if ((word[i]! & 0xc0) === 0x80) continue;
      let h = 2166136261 | 0;
      for (let j = i, len = 1; j < n && len <= maxn; len++) {
        h = Math.imul(h ^ ((word[j++]! << 24) >> 24), 16777619);
        while (j < n && (word[j]! & 0xc0) === 0x80) h = Math.imul(h ^ ((word[j++]! << 24) >> 24), 16777619);
        if (len >= minn && !(len === 1 && (i === 0 || j === n))) this.pushHash(out, modInv(h >>> 0, bucket, this.bucketInv));
      }
    }
  }

  /** "<" + bytes[s, e) + ">" into a scratch buffer; returns its length. */
  private bracketed(bytes: Uint8Array, s: number, e: number): number {
    const n = e - s + 2;
    if (this.subBytes.length < n) this.subBytes = new Uint8Array(n * 2);
    this.subBytes[0] = 60; // '<'
    this.subBytes.set(bytes.subarray(s, e), 1);
    this.subBytes[n - 1] = 62; // '>'
    return n;
  }

  private initSubwords(): void {
    const { wordBytes, wordOffsets, size } = this.data;
    const offsets = new Int32Array(size + 1);
    const ids = new IntBuffer(size * 8);
    for (let i = 0; i < size; i++) {
      offsets[i] = ids.length;
      ids.push(i);
      const s = wordOffsets[i]!;
      const e = wordOffsets[i + 1]!;
      if (!this.isEos(wordBytes, s, e)) this.addCharNgrams(wordBytes, s, e, ids);
    }
    offsets[size] = ids.length;
    this.subOffsets = offsets;
    this.subIds = ids.data.subarray(0, ids.length);
  }

  private addCharNgrams(bytes: Uint8Array, s: number, e: number, out: IntBuffer): void {
    const n = this.bracketed(bytes, s, e);
    this.computeSubwords(this.subBytes, n, out);
  }

  private isEos(bytes: Uint8Array, s: number, e: number): boolean {
    return e - s === 4 && bytes[s] === 60 && bytes[s + 1] === 47 && bytes[s + 2] === 115 && bytes[s + 3] === 62;
  }

  /** Input ids of word `wid` (in vocabulary): itself, plus its char n-grams when the model has them. */
  subwordsOf(wid: number, out: IntBuffer): void {
    if (!this.subOffsets) {
      out.push(wid);
      return;
    }
    out.pushRange(this.subIds!, this.subOffsets[wid]!, this.subOffsets[wid + 1]!);
  }

  /**
   * Dictionary::getLine for one line held in bytes[start, end). `newline` says whether the line was ended by '\n'
   * (then fastText's readWord yields "</s>" as its last token). Appends input ids to `words` and label indices to
   * `labels` (either may be null to skip). Returns the number of tokens read (fastText's ntokens).
   */
  getLine(bytes: Uint8Array, start: number, end: number, newline: boolean, words: IntBuffer, labels: IntBuffer | null): number {
    const hashes = this.wordHashes;
    hashes.clear();
    let ntokens = 0;
    let i = start;
    for (;;) {
      while (i < end && isSpace(bytes[i]!)) i++;
      if (i >= end) break;
      const s = i;
      let h = 2166136261 | 0;
      while (i < end && !isSpace(bytes[i]!)) {
        h = Math.imul(h ^ ((bytes[i]! << 24) >> 24), 16777619);
        i++;
      }
      ntokens++;
      this.addToken(bytes, s, i, h >>> 0, words, labels);
    }
    if (newline) {
      ntokens++;
      this.addToken(EOS_BYTES, 0, 4, fnv1a(EOS_BYTES, 0, 4), words, labels);
    }
    this.addWordNgrams(words);
    return ntokens;
  }

  private addToken(bytes: Uint8Array, s: number, e: number, h: number, words: IntBuffer, labels: IntBuffer | null): void {
    // Models with subwords: one memo probe answers most tokens (their ids are a pure function of the bytes).
    const memo = this.params.maxn > 0 ? (this.tokenCache ??= new SubwordCache()) : null;
    if (memo) {
      const hit = memo.find(bytes, s, e, h);
      if (hit >= 0) {
        words.pushRange(memo.ids, memo.start(hit), memo.end(hit));
        this.wordHashes.push(h | 0);
        return;
      }
    }
    const wid = this.find(bytes, s, e, h);
    const isLabel = wid < 0 ? this.startsWithLabel(bytes, s, e) : this.data.types[wid] === TYPE_LABEL;
    if (!isLabel) {
      const before = words.length;
      if (wid < 0) {
        if (!this.isEos(bytes, s, e) && this.params.maxn > 0) this.addCharNgrams(bytes, s, e, words);
      } else {
        this.subwordsOf(wid, words);
      }
      if (memo) memo.insert(bytes, s, e, h, words.data, before, words.length);
      this.wordHashes.push(h | 0);
    } else if (wid >= 0 && labels) {
      labels.push(wid - this.nwords);
    }
  }

  private addWordNgrams(words: IntBuffer): void {
    const n = this.params.wordNgrams;
    if (n <= 1 || this.params.bucket <= 0) return;
    const hashes = this.wordHashes.data;
    const count = this.wordHashes.length;
    const bucket = this.params.bucket;
    const inv = this.bucketInv;
    const h = this.ngram;
    for (let i = 0; i < count; i++) {
      h.setSigned(hashes[i]!);
      for (let j = i + 1; j < count && j < i + n; j++) {
        h.mulAdd(hashes[j]!);
        this.pushHash(words, h.mod(bucket, inv));
      }
    }
  }
}

/** Allocate the shared arrays for a dictionary of `size` words whose bytes total `byteLength`. */
export function allocDictionaryData(size: number, byteLength: number, pruneCount: number): DictionaryData {
  return {
    size,
    nwords: 0,
    nlabels: 0,
    ntokens: 0,
    pruneidxSize: -1,
    pruneFrom: sharedInt32(pruneCount),
    pruneTo: sharedInt32(pruneCount),
    wordBytes: sharedUint8(byteLength),
    wordOffsets: sharedInt32(size + 1),
    counts: sharedFloat64(size),
    types: sharedUint8(size),
    hashes: sharedUint32(size),
  };
}
