// The encoder: a JS pre-split with the tokenizer's own regex (a hand-written scanner for Llama-3's), a cache of
// pieces already seen, and a JS byte-level BPE (byte-bpe.ts, tiktoken's merge rule) only for pieces not in the cache.
// Most pieces of real text are frequent words, so most of the work is the split and the cache lookup. tiktoken's
// WASM encoder was used for the misses until it measured ~10x slower per piece than the JS merge loop (its call
// overhead dominates on short pieces); tiktoken stays the reference the tests compare ids against.
import { compileSplitPattern, LLAMA3_PATTERN } from "./pattern.js";
import { Llama3Splitter } from "./llama3-split.js";
import { PieceCache } from "./piece-cache.js";
import { ByteBpe } from "./byte-bpe.js";
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
  /** Release the piece cache. The tokenizer must not be used afterwards. */
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

// BPE tables by vocabulary fingerprint, shared by every tokenizer of this thread and kept for its life: one build
// loads the Llama-3 vocabulary some 25 times (the tokenize step, then every mixture and each of its document
// sources). Encoding is synchronous, so sharing a table between tokenizers cannot interleave.
const tables = new Map<string, ByteBpe>();
let built = 0;

/** BPE tables this thread has built (each ~90 ms for Llama-3): a thread that only needs a tokenizer's facts, or
 * hands its texts to worker threads, builds none. */
export function bpeTablesBuilt(): number {
  return built;
}

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
  private readonly def: BpeDefinition;
  private table: ByteBpe | null = null;
  private splitRe: RegExp | null = null;
  /** the hand-written Llama-3 pre-split (same pieces as the pattern), when the pattern is Llama-3's */
  private splitter: Llama3Splitter | null | undefined;
  private readonly cache: PieceCache;
  /** encode()'s reusable sink */
  private scratch = new TokenSink(1 << 12);

  constructor(def: BpeDefinition, opts: BpeOptions) {
    this.name = opts.name;
    this.hfName = opts.hfName ?? opts.name;
    this.vocabSize = def.vocabSize;
    this.bosId = opts.bosId;
    this.eosId = opts.eosId;
    this.fingerprint = opts.fingerprint;
    this.def = def;
    this.cache = new PieceCache(opts.maxCacheEntries ?? 1 << 20);
  }

  // The BPE table (~90 ms to build for Llama-3) and the pre-split (~15 ms) are made on first use: a tokenizer made
  // for its facts (name, vocabulary size, fingerprint: a manifest, a step's identity) or one whose batches go to
  // worker threads never encodes on this thread. A damaged ranks table fails at the first encode or decode then.
  private get bpe(): ByteBpe {
    if (this.table) return this.table;
    let t = tables.get(this.fingerprint);
    if (!t) {
      t = new ByteBpe(this.def.ranks, this.def.specials, `tokenizer ${this.name}`);
      tables.set(this.fingerprint, t);
      built++;
    }
    return (this.table = t);
  }

  private get split(): RegExp {
    return (this.splitRe ??= compileSplitPattern(this.def.pattern));
  }

  encodeInto(text: string, out: TokenSink): number {
    const start = out.length;
    const len = text.length;
    if (this.splitter === undefined) this.splitter = this.def.pattern === LLAMA3_PATTERN ? new Llama3Splitter() : null;
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

  /** Append the ids of text[pos, end): from the cache, else from the byte-level BPE (then cached if short). */
  private piece(text: string, pos: number, end: number, out: TokenSink): void {
    const cache = this.cache;
    const short = end - pos <= MAX_CACHED_PIECE;
    const h = short ? PieceCache.hash(text, pos, end) : 0;
    if (short) {
      const hit = cache.get(text, pos, end, h);
      if (hit >= 0) return out.push(hit);
      if (hit === -1) return out.pushRange(cache.multi, cache.multiAt, cache.multiLen);
    }
    // At most one id per UTF-8 byte, at most 3 bytes per UTF-16 code unit.
    const room = (end - pos) * 3;
    if (out.length + room > out.ids.length) out.grow(out.length + room);
    const n = this.bpe.encodePiece(text, pos, end, out.ids, out.length);
    if (short) cache.set(text, pos, end, h, out.ids.subarray(out.length, out.length + n));
    out.length += n;
  }

  encode(text: string): number[] {
    const sink = this.scratch;
    sink.clear();
    this.encodeInto(text, sink);
    // A plain loop: Array.from on a typed array was ~15% of encode()'s time.
    const n = sink.length;
    const ids = sink.ids;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = ids[i]!;
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    const arr = ids instanceof Uint32Array ? ids : Uint32Array.from(ids as ArrayLike<number>);
    for (const id of arr) {
      if (id >= this.vocabSize) throw new Error(`decode: token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    }
    return decoder.decode(this.bpe.decodeBytes(arr));
  }

  free(): void {
    // The BPE table is shared (see `tables`): only this tokenizer's piece cache goes.
    this.cache.clear();
  }
}
