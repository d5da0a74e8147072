// The encoder: a JS pre-split with the tokenizer's own regex, a cache of pieces already seen, and tiktoken's WASM BPE
// only for pieces not in the cache. Measured 2x faster than calling tiktoken on whole documents with identical ids
// (../shared/research/library-bench.md §3): most pieces of real text are frequent words.
import { Tiktoken } from "tiktoken";
import { compileSplitPattern, LLAMA3_PATTERN } from "./pattern.js";
import { Llama3Splitter } from "./llama3-split.js";
import { PieceCache } from "./piece-cache.js";
import type { BpeDefinition } from "./ranks.js";

/** A tokenizer as the rest of megamath sees it. Text is always encoded "ordinary": special-token strings such as
 * `<|end_of_text|>` inside a document are tokenized as plain text and can never inject a control token. */
export interface Tokenizer {
  /** Short name recorded in manifests, e.g. "llama3", "cl100k_base", or the file path. */
  readonly name: string;
  /** Name datatrove/nanotron metadata uses to find the tokenizer (HF id where one exists). */
  readonly hfName: string;
  readonly vocabSize: number;
  /** Default document prefix/suffix tokens (null = none). */
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** sha256 (hex, first 16) of ranks + specials + pattern: two tokenizers with the same fingerprint agree on ids. */
  readonly fingerprint: string;
  /** Append the ids of `text` to `out` (no BOS/EOS). Returns the number appended. */
  encodeInto(text: string, out: TokenSink): number;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  /** Release the WASM encoder. The tokenizer must not be used afterwards. */
  free(): void;
}

/** Growable sink for token ids (avoids a JS array per document on the hot path). */
export class TokenSink {
  ids: Uint32Array;
  length = 0;
  constructor(capacity = 1 << 16) {
    this.ids = new Uint32Array(capacity);
  }
  push(id: number): void {
    if (this.length === this.ids.length) this.grow(this.length + 1);
    this.ids[this.length++] = id;
  }
  /** Append src[at .. at + n). */
  pushRange(src: Uint32Array, at: number, n: number): void {
    if (this.length + n > this.ids.length) this.grow(this.length + n);
    const ids = this.ids;
    let l = this.length;
    for (let i = at; i < at + n; i++) ids[l++] = src[i]!;
    this.length = l;
  }
  pushAll(ids: Uint32Array): void {
    if (this.length + ids.length > this.ids.length) this.grow(this.length + ids.length);
    this.ids.set(ids, this.length);
    this.length += ids.length;
  }
  grow(min: number): void {
    let cap = this.ids.length * 2;
    while (cap < min) cap *= 2;
    const n = new Uint32Array(cap);
    n.set(this.ids.subarray(0, this.length));
    this.ids = n;
  }
  clear(): void {
    this.length = 0;
  }
  /** A copy of the ids collected so far. */
  take(): Uint32Array {
    return this.ids.slice(0, this.length);
  }
}

export interface BpeOptions {
  name: string;
  hfName?: string;
  bosId: number | null;
  eosId: number | null;
  fingerprint: string;
  /** Entries kept in the piece cache before it is cleared (bounded memory on adversarial text). */
  maxCacheEntries?: number;
}

// Tiktoken cores by vocabulary fingerprint, shared by every tokenizer of this thread and kept for its life: building
// one costs ~0.15 CPU-s, and one build loads the Llama-3 vocabulary some 25 times (the tokenize step, then every
// mixture and each of its document sources); one core per vocabulary is tens of MB. Encoding is synchronous, so
// sharing a core between tokenizers cannot interleave.
const cores = new Map<string, Tiktoken>();

// Pieces longer than this are not cached: long runs of whitespace or symbols are rare and would bloat the cache.
const MAX_CACHED_PIECE = 48;
const decoder = new TextDecoder("utf-8");

export class CachedBpeTokenizer implements Tokenizer {
  readonly name: string;
  readonly hfName: string;
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly fingerprint: string;
  private core: Tiktoken;
  private split: RegExp;
  /** the hand-written Llama-3 pre-split (same pieces as `split`), when the pattern is Llama-3's */
  private splitter: Llama3Splitter | null;
  private cache: PieceCache;

  constructor(def: BpeDefinition, opts: BpeOptions) {
    this.name = opts.name;
    this.hfName = opts.hfName ?? opts.name;
    this.vocabSize = def.vocabSize;
    this.bosId = opts.bosId;
    this.eosId = opts.eosId;
    this.fingerprint = opts.fingerprint;
    this.cache = new PieceCache(opts.maxCacheEntries ?? 1 << 20);
    this.split = compileSplitPattern(def.pattern);
    this.splitter = def.pattern === LLAMA3_PATTERN ? new Llama3Splitter() : null;
    const shared = cores.get(opts.fingerprint);
    if (shared) this.core = shared;
    else {
      try {
        this.core = new Tiktoken(def.ranks, def.specials, def.pattern);
      } catch (e) {
        throw new Error(`tokenizer ${opts.name}: tiktoken rejected the vocabulary or pattern: ${String(e)}`);
      }
      cores.set(opts.fingerprint, this.core);
    }
  }

  encodeInto(text: string, out: TokenSink): number {
    const start = out.length;
    const len = text.length;
    const sp = this.splitter;
    if (sp) {
      for (let pos = 0; pos < len; ) {
        const end = sp.pieceEnd(text, pos, len);
        this.piece(text, pos, end, out);
        pos = end;
      }
      return out.length - start;
    }
    const re = this.split;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      this.piece(text, m.index, m.index + m[0].length, out);
    }
    return out.length - start;
  }

  /** Append the ids of text[pos, end): from the cache, else from tiktoken (then cached if short). */
  private piece(text: string, pos: number, end: number, out: TokenSink): void {
    const cache = this.cache;
    const short = end - pos <= MAX_CACHED_PIECE;
    const h = short ? PieceCache.hash(text, pos, end) : 0;
    if (short) {
      const hit = cache.get(text, pos, end, h);
      if (hit >= 0) return out.push(hit);
      if (hit === -1) return out.pushRange(cache.multi, cache.multiAt, cache.multiLen);
    }
    const ids = this.core.encode_ordinary(text.slice(pos, end));
    if (short) cache.set(text, pos, end, h, ids);
    out.pushAll(ids);
  }

  encode(text: string): number[] {
    const sink = new TokenSink(Math.max(16, text.length >> 1));
    this.encodeInto(text, sink);
    return Array.from(sink.take());
  }

  decode(ids: ArrayLike<number>): string {
    const arr = ids instanceof Uint32Array ? ids : Uint32Array.from(ids as ArrayLike<number>);
    for (const id of arr) {
      if (id >= this.vocabSize) throw new Error(`decode: token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    }
    return decoder.decode(this.core.decode(arr));
  }

  free(): void {
    // The core is shared (see `cores`): only this tokenizer's piece cache goes.
    this.cache.clear();
  }
}
