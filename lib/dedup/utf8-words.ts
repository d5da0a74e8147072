// The normalized word hashes of a document straight from its UTF-8 bytes (the Arrow text column), with no JS
// string: no TextDecoder, no toLowerCase/NFD copies, no second pass. It yields exactly what MinHasher's string
// path yields (lowerNfd -> normalizeInto -> word split -> FNV-1a + fmix32 per word), or says it cannot.
//
// Why it is exact:
// - lowerNfd(text) = NFD(toLowerCase(text)). V8's toLowerCase (ICU, root locale) maps each code point on its own
//   except U+03A3 (final sigma depends on the context), and NFD decomposes each code point on its own, then
//   reorders runs of combining characters (non-zero canonical class). So, per code point c, the table below holds
//   NFD(toLowerCase(c)), provided c is not U+03A3, not itself a combining mark (it could be reordered with its
//   neighbours), and its mapping starts with a character of class 0 (checked when the table is built). Then the
//   concatenation of the per-code-point mappings is NFD(toLowerCase(text)), unit for unit.
// - normalizeInto is a left-to-right state machine over those units (digit runs with one optional decimal part
//   become "0", marks are dropped, separators end words); the loop below runs the same machine, holding back one
//   decimal separator until it knows whether a digit follows (normalizeInto looks one unit ahead instead).
// - Anything else returns -1 and the caller takes the string path: U+03A3, combining marks in the input, code
//   points outside the BMP, malformed UTF-8 (TextDecoder would put U+FFFD there). On web text that is ~1% of
//   documents. A leading byte-order mark is skipped, as TextDecoder does.
// The mapping table is built lazily, 256 code points at a time, so a process pays only for the blocks its text
// uses (building all 65,536 entries eagerly cost more CPU than signing a few hundred documents).
import { CLASS, WORD, SEP, DIGIT } from "./normalize.js";
import { fmix32 } from "./fmix.js";

/** Entry of a code point whose mapping is one unit: (class << 16) | unit. */
const MULTI = 1 << 20; // entries >= MULTI: MULTI + index of a [length, entry, entry, ...] run in POOL
const FALLBACK = -1;
const UNBUILT = -2;

const MAP = new Int32Array(65536).fill(UNBUILT);
let POOL = new Int32Array(1024);
let poolUsed = 0;

const IS_MARK = /^\p{M}$/u;

/** A mapping's first unit must have canonical combining class 0, or NFD could reorder it with the marks ending
 * the previous code point's mapping. JS has no API for the class, so test it: a unit of non-zero class moves
 * before U+0345 (class 240) or after U+0334 (class 1) under NFD, except class 240 itself, which moves after
 * U+0334 too. */
function startsWithStarter(t: string): boolean {
  const u = t[0];
  return ("a\u0345" + u).normalize("NFD") === "a\u0345" + u && ("a" + u + "\u0334").normalize("NFD") === "a" + u + "\u0334";
}

function buildPage(page: number): void {
  for (let c = page << 8, end = c + 256; c < end; c++) MAP[c] = entryFor(c);
}

function entryFor(c: number): number {
  if (c >= 0xd800 && c <= 0xdfff) return FALLBACK; // never decoded from valid UTF-8; kept out for safety
  if (c === 0x03a3) return FALLBACK; // GREEK CAPITAL SIGMA: lowercases by context
  const ch = String.fromCharCode(c);
  if (IS_MARK.test(ch)) return FALLBACK;
  const t = ch.toLowerCase().normalize("NFD");
  if (t.length === 0 || !startsWithStarter(t)) return FALLBACK;
  const entries: number[] = [];
  let sep = false;
  for (let i = 0; i < t.length; i++) {
    const u = t.charCodeAt(i);
    const k = CLASS[u];
    if (k > DIGIT) return FALLBACK; // a surrogate in the mapping
    // Text after a separator inside one mapping would let one code point start two words; the word buffer is
    // sized for at most one word per input byte, so such (hypothetical) mappings take the string path.
    if (sep && (k === WORD || k === DIGIT)) return FALLBACK;
    if (k === SEP) sep = true;
    entries.push((k << 16) | u);
  }
  if (entries.length === 1) return entries[0];
  if (poolUsed + entries.length + 1 > POOL.length) {
    const grown = new Int32Array(POOL.length * 2);
    grown.set(POOL);
    POOL = grown;
  }
  const at = poolUsed;
  POOL[at] = entries.length;
  POOL.set(entries, at + 1);
  poolUsed += entries.length + 1;
  return MULTI + at;
}

/** The table entry of BMP code point c, building its page on first use. */
function entry(c: number): number {
  let e = MAP[c];
  if (e === UNBUILT) {
    buildPage(c >> 8);
    e = MAP[c];
  }
  return e;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Entries below this are WORD units; below DIGIT_ENTRY, SEP (ASCII has no MARK); the rest DIGIT. */
const SEP_ENTRY = SEP << 16;
const DIGIT_ENTRY = DIGIT << 16;

/** Index of the first byte at or after i that is not an ASCII digit. */
function skipAsciiDigits(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && ((bytes[i] - 0x30) >>> 0) < 10) i++;
  return i;
}

/** Hash the normalized words of bytes[start, end) into `words` (room for end - start + 1 values needed); returns
 * the word count, or -1 when the document must take the string path (see the top of this file). */
export function hashWordsUtf8(bytes: Uint8Array, start: number, end: number, words: Int32Array): number {
  const map = MAP;
  let i = start;
  if (end - start >= 3 && bytes[i] === 0xef && bytes[i + 1] === 0xbb && bytes[i + 2] === 0xbf) i += 3;
  let n = 0;
  let h = FNV_OFFSET;
  let inWord = false;
  // Digit runs: 0 = not in one, 1 = integer digits, 2 = a decimal separator held back, 3 = fraction digits.
  let state = 0;
  let held = 0;
  outer: while (i < end) {
    if (state === 0) {
      // ASCII outside the digit-run states: nearly all of the text, in one tight loop.
      let b = bytes[i];
      while (b < 0x80) {
        const e = map[b];
        if (e < SEP_ENTRY) {
          h = Math.imul(h ^ e, FNV_PRIME);
          inWord = true;
          i++;
        } else if (e < DIGIT_ENTRY) {
          if (inWord) {
            words[n++] = fmix32(h);
            h = FNV_OFFSET;
            inWord = false;
          }
          i++;
        } else {
          // An ASCII digit run becomes "0", with one optional decimal part. A non-ASCII byte where the run could
          // go on (a non-ASCII digit or decimal separator) hands over to the general step in the right state.
          h = Math.imul(h ^ 0x30, FNV_PRIME);
          inWord = true;
          i = skipAsciiDigits(bytes, i + 1, end);
          if (i < end) {
            const sep = bytes[i];
            if (sep === 0x2e || sep === 0x2c) {
              const next = i + 1 < end ? bytes[i + 1] : 0;
              if (((next - 0x30) >>> 0) < 10) {
                i = skipAsciiDigits(bytes, i + 2, end);
                if (i < end && bytes[i] >= 0x80) {
                  state = 3;
                  break;
                }
              } else if (next >= 0x80) {
                state = 2;
                held = sep;
                i++;
                break;
              }
              // else the separator is ordinary text: the loop meets it next
            } else if (sep >= 0x80) {
              state = 1;
              break;
            }
          }
        }
        if (i >= end) break outer;
        b = bytes[i];
      }
    }
    // The general step: one code point (any byte), through the full digit-run state machine.
    let e: number;
    const b = bytes[i];
    if (b < 0x80) {
      e = map[b];
      i++;
    } else {
      let c: number;
      if (b < 0xe0) {
        if (b < 0xc2 || i + 1 >= end) return -1;
        const b1 = bytes[i + 1];
        if ((b1 & 0xc0) !== 0x80) return -1;
        c = ((b & 0x1f) << 6) | (b1 & 0x3f);
        i += 2;
      } else if (b < 0xf0) {
        if (i + 2 >= end) return -1;
        const b1 = bytes[i + 1], b2 = bytes[i + 2];
        if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80) return -1;
        c = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
        if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) return -1; // overlong, or an encoded surrogate
        i += 3;
      } else {
        return -1; // outside the BMP (or malformed)
      }
      e = map[c];
      if (e === UNBUILT) e = entry(c);
      if (e < 0) return -1;
    }
    let p = 0; // further units of a multi-unit mapping: POOL[p, pEnd)
    let pEnd = 0;
    if (e >= MULTI) {
      p = e - MULTI + 1;
      pEnd = p + POOL[p - 1];
      e = POOL[p++];
    }
    for (;;) {
      const k = e >>> 16;
      let text = true; // false: the unit was absorbed by a digit run
      if (state !== 0) {
        if (k === DIGIT) {
          if (state === 2) state = 3; // the held separator was a decimal point: it and the digits vanish
          text = false;
        } else {
          const u = e & 0xffff;
          if (state === 1 && (u === 0x2e || u === 0x2c || u === 0x66b || u === 0x66c)) {
            state = 2;
            held = u;
            text = false;
          } else {
            if (state === 2) {
              // Not followed by a digit: the held separator is ordinary text after all.
              if (CLASS[held] === SEP) {
                if (inWord) {
                  words[n++] = fmix32(h);
                  h = FNV_OFFSET;
                  inWord = false;
                }
              } else {
                h = Math.imul(h ^ held, FNV_PRIME);
                inWord = true;
              }
            }
            state = 0;
          }
        }
      }
      if (text) {
        if (k === WORD) {
          h = Math.imul(h ^ (e & 0xffff), FNV_PRIME);
          inWord = true;
        } else if (k === SEP) {
          if (inWord) {
            words[n++] = fmix32(h);
            h = FNV_OFFSET;
            inWord = false;
          }
        } else if (k === DIGIT) {
          h = Math.imul(h ^ 0x30, FNV_PRIME); // the whole run becomes "0"
          inWord = true;
          state = 1;
        }
        // MARK: dropped, as normalizeInto drops it (and, as there, it ends a digit run).
      }
      if (p >= pEnd) break;
      e = POOL[p++];
    }
  }
  if (state === 2) {
    if (CLASS[held] === SEP) {
      if (inWord) {
        words[n++] = fmix32(h);
        inWord = false;
      }
    } else {
      h = Math.imul(h ^ held, FNV_PRIME);
      inWord = true;
    }
  }
  if (inWord) words[n++] = fmix32(h);
  return n;
}

// ASCII is needed by every document: build its page now (cheap) so the loop's ASCII branch never meets UNBUILT.
buildPage(0);
