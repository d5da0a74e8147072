// Turn a tokenizer's pre-tokenization regex (written for Rust `regex`/`fancy-regex` or Oniguruma) into a JS RegExp
// that splits text into exactly the same pieces. Two things differ between those engines and V8:
//  - V8 (Node 20/22) has no inline modifier groups, so `(?i:'s|'t)` is expanded to `'[sSſ]|'[tT]`;
//  - JS `\s` is not Unicode White_Space: it adds U+FEFF and misses U+0085 (NEL). The Rust engines use White_Space,
//    so `\s`/`\S` are rewritten to an explicit White_Space class.

/** The Llama-3 pre-tokenization pattern (from Meta's tokenizer and the HF tokenizer.json Split pre-tokenizer). */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** GPT-2's byte-level pattern (HF ByteLevel pre-tokenizer with use_regex=true). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// Unicode White_Space (the set Rust regex and Oniguruma use for \s), as class content.
const WHITE_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

/** Characters that match `c` case-insensitively under Unicode simple case folding (what `(?i)` means in Rust). */
function caseVariants(c: string): string[] {
  const out = new Set<string>([c, c.toLowerCase(), c.toUpperCase()]);
  // The two ASCII letters with a non-ASCII fold partner.
  if (/[sS]/.test(c)) out.add("\u017F");
  if (/[kK]/.test(c)) out.add("\u212A");
  const re = new RegExp(`^${escapeChar(c)}$`, "iu");
  return [...out].filter((x) => x.length > 0 && re.test(x)).sort();
}

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

/** Expand `(?i:...)` groups whose content is literal text and `|` alternatives (the only form tokenizers use). */
function expandCaseInsensitiveGroups(p: string): string {
  let out = "";
  let i = 0;
  while (i < p.length) {
    if (p.startsWith("(?i:", i)) {
      let j = i + 4;
      let body = "";
      while (j < p.length && p[j] !== ")") {
        if (p[j] === "(" || p[j] === "[" || p[j] === "\\") {
          throw new Error(`tokenizer pattern: cannot expand (?i:...) with nested syntax at offset ${i}: ${p.slice(i, i + 40)}`);
        }
        body += p[j++];
      }
      if (j >= p.length) throw new Error(`tokenizer pattern: unclosed (?i: group at offset ${i}`);
      const alts = body.split("|").map((alt) =>
        [...alt].map((ch) => {
          const v = caseVariants(ch);
          return v.length > 1 ? `[${v.join("")}]` : escapeChar(ch);
        }).join(""));
      out += `(?:${alts.join("|")})`;
      i = j + 1;
    } else if (p[i] === "\\") {
      out += p.slice(i, i + 2);
      i += 2;
    } else {
      out += p[i++];
    }
  }
  return out;
}

/** Rewrite \s and \S to Unicode White_Space, inside and outside character classes. */
function rewriteWhitespace(p: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === "\\") {
      const nx = p[i + 1];
      if (nx === "s") out += inClass ? WHITE_SPACE : `[${WHITE_SPACE}]`;
      else if (nx === "S") {
        if (inClass) throw new Error("tokenizer pattern: \\S inside a character class is not supported");
        out += `[^${WHITE_SPACE}]`;
      } else out += ch + nx;
      i++;
      continue;
    }
    if (ch === "[" && !inClass) inClass = true;
    else if (ch === "]" && inClass) inClass = false;
    out += ch;
  }
  return out;
}

/** Compile a tokenizer pre-split pattern to a global, Unicode JS RegExp with the same matches. */
export function compileSplitPattern(pattern: string): RegExp {
  const js = rewriteWhitespace(expandCaseInsensitiveGroups(pattern));
  try {
    return new RegExp(js, "gu");
  } catch (e) {
    throw new Error(`tokenizer pattern cannot be compiled for JavaScript: ${(e as Error).message}`);
  }
}
