// datatrove's MinHash text normalization (utils/text.py simplify_text with the default TextNormConfig), so that
// our duplicate decisions are comparable with MegaMath's:
//   lowercase -> digit runs (with one optional decimal separator) to "0" -> punctuation to space ->
//   whitespace collapse -> NFD and drop combining marks (category Mn).
// Words are then the space-separated pieces (datatrove tokenizes with spaCy/NLTK, which on punctuation-free text
// is whitespace splitting apart from rare exceptions such as "cannot" -> "can not").
// One deliberate difference: we apply NFD before the punctuation step instead of after. The two orders differ
// only for the handful of characters whose canonical decomposition is punctuation (e.g. U+037E GREEK QUESTION
// MARK -> ";"), and doing it first lets one pass split and hash words.

const DIGIT_RUNS = /\p{Nd}+(?:[.,\u066b\u066c]\p{Nd}+)?/gu;
const COMBINING_MARKS = /\p{Mn}+/gu;
const NON_ASCII = /[^\x00-\x7f]/;

/** datatrove's PUNCTUATION set: all ASCII punctuation, a list of CJK/fullwidth/typographic marks, and control
 * characters 0-8, 11-31, 127-159. (Yes, it contains the fullwidth digit one, U+FF11; we keep that quirk.) */
const PUNCTUATION_CHARS =
  "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" +
  "\u2014\u201d\uff05\uff11\u3008\u3001\u2501\u3010\u300c\u300d\uff0c\u3011\uff1b\u201c\u300a\u201e\u2019" +
  "\u2236\u00b4\uff0e\uff08\u2013\uff1f\uff01\uff1a\uff5e\u00ab\u3009\u300b\uff09\u3002\u2026\u25ba\u00bb";

/** Unicode whitespace as Python's str.split() sees it (datatrove collapses `\s+`). */
const WHITESPACE_CHARS =
  "\t\n\v\f\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" +
  "\u200a\u2028\u2029\u202f\u205f\u3000";

/** 1 for every UTF-16 code unit that separates words after normalization. Surrogates are never separators. */
export const SEPARATOR = buildSeparatorTable();

function buildSeparatorTable(): Uint8Array {
  const t = new Uint8Array(65536);
  for (const ch of PUNCTUATION_CHARS + WHITESPACE_CHARS) t[ch.charCodeAt(0)] = 1;
  for (let c = 0; c <= 8; c++) t[c] = 1;
  for (let c = 11; c <= 31; c++) t[c] = 1;
  for (let c = 127; c <= 159; c++) t[c] = 1;
  return t;
}

/** Code-unit classes for the one-pass normalizer (normalizeInto, and utf8-words.ts which mirrors it). */
export const WORD = 0, SEP = 1, MARK = 2, DIGIT = 3, HIGH = 4;

/** The class of every UTF-16 code unit: a digit (Nd) before a separator (datatrove replaces digits before
 * splitting, so the fullwidth digit one in PUNCTUATION is a digit), marks (Mn) are dropped, high surrogates
 * are resolved with the next unit. A lone low surrogate is an ordinary word character, as for the regexes. */
export const CLASS = buildClassTable();

function buildClassTable(): Uint8Array {
  const t = new Uint8Array(65536);
  const nd = /^\p{Nd}$/u;
  const mn = /^\p{Mn}$/u;
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdbff) t[c] = HIGH;
    else if (c >= 0xdc00 && c <= 0xdfff) t[c] = WORD;
    else {
      const ch = String.fromCharCode(c);
      t[c] = nd.test(ch) ? DIGIT : mn.test(ch) ? MARK : SEPARATOR[c] === 1 ? SEP : WORD;
    }
  }
  return t;
}

/** Class of a supplementary-plane code point (digits such as U+1D7CE and marks exist there too; never SEP). */
const astralClass = new Map<number, number>();
function classOfAstral(cp: number): number {
  let k = astralClass.get(cp);
  if (k === undefined) {
    const ch = String.fromCodePoint(cp);
    k = /^\p{Nd}$/u.test(ch) ? DIGIT : /^\p{Mn}$/u.test(ch) ? MARK : WORD;
    astralClass.set(cp, k);
  }
  return k;
}

/** Is the code point starting at s[i] a digit? (Lookahead of the optional decimal part of a digit run.) */
function digitAt(s: string, i: number): boolean {
  if (i >= s.length) return false;
  const c = s.charCodeAt(i);
  const k = CLASS[c];
  if (k !== HIGH) return k === DIGIT;
  const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
  return d >= 0xdc00 && d <= 0xdfff && classOfAstral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000) === DIGIT;
}

/** Lowercase and NFD: the native steps of prenormalize (normalizeInto does the rest). */
export function lowerNfd(text: string): string {
  const s = text.toLowerCase();
  // NFD is the identity on ASCII; the native call is cheap, the test just skips a string copy.
  return NON_ASCII.test(s) ? s.normalize("NFD") : s;
}

/** prenormalize(text) as UTF-16 code units in `out`, where `s` = lowerNfd(text); returns the length
 * (<= s.length). One pass instead of two Unicode regex replacements: NFD (done first, natively) never creates or
 * decomposes a digit or a digit-run separator and digits are starters, so replacing digit runs after NFD
 * instead of before gives the same string (checked over all code points when this was written), and dropping
 * marks on the fly equals the \p{Mn} regex. */
export function normalizeInto(s: string, out: Uint16Array): number {
  const cls = CLASS;
  const len = s.length;
  let n = 0;
  let i = 0;
  while (i < len) {
    const c = s.charCodeAt(i);
    let k = cls[c];
    let units = 1;
    if (k === HIGH) {
      const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        k = classOfAstral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
        units = 2;
      } else k = WORD; // lone high surrogate: kept as is
    }
    if (k === WORD || k === SEP) {
      out[n++] = c;
      if (units === 2) out[n++] = s.charCodeAt(i + 1);
      i += units;
    } else if (k === MARK) {
      i += units;
    } else {
      // DIGIT_RUNS: digits, then optionally one [.,\u066b\u066c] followed by more digits, all become "0".
      out[n++] = 0x30;
      i = skipDigits(s, i + units);
      const sc = i < len ? s.charCodeAt(i) : 0;
      if ((sc === 0x2e || sc === 0x2c || sc === 0x66b || sc === 0x66c) && digitAt(s, i + 1)) i = skipDigits(s, i + 1);
    }
  }
  return n;
}

/** Index after the run of digits (code points) starting at i. */
function skipDigits(s: string, i: number): number {
  const len = s.length;
  while (i < len) {
    const c = s.charCodeAt(i);
    const k = CLASS[c];
    if (k === DIGIT) i++;
    else if (k === HIGH && digitAt(s, i)) i += 2;
    else break;
  }
  return i;
}

let scratch = new Uint16Array(1 << 16);

/** Lowercase, digits to 0, NFD without combining marks: everything except the split into words. */
export function prenormalize(text: string): string {
  const s = lowerNfd(text);
  if (scratch.length < s.length) scratch = new Uint16Array(s.length);
  const n = normalizeInto(s, scratch);
  let r = "";
  for (let i = 0; i < n; i += 8192) r += String.fromCharCode.apply(null, scratch.subarray(i, Math.min(n, i + 8192)) as unknown as number[]);
  return r;
}

/** The original two-regex implementation of prenormalize, kept as the reference the tests compare with. */
export function prenormalizeReference(text: string): string {
  let s = text.toLowerCase().replace(DIGIT_RUNS, "0");
  if (NON_ASCII.test(s)) s = s.normalize("NFD").replace(COMBINING_MARKS, "");
  return s;
}

/** The normalized words of a text (for tests, inspection and exact Jaccard checks). */
export function normalizedWords(text: string): string[] {
  const s = prenormalize(text);
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const sep = i === s.length || SEPARATOR[s.charCodeAt(i)] === 1;
    if (sep) {
      if (start >= 0) words.push(s.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  return words;
}

/** The fully normalized text, as datatrove's simplify_text would return it (modulo the NFD order above). */
export function normalizeForDedup(text: string): string {
  return normalizedWords(text).join(" ");
}
