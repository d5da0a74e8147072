// 64-bit n-gram hashes computed as two independent 32-bit lanes, because JavaScript has fast 32-bit integer
// multiplication (Math.imul) and only slow 64-bit BigInt arithmetic.
//
// Token hash (per lane): FNV-style multiply over the UTF-16 code units, different seed and multiplier per lane,
// finished with murmur3's fmix32 so the bits are well spread.
// N-gram hash (per lane): the polynomial Σ_j t[i+j]·P^(n-1-j) mod 2^32 with an odd P per lane, updated in O(1) per
// position (rolling). With well-spread token hashes and odd P, two different n-grams collide in one lane with
// probability about 2^-32, in both lanes about 2^-64. The id below is stored in the index and checked at load.
import * as norm from "./normalize.js";

// Local copies of the imported bindings: under tsx (CommonJS transform) every access to an imported binding is a
// getter call, which costs more than the tokenizer's own work per character.
const { COMMAND_ALIASES, DROPPED_COMMANDS, LETTER, SEP, charClass, codePointClass, foldText } = norm;

export const HASH_ID = "poly2x32-fnv-fmix-v1";

const SEED_A = 0x811c9dc5 | 0;
const SEED_B = 0x2545f491 | 0;
const MUL_A = 0x01000193;
const MUL_B = 0x5bd1e995;
const P_A = 0x9e3779b1 | 0;
const P_B = 0x85ebca77 | 0;

const ASCII_CLASS = Uint8Array.from({ length: 128 }, (_, c) => charClass(c));

/** Class of a non-ASCII code unit at s[i]; kept out of the tokenizer loop so the ASCII path stays small. */
function slowClass(s: string, i: number, c: number): number {
  return c < 0xd800 || c > 0xdfff ? charClass(c) : pairClass(s, i);
}

const DROP = "\u0000drop";

/**
 * Listed LaTeX commands keyed by their raw lane-A hash, so recognising one needs no string slice (command tokens are
 * frequent in math text). A hit is confirmed by comparing the characters, so a hash collision cannot drop a word.
 */
const COMMANDS = new Map<number, { name: string; action: string }[]>();
for (const [name, action] of [
  ...[...DROPPED_COMMANDS].map((n) => [n, DROP] as const),
  ...[...COMMAND_ALIASES].map(([n, a]) => [n, a] as const),
]) {
  const h = rawHashA(name);
  const list = COMMANDS.get(h) ?? [];
  list.push({ name, action });
  COMMANDS.set(h, list);
}

function rawHashA(name: string): number {
  let h = SEED_A;
  for (let j = 0; j < name.length; j++) h = Math.imul(h ^ name.charCodeAt(j), MUL_A);
  return h;
}

/** DROP for a layout-only LaTeX command, its alias for a folded synonym, else undefined. */
function commandAction(s: string, start: number, end: number, rawA: number): string | undefined {
  const list = COMMANDS.get(rawA);
  if (list === undefined) return undefined;
  for (const { name, action } of list) {
    if (name.length !== end - start) continue;
    let same = true;
    for (let j = 0; j < name.length && same; j++) same = name.charCodeAt(j) === s.charCodeAt(start + j);
    if (same) return action;
  }
  return undefined;
}

function aliasHashA(alias: string): number {
  let h = SEED_A;
  for (let j = 0; j < alias.length; j++) h = Math.imul(h ^ alias.charCodeAt(j), MUL_A);
  return h;
}

function aliasHashB(alias: string): number {
  let h = SEED_B;
  for (let j = 0; j < alias.length; j++) h = Math.imul(h ^ alias.charCodeAt(j), MUL_B);
  return h;
}

/** Class of the surrogate at s[i]: a complete pair is classified as its code point, a lone half is a separator. */
function pairClass(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c > 0xdbff || i + 1 >= s.length) return SEP;
  const d = s.charCodeAt(i + 1);
  if (d < 0xdc00 || d > 0xdfff) return SEP;
  return codePointClass(s.codePointAt(i)!);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function pow32(p: number, e: number): number {
  let r = 1;
  for (let i = 0; i < e; i++) r = Math.imul(r, p);
  return r | 0;
}

/**
 * The tokens of one text with their lane hashes and offsets in the folded string — the tokenizer and the hasher
 * fused into one pass over the characters (normalize.ts documents the rules). Index build and document scan both
 * go through load(), so the two sides cannot tokenize differently. Buffers are reused between calls (one instance
 * per thread), so a scan allocates almost nothing per document.
 */
export class TokenizedText {
  folded = "";
  count = 0;
  hashA = new Int32Array(1024);
  hashB = new Int32Array(1024);
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  /** 1 when the token is a prose word: letters, 2+ code units, not a LaTeX command name. */
  prose = new Uint8Array(1024);
  /** Token index → alias text, for the rare folded LaTeX synonyms. */
  aliases = new Map<number, string>();

  private grow(): void {
    const n = this.hashA.length * 2;
    for (const key of ["hashA", "hashB", "start", "end"] as const) {
      const next = new Int32Array(n);
      next.set(this[key]);
      this[key] = next;
    }
    const p = new Uint8Array(n);
    p.set(this.prose);
    this.prose = p;
  }

  /** Fold and tokenize `text` into this buffer (previous content is discarded). */
  load(text: string): this {
    const s = (this.folded = foldText(text));
    this.count = 0;
    if (this.aliases.size) this.aliases.clear();
    const n = s.length;
    let HA = this.hashA;
    let HB = this.hashB;
    let ST = this.start;
    let EN = this.end;
    let PR = this.prose;
    let t = 0;
    let i = 0;
    while (i < n) {
      // Skip separators.
      let c = s.charCodeAt(i);
      let k = c < 128 ? ASCII_CLASS[c] : slowClass(s, i, c);
      if (k === SEP) {
        i += c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
        continue;
      }
      // A token: extend the run of one class, hashing every code unit in both lanes as we go.
      const start = i;
      let ha = SEED_A;
      let hb = SEED_B;
      while (true) {
        ha = Math.imul(ha ^ c, MUL_A);
        hb = Math.imul(hb ^ c, MUL_B);
        i++;
        if (c >= 0xd800 && c <= 0xdbff) {
          // Second half of a surrogate pair (pairClass only returns non-SEP for complete pairs).
          c = s.charCodeAt(i);
          ha = Math.imul(ha ^ c, MUL_A);
          hb = Math.imul(hb ^ c, MUL_B);
          i++;
        }
        if (i >= n) break;
        c = s.charCodeAt(i);
        const k2 = c < 128 ? ASCII_CLASS[c] : slowClass(s, i, c);
        if (k2 !== k) break;
      }
      let prose = k === LETTER && i - start >= 2 ? 1 : 0;
      if (k === LETTER && start > 0 && s.charCodeAt(start - 1) === 92 /* \\ */) {
        // A LaTeX command name: never a prose word; dropped, or folded to its alias (then hashed as the alias).
        prose = 0;
        const alias = commandAction(s, start, i, ha);
        if (alias === DROP) continue;
        if (alias !== undefined) {
          ha = aliasHashA(alias);
          hb = aliasHashB(alias);
          this.aliases.set(t, alias);
        }
      }
      if (t === HA.length) {
        this.grow();
        HA = this.hashA;
        HB = this.hashB;
        ST = this.start;
        EN = this.end;
        PR = this.prose;
      }
      HA[t] = fmix32(ha);
      HB[t] = fmix32(hb ^ 0x68e31da4);
      ST[t] = start;
      EN[t] = i;
      PR[t] = prose;
      t++;
    }
    this.count = t;
    return this;
  }

  /** Normalized text of token t. */
  token(t: number): string {
    return this.aliases.get(t) ?? this.folded.slice(this.start[t], this.end[t]);
  }

  /** The normalized text of tokens [from, to), space-joined (for reports). */
  tokenText(from: number, to: number): string {
    const parts: string[] = [];
    for (let t = from; t < to; t++) parts.push(this.token(t));
    return parts.join(" ");
  }
}

/** The normalized tokens of a text, as strings (for reports, tests and docs). */
export function normalizeTokens(text: string): string[] {
  const t = new TokenizedText().load(text);
  return Array.from({ length: t.count }, (_, i) => t.token(i));
}

/** Rolling-hash constants for n-grams of length n (exported for the inlined scan loop in matcher.ts). */
export function rollingConstants(n: number): { pa: number; pb: number; topA: number; topB: number } {
  return { pa: P_A, pb: P_B, topA: pow32(P_A, n - 1), topB: pow32(P_B, n - 1) };
}

/**
 * Call `visit(hi, lo, position)` for every n-gram of the tokenized text, in order; stop early when visit returns
 * true. hi/lo are the unsigned 32-bit lanes. Texts with fewer than n tokens have no n-grams.
 */
export function forEachNgram(
  t: TokenizedText,
  n: number,
  visit: (hi: number, lo: number, pos: number) => boolean | void,
): void {
  const count = t.count;
  if (count < n) return;
  const a = t.hashA;
  const b = t.hashB;
  const topA = pow32(P_A, n - 1);
  const topB = pow32(P_B, n - 1);
  let ha = 0;
  let hb = 0;
  for (let j = 0; j < n; j++) {
    ha = (Math.imul(ha, P_A) + a[j]) | 0;
    hb = (Math.imul(hb, P_B) + b[j]) | 0;
  }
  if (visit(ha >>> 0, hb >>> 0, 0) === true) return;
  for (let i = 1; i + n <= count; i++) {
    ha = (Math.imul((ha - Math.imul(a[i - 1], topA)) | 0, P_A) + a[i + n - 1]) | 0;
    hb = (Math.imul((hb - Math.imul(b[i - 1], topB)) | 0, P_B) + b[i + n - 1]) | 0;
    if (visit(ha >>> 0, hb >>> 0, i) === true) return;
  }
}

/** The hash of exactly the tokens [from, from+len) (used for items shorter than n, hashed whole). */
export function hashSpan(t: TokenizedText, from: number, len: number): [number, number] {
  let ha = 0;
  let hb = 0;
  for (let j = from; j < from + len; j++) {
    ha = (Math.imul(ha, P_A) + t.hashA[j]) | 0;
    hb = (Math.imul(hb, P_B) + t.hashB[j]) | 0;
  }
  return [ha >>> 0, hb >>> 0];
}
