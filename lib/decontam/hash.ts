// 64-bit n-gram hashes computed as two independent 32-bit lanes, because JavaScript has fast 32-bit integer
// multiplication (Math.imul) and only slow 64-bit BigInt arithmetic.
//
// Token hash (per lane): FNV-style multiply over the UTF-16 code units of the folded token, different seed and
// multiplier per lane, finished with murmur3's fmix32 so the bits are well spread.
// N-gram hash (per lane): the polynomial Σ_j t[i+j]·P^(n-1-j) mod 2^32 with an odd P per lane, updated in O(1) per
// position (rolling). With well-spread token hashes and odd P, two different n-grams collide in one lane with
// probability about 2^-32, in both lanes about 2^-64. The id below is stored in the index and checked at load.
//
// The tokenizer reads UTF-8 bytes, not JavaScript strings: typed-array reads are faster than charCodeAt, and the
// pipeline already holds every document as UTF-8 in its Arrow column, so a scan never builds a string. The hashes are
// still those of the UTF-16 code units (a multi-byte character is decoded and hashed as its one or two units), so
// the shipped index is unchanged.
import * as norm from "./normalize.js";
import * as parts from "./hash-parts.js";

// Local copies of the imported bindings: under tsx (CommonJS transform) every access to an imported binding is a
// getter call, which costs more than the tokenizer's own work per character.
const { LETTER, SEP, codePointClass, foldText } = norm;
const { SEED_A, SEED_B, MUL_A, MUL_B, P_A, P_B, MULTI, BYTE_CLASS, MERGE_GAP, DROP, isSpace, keptLength, nextToFold, commandAction, aliasHashA, aliasHashB, fmix32, pow32 } = parts;

export const HASH_ID = "poly2x32-fnv-fmix-v1";


const encoder = new TextEncoder();
/** ignoreBOM: a U+FEFF at the start of a piece stays the separator it is anywhere else. */
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The code point and byte length of the last multi-byte character multiByteClass decoded (no allocation). */
let mbCode = 0;
let mbBytes = 0;

/**
 * Class of the UTF-8 sequence starting at b[i] (lead byte >= 0x80); its code point and length go to mbCode /
 * mbBytes. The tokenizer only sees TextEncoder output or pure ASCII, so sequences are well formed; a stray byte is
 * read as a one-byte separator (U+FFFD), which is what a decoder would have made of it.
 */
function multiByteClass(b: Uint8Array, i: number, to: number): number {
  const c = b[i];
  if (c >= 0xe0 && c < 0xf0 && i + 2 < to) {
    mbCode = ((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63);
    mbBytes = 3;
  } else if (c >= 0xc0 && c < 0xe0 && i + 1 < to) {
    mbCode = ((c & 31) << 6) | (b[i + 1] & 63);
    mbBytes = 2;
  } else if (c >= 0xf0 && c < 0xf8 && i + 3 < to) {
    mbCode = ((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63);
    mbBytes = 4;
  } else {
    mbCode = 0xfffd;
    mbBytes = 1;
    return SEP;
  }
  return codePointClass(mbCode);
}

/**
 * The tokens of one text with their lane hashes — the tokenizer and the hasher fused into one pass over the UTF-8
 * bytes (normalize.ts documents the rules). Buffers are reused between calls (one instance per thread), so a scan
 * allocates almost nothing per document.
 *
 * Two ways in, same tokens and hashes:
 *  - load(text): the reference. Folds the whole text (NFKC + lowercase), then tokenizes it; start/end are offsets in
 *    `folded` and token()/tokenText() work. Index build, reports and tests use it.
 *  - loadUtf8(bytes) / loadFast(text): the scan. ASCII is tokenized straight from the input, lowercased on the fly;
 *    only the whitespace-delimited pieces around non-ASCII characters are folded (see loadUtf8 for why that is the
 *    same as folding everything). Offsets are not kept; token() refuses.
 */
export class TokenizedText {
  folded = "";
  count = 0;
  hashA = new Int32Array(1024);
  hashB = new Int32Array(1024);
  /** Token offsets in UTF-16 units of `folded` (reference load only). */
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  /** 1 when the token is a prose word: letters, 2+ code units, not a LaTeX command name. */
  prose = new Uint8Array(1024);
  /** Token index → alias text, for the rare folded LaTeX synonyms. */
  aliases = new Map<number, string>();
  /** False after loadUtf8/loadFast: hashes only, no offsets. */
  private exact = false;
  /** Bytes minus UTF-16 units consumed so far, to turn byte offsets into unit offsets. */
  private delta = 0;
  /** Where tokenize(…, stopAtFold) saw the last whitespace before it stopped, and the token count then. */
  private wsAt = 0;
  private wsCount = 0;
  /** UTF-8 of a string input (loadFast). */
  private raw = new Uint8Array(4096);
  /** UTF-8 of a folded text or piece. */
  private scratch = new Uint8Array(4096);

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

  private reset(exact: boolean, folded: string): void {
    this.count = 0;
    this.delta = 0;
    this.exact = exact;
    this.folded = folded;
    if (this.aliases.size) this.aliases.clear();
  }

  /** `s` as UTF-8 in the given reusable buffer (grown when short); returns the byte length. */
  private encode(s: string, which: "raw" | "scratch"): number {
    // encodeInto needs room for the worst case: 3 bytes per UTF-16 unit.
    if (this[which].length < 3 * s.length) this[which] = new Uint8Array(Math.max(3 * s.length, 2 * this[which].length));
    return encoder.encodeInto(s, this[which]).written;
  }

  /** Reference: fold and tokenize `text` into this buffer (previous content is discarded). */
  load(text: string): this {
    const folded = foldText(text);
    this.reset(true, folded);
    const n = this.encode(folded, "scratch");
    this.tokenize(this.scratch, 0, n, false);
    return this;
  }

  /** Scan path for a string: encode once, then loadUtf8. Same tokens and hashes as load(). */
  loadFast(text: string): this {
    const n = this.encode(text, "raw"); // may replace this.raw: read it after
    return this.loadUtf8(this.raw, 0, n);
  }

  /**
   * Scan path for UTF-8 bytes b[from, to) (e.g. straight from an Arrow column). Same tokens and hashes as
   * load(decoded text). Most web text is ASCII with a few non-ASCII characters (81% of the bench corpus's documents
   * have one, 0.2% of its characters are), and folding a whole document through ICU cost more than tokenizing it.
   * So ASCII, and the non-ASCII characters that folding keeps in any context (curly quotes, dashes, most letters;
   * normalize.ts foldKeeps), are read as they are (lowercasing is `| 0x20` on ASCII letters and digits); only the
   * pieces around other characters, cut at ASCII whitespace, go through NFKC + toLowerCase. Cutting at whitespace W
   * changes nothing:
   * W is a starter that no canonical composition involves, so NFKC(a + W…) = NFKC(a) + NFKC(W…); W is neither
   * cased nor case-ignorable, so the only context-dependent lowercase rule (final sigma) stops at it; and W separates
   * tokens, so no token spans a cut. A test checks this against load() on every text in ../shared/data.
   */
  loadUtf8(b: Uint8Array, from = 0, to = b.length): this {
    this.reset(false, "");
    let pos = from;
    while (pos < to) {
      // Tokenize as is until a character folding may change; then take back the tokens after the last whitespace.
      const j = this.tokenize(b, pos, to, true);
      if (j === to) break;
      const rs = this.wsAt;
      for (let t = this.wsCount; t < this.count; t++) this.aliases.delete(t);
      this.count = this.wsCount;
      // The piece to fold: from that whitespace to the whitespace after the last such character (pieces close
      // together are merged).
      let re = j;
      for (;;) {
        while (re < to && !isSpace(b[re])) re++;
        const lim = Math.min(to, re + MERGE_GAP);
        const k = nextToFold(b, re, lim, to);
        if (k >= lim) break;
        re = k;
      }
      const n = this.encode(foldText(decoder.decode(b.subarray(rs, re))), "scratch");
      this.tokenize(this.scratch, 0, n, false);
      pos = re;
    }
    return this;
  }

  /**
   * Append the tokens of the UTF-8 bytes b[from, to); ASCII letters are lowercased here, the rest must be folded
   * already unless `stopAtFold`: then a character that folding may change (or malformed UTF-8) stops the scan, and
   * the return value is its position, with wsAt / wsCount saying where the last whitespace before it was and how many
   * tokens there were then. Returns `to` when the whole range was tokenized.
   */
  private tokenize(b: Uint8Array, from: number, to: number, stopAtFold: boolean): number {
    let HA = this.hashA;
    let HB = this.hashB;
    let ST = this.start;
    let EN = this.end;
    let PR = this.prose;
    let t = this.count;
    let delta = this.delta;
    let wsAt = from;
    let wsCount = t;
    // Module constants copied to locals: in the hot loop a module-scope read costs more than the work itself.
    const CLS = BYTE_CLASS;
    const MA = MUL_A;
    const MB = MUL_B;
    const S = SEP;
    const L = LETTER;
    const M = MULTI;
    let i = from;
    outer: while (i < to) {
      // Skip a run of ASCII separators, remembering the last whitespace without a branch (sel is -1 on SPACE, 0 on
      // SEP): whitespace and punctuation alternate unpredictably, and a mispredicted branch costs more than this.
      let c = b[i];
      let k = CLS[c];
      if (k <= S) {
        do {
          const sel = k - 1;
          wsAt = (i & sel) | (wsAt & ~sel);
          wsCount = (t & sel) | (wsCount & ~sel);
          if (++i >= to) break outer;
          c = b[i];
          k = CLS[c];
        } while (k <= S);
      }
      if (k === M) {
        if (stopAtFold && keptLength(b, i, to) === 0) break;
        k = multiByteClass(b, i, to);
        if (k === S) {
          delta += mbBytes - (mbCode > 0xffff ? 2 : 1);
          i += mbBytes;
          continue;
        }
      }
      // A token: extend the run of one class, hashing every UTF-16 unit in both lanes as we go.
      const start = i;
      const startDelta = delta;
      let ha = SEED_A;
      let hb = SEED_B;
      for (;;) {
        if (c < 128) {
          // The hot loop: a run of ASCII letters or digits. `| 0x20` lowercases letters, keeps digits (0x30-0x39).
          for (;;) {
            c |= 0x20;
            ha = Math.imul(ha ^ c, MA);
            hb = Math.imul(hb ^ c, MB);
            if (++i >= to) break;
            c = b[i];
            if (CLS[c] !== k) break;
          }
        } else {
          const cp = mbCode;
          if (cp < 0x10000) {
            ha = Math.imul(ha ^ cp, MA);
            hb = Math.imul(hb ^ cp, MB);
            delta += mbBytes - 1;
          } else {
            // Astral: its two surrogate units, high then low, as the UTF-16 string holds them.
            const hi = 0xd7c0 + (cp >> 10);
            const lo = 0xdc00 | (cp & 0x3ff);
            ha = Math.imul(Math.imul(ha ^ hi, MA) ^ lo, MA);
            hb = Math.imul(Math.imul(hb ^ hi, MB) ^ lo, MB);
            delta += mbBytes - 2;
          }
          i += mbBytes;
        }
        if (i >= to) break;
        c = b[i];
        const k2 = CLS[c];
        if (k2 === k) continue;
        // A multi-byte character continues the token when its class is the token's (multiByteClass sets mbCode).
        if (k2 !== M) break;
        if (stopAtFold && keptLength(b, i, to) === 0) break outer;
        if (multiByteClass(b, i, to) !== k) break;
      }
      const units = i - start - (delta - startDelta);
      let prose = k === L && units >= 2 ? 1 : 0;
      if (k === L && start > from && b[start - 1] === 92 /* \\ */) {
        // A LaTeX command name: never a prose word; dropped, or folded to its alias (then hashed as the alias).
        prose = 0;
        const alias = commandAction(b, start, i, ha);
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
      ST[t] = start - startDelta;
      EN[t] = i - delta;
      PR[t] = prose;
      t++;
    }
    this.count = t;
    this.delta = delta;
    this.wsAt = wsAt;
    this.wsCount = wsCount;
    return i < to ? i : to;
  }

  /** Normalized text of token t (after load(); the scan path keeps no offsets). */
  token(t: number): string {
    if (!this.exact) throw new Error("token text needs TokenizedText.load (loadUtf8/loadFast keep hashes only)");
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
