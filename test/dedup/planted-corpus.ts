// A test corpus from real text in ../shared/data with planted exact duplicates and planted near-duplicates whose
// word-5-gram Jaccard similarity to their source is known (constructed, then measured exactly).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sharedData, readGzJsonl } from "../helpers.js";
import { mulberry32 } from "../../lib/random.js";
import { normalizedWords } from "../../lib/dedup/normalize.js";

/** Normalized word sequences of real documents (40..300 words each, first 300 words of longer ones). */
export function baseDocuments(): string[][] {
  const texts: string[] = [];
  for (const f of ["se_math_33votes", "se_mathoverflow_40votes", "se_physics_35votes", "se_cstheory_10votes", "se_proofassistants_7votes"]) {
    for (const r of readGzJsonl(sharedData("math-qa", `${f}.jsonl.gz`))) texts.push(`${r.input}\n${r.output}`);
  }
  const gsm = readGzJsonl(sharedData("math-qa", "gsm8k_train.jsonl.gz"));
  for (let i = 0; i + 3 <= gsm.length && i < 1800; i += 3) {
    texts.push(gsm.slice(i, i + 3).map((r) => `${r.question}\n${r.answer}`).join("\n\n"));
  }
  for (const r of readGzJsonl(sharedData("web-nonmath", "dclm_human_quality_majority.jsonl.gz"))) texts.push(String(r.text));
  for (const r of readGzJsonl(sharedData("web-nonmath", "c4_demo.jsonl.gz"))) texts.push(String(r.text));
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const t of texts) {
    const w = normalizedWords(t);
    if (w.length < 40) continue;
    const key = w.slice(0, 25).join(" ");
    if (seen.has(key)) continue; // the data has a few copies of the same post; planted pairs must be the only ones
    seen.add(key);
    out.push(w.slice(0, 300));
  }
  return out;
}

export function shingles(words: string[], n = 5): Set<string> {
  const s = new Set<string>();
  for (let i = 0; i + n <= words.length; i++) s.add(words.slice(i, i + n).join(" "));
  return s;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
}

/** A copy of `words` whose 5-gram Jaccard to the original is about `target`: replacing a word spaced >= 5 from
 * every other replaced word turns exactly 5 shared shingles into 5 new ones, so with S distinct shingles and m
 * replacements J = (S - 5m) / (S + 5m). Returns null when the document is too short for the target. */
export function nearCopy(words: string[], target: number, rnd: () => number): { words: string[]; jaccard: number } | null {
  const base = shingles(words);
  const S = base.size;
  const m = Math.round((S * (1 - target)) / (5 * (1 + target)));
  const slots = Math.floor((words.length - 8) / 5);
  if (m < 1 || m > slots) return null;
  const chosen = new Set<number>();
  while (chosen.size < m) chosen.add(Math.floor(rnd() * slots));
  const out = words.slice();
  for (const k of chosen) {
    let w = "";
    for (let i = 0; i < 7; i++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
    out[4 + 5 * k] = w;
  }
  const j = jaccard(base, shingles(out));
  return Math.abs(j - target) <= 0.02 ? { words: out, jaccard: j } : null;
}

export interface PlantedDoc {
  id: string;
  words: string[];
  text: string;
  score: number;
  /** Pair number for planted pairs, -1 for background documents. */
  pair: number;
}

export interface PlantedPair {
  level: number;
  jaccard: number;
  a: string;
  b: string;
}

export interface PlantedCorpus {
  files: string[];
  /** Documents of each file, in row order. */
  docs: PlantedDoc[][];
  pairs: PlantedPair[];
}

export const LEVELS: { level: number; pairs: number }[] = [
  { level: 1, pairs: 100 }, { level: 0.95, pairs: 250 }, { level: 0.85, pairs: 250 }, { level: 0.7, pairs: 250 },
  { level: 0.5, pairs: 250 }, { level: 0.3, pairs: 150 },
];

/** Write the corpus as `nFiles` JSONL files {id, text, math_score} in `dir`. */
export function buildPlantedCorpus(dir: string, seed = 7, nFiles = 4, background = 300): PlantedCorpus {
  const rnd = mulberry32(seed);
  const bases = baseDocuments();
  for (let i = bases.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [bases[i], bases[j]] = [bases[j], bases[i]];
  }
  const docs: PlantedDoc[] = [];
  const pairs: PlantedPair[] = [];
  // Scores: distinct most of the time; every 5th pair ties, to exercise the tie rule.
  const score = () => Math.round(rnd() * 1e6) / 1e6;
  let next = 0;
  for (const { level, pairs: want } of LEVELS) {
    let made = 0;
    while (made < want) {
      if (next >= bases.length) throw new Error(`not enough base documents for level ${level}`);
      const w = bases[next++];
      let copy: { words: string[]; jaccard: number } | null;
      if (level === 1) copy = { words: w.slice(), jaccard: 1 };
      else copy = nearCopy(w, level, rnd);
      if (!copy) continue;
      const p = pairs.length;
      const sa = score();
      const sb = p % 5 === 0 ? sa : score();
      const a: PlantedDoc = { id: `pair${p}-a`, words: w, text: w.join(" "), score: sa, pair: p };
      // Exact copies are re-cased and re-punctuated: normalization must make them identical again.
      const btext = level === 1 && p % 2 === 1 ? copy.words.map((x, i) => (i % 7 === 0 ? x.toUpperCase() + "," : x)).join("  ") : copy.words.join(" ");
      const b: PlantedDoc = { id: `pair${p}-b`, words: copy.words, text: btext, score: sb, pair: p };
      docs.push(a, b);
      pairs.push({ level, jaccard: copy.jaccard, a: a.id, b: b.id });
      made++;
    }
  }
  for (let i = 0; i < background && next < bases.length; i++, next++) {
    const w = bases[next];
    docs.push({ id: `bg${i}`, words: w, text: w.join(" "), score: score(), pair: -1 });
  }
  // Too-short documents: never duplicates, even when identical.
  for (let i = 0; i < 6; i++) docs.push({ id: `short${i}`, words: ["a", "b", "c"], text: "a b c", score: 0, pair: -1 });
  for (let i = docs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [docs[i], docs[j]] = [docs[j], docs[i]];
  }
  const files: string[] = [];
  const perFile: PlantedDoc[][] = [];
  for (let f = 0; f < nFiles; f++) {
    const mine = docs.filter((_, i) => i % nFiles === f);
    const path = join(dir, `part-${f}.jsonl`);
    writeFileSync(path, mine.map((d) => JSON.stringify({ id: d.id, text: d.text, math_score: d.score })).join("\n") + "\n");
    files.push(path);
    perFile.push(mine);
  }
  return { files, docs: perFile, pairs };
}

export interface ChainCorpus {
  files: string[];
  docs: PlantedDoc[][];
  /** Each chain's document ids in chain order (A, B, C, ...): neighbours are planted near-duplicates. */
  chains: string[][];
  /** Jaccard of each planted link (neighbours) and of each chain's two ends. */
  links: { a: string; b: string; jaccard: number }[];
  ends: number[];
}

/** Chains A~B~C~...: each document a near copy (5-gram Jaccard ≈ `link`) of the previous one, grown until the
 * chain's end is below Jaccard `far` to its start (and at least `minLength` long). Union-find joins a whole chain
 * into one cluster and keeps 1 document; a bucket-feasible selection can keep about every other one. Written as
 * `nFiles` JSONL files {id, text, math_score} with `background` unrelated documents. */
export function buildChainCorpus(dir: string, seed = 11, chains = 30, opts: { link?: number; far?: number;
  minLength?: number; maxLength?: number; nFiles?: number; background?: number } = {}): ChainCorpus {
  const { link = 0.93, far = 0.5, minLength = 4, maxLength = 40, nFiles = 3, background = 200 } = opts;
  const rnd = mulberry32(seed);
  const bases = baseDocuments().filter((w) => w.length >= 200);
  for (let i = bases.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [bases[i], bases[j]] = [bases[j], bases[i]];
  }
  const docs: PlantedDoc[] = [];
  const out: ChainCorpus = { files: [], docs: [], chains: [], links: [], ends: [] };
  const score = () => Math.round(rnd() * 1e6) / 1e6;
  let next = 0;
  while (out.chains.length < chains) {
    if (next >= bases.length) throw new Error(`not enough base documents for ${chains} chains`);
    const first = bases[next++];
    const start = shingles(first);
    const chain: PlantedDoc[] = [{ id: `c${out.chains.length}-0`, words: first, text: first.join(" "), score: score(), pair: out.chains.length }];
    const links: ChainCorpus["links"] = [];
    let endJ = 1;
    for (let tries = 0; chain.length < maxLength && (endJ >= far || chain.length < minLength) && tries < 200; tries++) {
      const prev = chain[chain.length - 1];
      const copy = nearCopy(prev.words, link, rnd);
      if (!copy) continue;
      const d: PlantedDoc = { id: `c${out.chains.length}-${chain.length}`, words: copy.words, text: copy.words.join(" "), score: score(), pair: out.chains.length };
      links.push({ a: prev.id, b: d.id, jaccard: copy.jaccard });
      chain.push(d);
      endJ = jaccard(start, shingles(copy.words));
    }
    if (endJ >= far) continue; // this base could not drift far enough: try another
    docs.push(...chain);
    out.chains.push(chain.map((d) => d.id));
    out.links.push(...links);
    out.ends.push(endJ);
  }
  for (let i = 0; i < background && next < bases.length; i++, next++) {
    const w = bases[next];
    docs.push({ id: `bg${i}`, words: w, text: w.join(" "), score: score(), pair: -1 });
  }
  for (let i = docs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [docs[i], docs[j]] = [docs[j], docs[i]];
  }
  for (let f = 0; f < nFiles; f++) {
    const mine = docs.filter((_, i) => i % nFiles === f);
    const path = join(dir, `part-${f}.jsonl`);
    writeFileSync(path, mine.map((d) => JSON.stringify({ id: d.id, text: d.text, math_score: d.score })).join("\n") + "\n");
    out.files.push(path);
    out.docs.push(mine);
  }
  return out;
}
