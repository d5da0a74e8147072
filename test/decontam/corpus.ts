// Shared material for the decontamination tests: clean host documents from ../shared/data, the benchmark items,
// and the ways a benchmark problem gets planted (verbatim, re-formatted, partial quote).
import { sharedData } from "../helpers.js";
import { readJsonl, loadBuiltinBenchmarks, type Benchmark } from "../../lib/decontam/benchmarks.js";
import { TokenizedText, normalizeTokens } from "../../lib/decontam/hash.js";
import { MIN_PROSE_WORDS } from "../../lib/decontam/ngram-index.js";

export interface Doc {
  id: string;
  text: string;
}

export { mulberry32 as rng } from "../../lib/random.js";

const asText = (r: Record<string, unknown>): string =>
  r.text !== undefined ? String(r.text) : `${String(r.input ?? r.question ?? "")}\n\n${String(r.output ?? r.answer ?? "")}`;

/** Clean documents: Stack Exchange math/physics/CS Q&A (math) and C4 / DCLM web text (non-math). No Khan, no Alpaca. */
export const CLEAN_SOURCES = [
  "math-qa/se_math_33votes", "math-qa/se_mathoverflow_40votes", "math-qa/se_physics_35votes",
  "math-qa/se_cstheory_10votes", "math-qa/se_proofassistants_7votes", "web-nonmath/c4_demo",
  "web-nonmath/dclm_human_quality_majority",
];

export function cleanDocs(): Doc[] {
  const out: Doc[] = [];
  for (const src of CLEAN_SOURCES) {
    readJsonl(sharedData(`${src}.jsonl.gz`)).forEach((r, i) => out.push({ id: `${src}#${i}`, text: asText(r) }));
  }
  return out;
}

export function gsm8kTrainDocs(): Doc[] {
  return readJsonl(sharedData("math-qa/gsm8k_train.jsonl.gz")).map((r, i) => ({ id: `gsm8k_train#${i}`, text: asText(r) }));
}

let benchmarksCache: Benchmark[] | undefined;
export function benchmarks(): Benchmark[] {
  return (benchmarksCache ??= loadBuiltinBenchmarks(sharedData("decontamination")));
}

/** Normalized token string of a benchmark item (all renderings), to check a reported n-gram really occurs in it. */
export function itemTokenStrings(benchmark: string, itemId: string): string[] {
  const b = benchmarks().find((x) => x.name === benchmark);
  if (!b) throw new Error(`no benchmark ${benchmark}`);
  const item = b.items.find((it) => it.id === itemId);
  if (!item) throw new Error(`no item ${itemId} in ${benchmark}`);
  return [...item.texts, item.query ?? ""].map((t) => ` ${normalizeTokens(t).join(" ")} `);
}

/** Insert `inner` between two paragraphs of `host` (or around it), so the host stays otherwise intact. */
export function plant(host: string, inner: string, r: () => number): string {
  const paras = host.split("\n\n");
  const at = Math.floor(r() * (paras.length + 1));
  paras.splice(at, 0, inner);
  return paras.join("\n\n");
}

/**
 * Re-format a benchmark text the way copies on the web differ: changed case, whitespace (doubled spaces, line
 * breaks, tabs), LaTeX spacing and synonyms (\frac → \dfrac, \left( \right), \, around =), curly apostrophes.
 */
export function reformat(text: string, r: () => number): string {
  let s = text
    .replace(/\\frac/g, "\\dfrac")
    .replace(/\(/g, "\\left(")
    .replace(/\)/g, "\\right)")
    .replace(/=/g, " \\,=\\, ")
    .replace(/'/g, "\u2019");
  s = s.replace(/ /g, () => [" ", "  ", "\n", " \t ", "   "][Math.floor(r() * 5)]);
  // Flip the case of ASCII letters word by word.
  return s.replace(/[A-Za-z]+/g, (w) => (r() < 0.5 ? w.toUpperCase() : w.toLowerCase()));
}

/**
 * A quote of `len` (13..20) tokens from the item, taken from its folded text so punctuation and LaTeX between the
 * tokens are kept, starting somewhere the window has enough prose words to be indexed. Null when there is none.
 */
export function partialQuote(text: string, r: () => number): string | null {
  const t = new TokenizedText().load(text);
  if (t.count < 13) return null;
  const len = 13 + Math.floor(r() * Math.min(8, t.count - 12));
  const starts: number[] = [];
  for (let a = 0; a + len <= t.count; a++) {
    // A window must not start on a folded LaTeX synonym (without its backslash it would be another token).
    if (t.aliases.has(a) || (t.start[a] > 0 && t.folded.charCodeAt(t.start[a] - 1) === 92)) continue;
    let prose = 0;
    for (let j = a; j < a + 13; j++) prose += t.prose[j];
    if (prose >= MIN_PROSE_WORDS) starts.push(a);
  }
  if (!starts.length) return null;
  const a = starts[Math.floor(r() * starts.length)];
  return t.folded.slice(t.start[a], t.end[a + len - 1]);
}
