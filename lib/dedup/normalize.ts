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

/** Lowercase, digits to 0, NFD without combining marks: everything except the split into words. */
export function prenormalize(text: string): string {
  let s = text.toLowerCase().replace(DIGIT_RUNS, "0");
  // NFD is the slow step; pure-ASCII text (most English web pages) is already in NFD with no marks.
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
