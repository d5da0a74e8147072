// The one text normalization used by decontamination, for benchmark items (index build) and for documents (scan)
// alike. It is a pure function of the text with no options, so it cannot drift mid-run (MegaMath's filter mutated a
// shared config object and changed its normalization part-way through a run; anchors.md §4). Its identity is
// NORMALIZATION_ID, which an index records and the loader checks, so an index built with another normalization is
// refused instead of silently matching nothing.
//
// The rules, in order:
//  1. NFKC then lowercase (locale-independent). NFKC folds full-width forms, ligatures and super/subscripts
//     ("x²" → "x2", "ﬁ" → "fi").
//  2. Tokens are maximal runs of letters (Unicode L and M) or maximal runs of decimal digits (Unicode Nd);
//     a letter run and a digit run are separate tokens ("x2" → "x", "2"; "17_b" → "17", "b").
//  3. Everything else (punctuation, symbols, whitespace, "$", braces, "\") separates tokens and is dropped. So
//     whitespace, case, "$x$" vs "\(x\)", "{ 1 }" vs "{1}" and LaTeX spacing ("\,", "~", "\ ") never matter.
//  4. A letter run right after a backslash is a LaTeX command name. Layout-only commands (\left, \right, \big…,
//     \quad, \displaystyle, \text, \mathrm, …) are dropped; a few synonyms are folded (\dfrac, \tfrac → frac;
//     \le → leq; \ge → geq; \ne → neq).
//  5. Numbers stay exactly as written (each digit run is its own token, never mapped to a placeholder). datatrove's
//     digits→0 rule made every 13-number table row match a benchmark (4,848 false hits on the peer corpus).
// No token is ever empty, so no n-gram can normalize to empty (MegaMath's second bug: it kept a whole document when
// one n-gram normalized to empty).

export const NORMALIZATION_ID = "mm-decont-norm-v1";

/** Token classes: 0 unknown (not yet computed), 1 separator, 2 letter, 3 digit. */
const SEP = 1;
const LETTER = 2;
const DIGIT = 3;

const classTable = new Uint8Array(65536);
const LETTER_RE = /[\p{L}\p{M}]/u;
const DIGIT_RE = /\p{Nd}/u;

function computeClass(ch: string): number {
  if (DIGIT_RE.test(ch)) return DIGIT;
  if (LETTER_RE.test(ch)) return LETTER;
  return SEP;
}
// ASCII is classified eagerly; other BMP code units lazily on first sight.
for (let c = 0; c < 128; c++) classTable[c] = computeClass(String.fromCharCode(c));

function bmpClass(c: number): number {
  let k = classTable[c];
  if (k === 0) {
    k = computeClass(String.fromCharCode(c));
    classTable[c] = k;
  }
  return k;
}

const astralCache = new Map<number, number>();
function astralClass(cp: number): number {
  let k = astralCache.get(cp);
  if (k === undefined) {
    k = computeClass(String.fromCodePoint(cp));
    astralCache.set(cp, k);
  }
  return k;
}

/**
 * Whether folding (step 1) leaves the BMP character c unchanged whatever surrounds it, so that a text whose
 * non-ASCII characters all pass is folded by lowercasing its ASCII letters alone. That holds when every character of
 * the text has NFKC quick-check "Yes" and combining class 0 (such a text is already NFKC) and lowercases to itself
 * (the one context-dependent lowercase rule, final sigma, only changes Σ, which does not pass). For c that means:
 * NFKC and lowercase keep it, it is not a mark (all characters with a non-zero combining class are marks), and it
 * does not compose with a character before it: the only non-marks that do are the conjoining Hangul jamo (a test
 * checks this against the running ICU's data). Surrogates never pass. Cached per code unit.
 */
export function foldKeeps(c: number): boolean {
  let k = keepTable[c];
  if (k === 0) {
    k = computeKeeps(c) ? 1 : 2;
    keepTable[c] = k;
  }
  return k === 1;
}

const keepTable = new Uint8Array(65536);
const MARK_RE = /\p{M}/u;

/** Conjoining Hangul jamo: a vowel or trailing consonant composes with the syllable or jamo before it. */
export function isConjoiningJamo(c: number): boolean {
  return (c >= 0x1100 && c <= 0x11ff) || (c >= 0xa960 && c <= 0xa97f) || (c >= 0xd7b0 && c <= 0xd7ff);
}

function computeKeeps(c: number): boolean {
  if (c < 128 || (c >= 0xd800 && c <= 0xdfff) || isConjoiningJamo(c)) return false;
  const ch = String.fromCharCode(c);
  return !MARK_RE.test(ch) && ch.normalize("NFKC") === ch && ch.toLowerCase() === ch;
}

/** LaTeX command names (lowercased) that carry layout only: dropped. */
export const DROPPED_COMMANDS: ReadonlySet<string> = new Set([
  "left", "right", "middle", "big", "bigl", "bigr", "bigm", "bigg", "biggl", "biggr", "biggm",
  "quad", "qquad", "displaystyle", "textstyle", "scriptstyle", "limits", "nolimits",
  "text", "textrm", "textup", "textnormal", "mathrm", "mbox", "hbox", "operatorname",
]);
/** LaTeX synonyms folded to one spelling. */
export const COMMAND_ALIASES: ReadonlyMap<string, string> = new Map([
  ["dfrac", "frac"], ["tfrac", "frac"], ["le", "leq"], ["ge", "geq"], ["ne", "neq"],
]);

/** Step 1 of the rules. Exported so callers that need token text (reports, tests) share it. */
export function foldText(text: string): string {
  // Pure ASCII needs neither NFKC nor a Unicode-aware lowercase; skipping normalize() there is only a speed-up.
  return isAscii(text) ? text.toLowerCase() : text.normalize("NFKC").toLowerCase();
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

/** Class of a UTF-16 code unit (BMP); surrogates are classified as pairs by the tokenizer. Hot path: ASCII first. */
export function charClass(c: number): number {
  return c < 128 ? classTable[c] : bmpClass(c);
}

export function codePointClass(cp: number): number {
  return cp < 0x10000 ? bmpClass(cp) : astralClass(cp);
}

export { SEP, LETTER, DIGIT };
