// MegaMath's text normalisation before the math fastText classifier, reproduced exactly
// (LLM360/MegaMath web_pipeline/utils/math_fasttext.py::preprocess_for_fasttext, recipe §1.5):
//   1. NFKC;
//   2. every Python whitespace char -> " " (this runs BEFORE the source's `replace("\n", " <EOS> ")`, so that
//      replace never fires: newlines are plain spaces, and the only <EOS> markers are the ones of step 5);
//   3. nltk wordpunct_tokenize (regex \w+|[^\w\s]+ with Python's Unicode \w = letters, numbers, "_"; combining
//      marks are NOT \w), lowercase each token, tokens whose every char is a Python `isdigit` char -> "<NUM>"
//      (checked before the length rule), other tokens longer than 100 code points dropped; tokens joined by " ";
//   4. "-" and "_" runs -> " "; strip every char outside [a-zA-Z0-9\s<NUM>] (a character class, so "<" and ">"
//      survive anywhere, e.g. "a < b" keeps its "<"); collapse whitespace;
//   5. the result is one line, so "split lines longer than 1024 tokens" means: after every 1024 tokens insert
//      "<EOS>" (a 1025-token text becomes "t1 .. t1024 <EOS> t1025").
// The implementation is one pass over UTF-16 code units writing ASCII bytes into a reusable buffer (the output
// alphabet is [a-z0-9<>NUM ]), with a lazily filled per-code-point class table, so no per-char allocation.

/** Tokens longer than this (in code points, after lowercasing) are dropped, as in MegaMath. */
export const MAX_TOKEN_CHARS = 100;
/** An "<EOS>" marker is inserted after every this many output tokens, as in MegaMath's long-line split. */
export const MAX_LINE_TOKENS = 1024;

const UNKNOWN = 0;
const SPACE = 1;
const WORD = 2; // Python \w, not a digit
const DIGIT = 3; // Python \w and str.isdigit()
const OTHER = 4; // neither \w nor whitespace: wordpunct's punctuation runs (symbols, marks, emoji, lone surrogates)

// Python's str.isspace() set (Unicode 14, checked with CPython 3.11): wider than JS \s for U+001C..U+001F, narrower
// for U+FEFF.
const PY_SPACES = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
];
// str.isdigit() is Nd plus the Numeric_Type=Digit characters below (superscripts, circled digits, Ethiopic, ...).
const PY_EXTRA_DIGITS: [number, number][] = [
  [0xb2, 0xb3], [0xb9, 0xb9], [0x1369, 0x1371], [0x19da, 0x19da], [0x2070, 0x2070], [0x2074, 0x2079],
  [0x2080, 0x2089], [0x2460, 0x2468], [0x2474, 0x247c], [0x2488, 0x2490], [0x24ea, 0x24ea], [0x24f5, 0x24fd],
  [0x24ff, 0x24ff], [0x2776, 0x277e], [0x2780, 0x2788], [0x278a, 0x2792], [0x10a40, 0x10a43], [0x10e60, 0x10e68],
  [0x11052, 0x1105a], [0x1f100, 0x1f10a],
];

const spaceSet = new Set(PY_SPACES);
const WORD_RE = /^[\p{L}\p{N}_]$/u;
const ND_RE = /^\p{Nd}$/u;

// One byte per code point, filled on first sight (1.1 MB per thread; regexes run once per distinct char).
const classes = new Uint8Array(0x110000);

function computeClass(cp: number): number {
  if (spaceSet.has(cp)) return SPACE;
  if (cp >= 0xd800 && cp <= 0xdfff) return OTHER; // a lone surrogate: not \w, not space, so punctuation
  const ch = String.fromCodePoint(cp);
  if (!WORD_RE.test(ch)) return OTHER;
  if (ND_RE.test(ch)) return DIGIT;
  for (const [a, b] of PY_EXTRA_DIGITS) if (cp >= a && cp <= b) return DIGIT;
  return WORD;
}

function classOf(cp: number): number {
  let k = classes[cp];
  if (k === UNKNOWN) k = classes[cp] = computeClass(cp);
  return k;
}
for (let cp = 0; cp < 0x100; cp++) classOf(cp);

// NFKC leaves every code point below U+00A0 unchanged, so most web text (ASCII) skips normalisation entirely.
const NEEDS_NFKC = /[^\x00-\x9f]/;

const CH_LT = 0x3c;
const CH_GT = 0x3e;
const CH_DASH = 0x2d;
const CH_UNDERSCORE = 0x5f;
const NUM = Buffer.from("<NUM>", "latin1");
const EOS = Buffer.from("<EOS> ", "latin1");

/** Reusable output writer: ASCII bytes, word boundaries and the <EOS> insertion of step 5. */
class Out {
  buf = Buffer.allocUnsafe(1 << 16);
  len = 0;
  words = 0;
  inWord = false;

  reset(): void {
    this.len = 0;
    this.words = 0;
    this.inWord = false;
  }

  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Start a new output word if none is open (space, and "<EOS> " every MAX_LINE_TOKENS words). */
  private open(): void {
    this.ensure(8);
    if (this.len > 0) this.buf[this.len++] = 0x20;
    if (this.words > 0 && this.words % MAX_LINE_TOKENS === 0) {
      EOS.copy(this.buf, this.len);
      this.len += EOS.length;
    }
    this.words++;
    this.inWord = true;
  }

  /** Write an ASCII word token [start, end) of `text` (no surrogates, at most MAX_TOKEN_CHARS), lowercased, with
   * "_" splitting it. The hot path of typical web text, so the buffer, length and word count live in locals and the
   * room is reserved once: each char adds at most one byte plus, when it opens a word, a space and "<EOS> ". */
  asciiWord(text: string, start: number, end: number): void {
    this.ensure((end - start) * (2 + EOS.length));
    const buf = this.buf;
    let len = this.len, words = this.words, inWord = this.inWord;
    for (let i = start; i < end; i++) {
      let c = text.charCodeAt(i);
      if (c === CH_UNDERSCORE) {
        inWord = false;
        continue;
      }
      if (!inWord) {
        if (len > 0) buf[len++] = 0x20;
        if (words > 0 && words % MAX_LINE_TOKENS === 0) {
          EOS.copy(buf, len);
          len += EOS.length;
        }
        words++;
        inWord = true;
      }
      if (c >= 0x41 && c <= 0x5a) c += 32;
      buf[len++] = c; // a-z, 0-9 (the only other ASCII \w chars)
    }
    this.len = len;
    this.words = words;
    this.inWord = inWord;
  }

  byte(b: number): void {
    if (!this.inWord) this.open();
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** End the current word: a token boundary, or a "-"/"_" inside a token. */
  close(): void {
    this.inWord = false;
  }

  num(): void {
    this.close();
    this.open();
    this.ensure(NUM.length);
    NUM.copy(this.buf, this.len);
    this.len += NUM.length;
    this.close();
  }

  text(): string {
    return this.buf.toString("latin1", 0, this.len);
  }
}

const out = new Out();

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Count a high surrogate followed by a low one once; a lone surrogate counts as one (as in Python).
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++;
    }
    n++;
  }
  return n;
}

/** Emit a word token [start, end) of `text`: lowercase, keep [a-z0-9], "_" splits. */
function emitWord(text: string, start: number, end: number, cps: number, nonAscii: boolean): void {
  if (!nonAscii) {
    if (cps <= MAX_TOKEN_CHARS) out.asciiWord(text, start, end);
    return;
  }
  // Full Unicode lowercasing can change the length (U+0130 -> "i" + U+0307), and the length rule applies after it.
  const lower = text.slice(start, end).toLowerCase();
  if (codePointLength(lower) > MAX_TOKEN_CHARS) return;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) out.byte(c);
    else if (c === CH_UNDERSCORE) out.close();
    else if (c >= 0x41 && c <= 0x5a) out.byte(c); // unreachable after lowercasing; kept for exactness
  }
}

/** Emit a punctuation token [start, end): only "<" and ">" survive; "-" splits. */
function emitPunct(text: string, start: number, end: number, cps: number, nonAscii: boolean): void {
  const len = nonAscii ? codePointLength(text.slice(start, end).toLowerCase()) : cps;
  if (len > MAX_TOKEN_CHARS) return;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === CH_LT || c === CH_GT) out.byte(c);
    else if (c === CH_DASH) out.close();
  }
}

/** MegaMath's `preprocess_for_fasttext(text)`: the exact string its fastText math classifier is fed. */
export function preprocessForFastText(input: string): string {
  preprocessToBytes(input);
  return out.text();
}

/**
 * preprocessForFastText(input) as its bytes (ASCII, so also its UTF-8 encoding), in a buffer this module reuses:
 * valid until the next call. Lets the score stage hand the model bytes without building and re-encoding a string.
 */
export function preprocessToBytes(input: string): Uint8Array {
  run(input);
  return out.buf.subarray(0, out.len);
}

function run(input: string): void {
  const text = NEEDS_NFKC.test(input) ? input.normalize("NFKC") : input;
  out.reset();
  const n = text.length;
  let i = 0;
  while (i < n) {
    let cp = text.charCodeAt(i);
    let w = 1;
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        cp = ((cp - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        w = 2;
      }
    }
    const k = classOf(cp);
    if (k === SPACE) {
      i += w;
      continue;
    }
    // A token: the longest run of \w chars, or of non-\w non-space chars (wordpunct_tokenize).
    const isWord = k !== OTHER;
    let allDigits = k === DIGIT;
    let nonAscii = cp >= 0x80;
    let cps = 1;
    let j = i + w;
    while (j < n) {
      let c = text.charCodeAt(j);
      let cw = 1;
      if (c >= 0xd800 && c < 0xdc00 && j + 1 < n) {
        const d = text.charCodeAt(j + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          cw = 2;
        }
      }
      const ck = c < 0x80 ? classes[c] : classOf(c);
      if (ck === SPACE || (ck === OTHER) === isWord) break;
      if (ck !== DIGIT) allDigits = false;
      if (c >= 0x80) nonAscii = true;
      cps++;
      j += cw;
    }
    out.close();
    if (isWord) {
      if (allDigits) out.num();
      else emitWord(text, i, j, cps, nonAscii);
    } else {
      emitPunct(text, i, j, cps, nonAscii);
    }
    out.close();
    i = j;
  }
}
