// Gather the numbers of a finished build into report.json: the document funnel with removal reasons, the
// math_score histogram and threshold curve, kept share per year, dedup cluster sizes, decontamination hits,
// mixture token shares against targets, and throughput per stage. Every number comes from the steps' own outputs.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { StepResult } from "../run.js";
import type { Invocation } from "../plan.js";
import type { RunStatsJSON, StageStatsJSON } from "../../lib/runtime/stats.js";
import { mergeFolderStats } from "../../lib/runtime/runner.js";
import { readDedupSummary, type DedupSummary } from "../../lib/dedup/index.js";
import { expandInputs, readDocuments } from "../../lib/io/index.js";
import { getNumbers, hasColumn, textBytes } from "../../lib/arrow/batch.js";
import { batchYears, DEFAULT_YEAR_COLUMNS } from "../../lib/sample/year.js";
import { binCounter, scoreBin, SCORE_BINS, SCORE_FIGURES_STAGE } from "../../lib/stages/score-figures.js";

export interface FunnelRow {
  step: string;
  command: string;
  status: string;
  note?: string;
  docsIn: number;
  docsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Tokens leaving the step: exact for the tokenize step, else bytes × the tokens/byte ratio it measured. */
  tokensOut?: number;
  tokensExact?: boolean;
  removed: Record<string, number>;
  failed: Record<string, number>;
  seconds: number;
  mbPerSec: number;
  docsPerSec: number;
  /** CPU seconds (all threads) the step used, when it ran in this build; and MB of input per CPU-second. */
  cpuSeconds?: number;
  mbPerCpuSec?: number;
}

export interface Report {
  recipe: string;
  createdBy: string;
  steps: { step: string; command: string; status: string; note?: string; about?: string }[];
  funnel: FunnelRow[];
  scoreHistogram?: { edges: number[]; counts: number[]; column: string };
  thresholdCurve?: { threshold: number; kept: number; share: number }[];
  keptByYear?: { year: string; scored: number; final: number; share: number }[];
  dedupClusters?: { size: number; clusters: number }[];
  /** The dedup step's stage-3 figures: clustering mode, documents retained, largest cluster, cluster sizes in
   * power-of-two bins, and (bucket mode) the upper bound on retained documents and greedy/bound. */
  dedup?: DedupSummary;
  decontamination?: { benchmark: string; documents: number }[];
  mixtures: { name: string; totalTokens: number; sources: { name: string; weight: number; tokens: number; share: number }[] }[];
  differencesFromPaper: Record<string, string>;
  finalCorpus?: { folder: string; docs: number; bytes: number; tokens?: number };
  /** Steps that are not document filters (training, tokenizing, mixing): wall time only. */
  otherSteps: { step: string; command: string; status: string; seconds: number; cpuSeconds?: number }[];
  /** Tokens per byte of text, measured by the tokenize step on the final corpus (used for the funnel's estimates). */
  tokensPerByte?: number;
  /** Every step's bounds on what it keeps (the recipe's allow-empty / min-kept-share; non-empty by default) and where
   * the run stood against them, over all its shards. A step breaking one stops the run (each shard checks its own). */
  bounds: Bound[];
}

export interface Bound {
  step: string;
  /** Non-empty input may give empty output. */
  allowEmpty: boolean;
  /** The least share of its input documents the step must keep, when the recipe sets one. */
  minKeptShare?: number;
  docsIn: number;
  docsOut: number;
  keptShare: number;
  ok: boolean;
}

/** A step's document figures: the merge of every completion marker in its folder (all shards, whichever task
 * finished last), else its stats.json. */
async function stepStats(dir: string): Promise<RunStatsJSON | null> {
  const merged = await mergeFolderStats(dir).catch(() => null);
  if (merged && merged.markers > 0) return merged;
  return readJson<RunStatsJSON>(join(dir, "stats.json"));
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return null;
  }
}

export async function collectReport(args: {
  recipe: string;
  plan: Invocation[];
  results: StepResult[];
  differences: Record<string, string>;
  finalDir?: string;
  scoreStep?: string;
  dedupStep?: string;
  decontStep?: string;
  threshold?: number;
}): Promise<Report> {
  const report: Report = {
    recipe: args.recipe, createdBy: "megamath build",
    steps: args.plan.map((p) => {
      const r = args.results.find((x) => x.step === p.step);
      return { step: p.step, command: p.command, status: r?.status ?? "not-run", note: p.skipped ?? p.substituted, about: p.about };
    }),
    funnel: [], mixtures: [], differencesFromPaper: args.differences, otherSteps: [], bounds: [],
  };
  for (const p of args.plan) {
    if (p.skipped) continue;
    const r = args.results.find((x) => x.step === p.step);
    const stats = await stepStats(p.outDir);
    if (!stats || !stats.stages?.length) {
      if (r) report.otherSteps.push({ step: p.step, command: p.command, status: r.status, seconds: round(r.seconds, 3), ...(r.cpuSeconds ? { cpuSeconds: round(r.cpuSeconds, 3) } : {}) });
      continue;
    }
    const first = stats.stages[0];
    const last = stats.stages[stats.stages.length - 1];
    const removed: Record<string, number> = {};
    const failed: Record<string, number> = {};
    let ms = 0;
    for (const s of stats.stages as StageStatsJSON[]) {
      for (const [k, v] of Object.entries(s.removed)) removed[k] = (removed[k] ?? 0) + v;
      for (const [k, v] of Object.entries(s.failed)) failed[k] = (failed[k] ?? 0) + v;
      ms += s.timeMs;
    }
    const seconds = r?.seconds || ms / 1000;
    // The reader's stage has no bytes in (it counts what it yields): its output is the step's input text.
    const bytesIn = first.bytesIn || first.bytesOut;
    report.funnel.push({
      step: p.step, command: p.command, status: r?.status ?? "", note: p.substituted,
      docsIn: first.docsIn, docsOut: last.docsOut, bytesIn, bytesOut: last.bytesOut, removed, failed,
      seconds: round(seconds, 3), mbPerSec: seconds > 0 ? round(bytesIn / 1e6 / seconds, 2) : 0,
      docsPerSec: seconds > 0 ? Math.round(first.docsIn / seconds) : 0,
      ...(r?.cpuSeconds ? { cpuSeconds: round(r.cpuSeconds, 3), mbPerCpuSec: round(bytesIn / 1e6 / r.cpuSeconds, 2) } : {}),
    });
    if (p.expect) report.bounds.push(bound(p.step, p.expect, first.docsIn, last.docsOut));
    if (p.command === "decontaminate") {
      report.decontamination = Object.entries(removed).filter(([k]) => k.startsWith("contaminated")).map(([k, v]) => ({ benchmark: k.split(":")[1] ?? k, documents: v }));
    }
  }
  const scoreDir = args.plan.find((p) => p.step === (args.scoreStep ?? "score") && !p.skipped)?.outDir;
  let scoredYears = new Map<string, number>();
  if (scoreDir) {
    const sf = figuresFromCounters(await stepStats(scoreDir), args.threshold ?? 0.4) ?? await scoreFigures(scoreDir, args.threshold ?? 0.4);
    if (sf.scored > 0) {
      scoredYears = sf.perYear;
      report.scoreHistogram = sf.scoreHistogram;
      report.thresholdCurve = sf.thresholdCurve;
      report.keptByYear = keptByYear(scoredYears, new Map());
    }
  }
  const dedupDir = args.plan.find((p) => p.command === "dedup" && !p.skipped)?.outDir;
  if (dedupDir) report.dedupClusters = await clusterSizes(join(dedupDir, "dedup-work", "clusters"));
  const dedupSummary = dedupDir ? await readDedupSummary(join(dedupDir, "dedup-work")) : null;
  if (dedupSummary) report.dedup = dedupSummary;
  for (const p of args.plan) {
    if (p.command !== "mix" || p.skipped) continue;
    // mix records what it packed per source as tokens_written (planned_tokens is the target).
    const m = await readJson<{ name: string; total_tokens: number; sources: { name: string; weight: number; planned_tokens: number; tokens_written?: number }[] }>(join(p.outDir, "mixture.json"));
    if (!m) continue;
    const packed = (s: { planned_tokens: number; tokens_written?: number }) => s.tokens_written ?? s.planned_tokens;
    const total = m.sources.reduce((a, s) => a + packed(s), 0);
    report.mixtures.push({
      name: m.name ?? p.step, totalTokens: total,
      sources: m.sources.map((s) => ({ name: s.name, weight: s.weight, tokens: packed(s), share: total ? round(packed(s) / total, 5) : 0 })),
    });
  }
  if (args.finalDir) {
    const final = await scanFinal(args.finalDir);
    report.finalCorpus = { folder: args.finalDir, docs: final.docs, bytes: final.bytes };
    if (report.keptByYear) report.keptByYear = keptByYear(scoredYears, final.perYear);
  }
  // Tokens: the tokenize step counted the final corpus exactly; earlier steps are estimated at its tokens/byte.
  const tok = args.plan.find((p) => p.command === "tokenize" && !p.skipped);
  const manifest = tok ? await readJson<{ tokens: number; documents: number }>(join(tok.outDir, "manifest.json")) : null;
  if (manifest && report.finalCorpus && report.finalCorpus.bytes > 0) {
    report.finalCorpus.tokens = manifest.tokens;
    report.tokensPerByte = round(manifest.tokens / report.finalCorpus.bytes, 5);
    for (const f of report.funnel) {
      const exact = f.step === report.funnel[report.funnel.length - 1].step && f.docsOut === manifest.documents;
      f.tokensOut = exact ? manifest.tokens : Math.round(f.bytesOut * report.tokensPerByte);
      f.tokensExact = exact;
    }
  }
  return report;
}

// The year of a document: a `year` column when a step added one, else a Common Crawl dump name in the usual columns.
const yearsOf = (b: Parameters<typeof batchYears>[0]) =>
  batchYears(b, ["year", ...DEFAULT_YEAR_COLUMNS]).map((y) => (y === null ? "unknown" : String(y)));

const reportThresholds = (threshold: number) =>
  [0.1, 0.2, 0.3, threshold, 0.5, 0.6, 0.7, 0.8, 0.9].filter((t, i, a) => a.indexOf(t) === i).sort((a, b) => a - b);

/** The score figures from the counters the score step kept (lib/stages/score-figures.ts), with no read of the
 * scored documents; null when it kept none (older outputs) or a threshold falls between bins. */
export function figuresFromCounters(stats: RunStatsJSON | null, threshold: number) {
  const c = stats?.stages.find((s) => s.name === SCORE_FIGURES_STAGE)?.counters;
  const thresholds = reportThresholds(threshold);
  if (!c || thresholds.some((t) => Math.round(t * SCORE_BINS) / SCORE_BINS !== t)) return null;
  const counts = Array.from({ length: SCORE_BINS }, (_, b) => c[binCounter(b)] ?? 0);
  const scored = counts.reduce((a, b) => a + b, 0);
  const perYear = new Map<string, number>();
  for (const [k, v] of Object.entries(c)) if (k.startsWith("year:")) perYear.set(k.slice(5), v);
  const kept = thresholds.map((t) => counts.slice(Math.round(t * SCORE_BINS)).reduce((a, b) => a + b, 0));
  const thresholdCurve = thresholds.map((t, k) => ({ threshold: t, kept: kept[k], share: scored ? round(kept[k] / scored, 4) : 0 }));
  const edges = Array.from({ length: SCORE_BINS + 1 }, (_, i) => i / SCORE_BINS);
  return { scoreHistogram: { edges, counts, column: "math_score" }, thresholdCurve, perYear, scored };
}

/** One pass over the scored documents: histogram, kept count at each threshold, documents per year. Memory does
 * not grow with the corpus (counters only). */
export async function scoreFigures(scoreDir: string, threshold: number) {
  const edges = Array.from({ length: 21 }, (_, i) => i / 20);
  const counts = new Array(20).fill(0);
  const thresholds = reportThresholds(threshold);
  const kept = new Array(thresholds.length).fill(0);
  let n = 0;
  const perYear = new Map<string, number>();
  // A score step fused with the next one and not kept wrote no documents: then there are no figures to draw.
  for (const f of await expandInputs([join(scoreDir, "*.parquet")]).catch(() => [] as string[])) {
    for await (const b of readDocuments(f)) {
      if (!hasColumn(b, "math_score")) continue;
      const s = getNumbers(b, "math_score");
      const years = yearsOf(b);
      for (let i = 0; i < s.length; i++) {
        if (Number.isNaN(s[i])) continue;
        n++;
        counts[scoreBin(s[i])]++;
        for (let k = 0; k < thresholds.length; k++) if (s[i] >= thresholds[k]) kept[k]++;
        perYear.set(years[i], (perYear.get(years[i]) ?? 0) + 1);
      }
    }
  }
  const thresholdCurve = thresholds.map((t, k) => ({ threshold: t, kept: kept[k], share: n ? round(kept[k] / n, 4) : 0 }));
  return { scoreHistogram: { edges, counts, column: "math_score" }, thresholdCurve, perYear, scored: n };
}

/** One pass over the final corpus: documents, text bytes, documents per year. */
async function scanFinal(dir: string): Promise<{ docs: number; bytes: number; perYear: Map<string, number> }> {
  let docs = 0;
  let bytes = 0;
  const perYear = new Map<string, number>();
  for (const f of await expandInputs([join(dir, "*.parquet")]).catch(() => [] as string[])) {
    for await (const b of readDocuments(f)) {
      docs += b.numRows;
      bytes += textBytes(b);
      for (const y of yearsOf(b)) perYear.set(y, (perYear.get(y) ?? 0) + 1);
    }
  }
  return { docs, bytes, perYear };
}

function keptByYear(scored: Map<string, number>, final: Map<string, number>) {
  const years = [...new Set([...scored.keys(), ...final.keys()])].sort((a, b) => a.localeCompare(b));
  return years.map((year) => {
    const sc = scored.get(year) ?? 0;
    const fi = final.get(year) ?? 0;
    return { year, scored: sc, final: fi, share: sc ? round(fi / sc, 4) : 0 };
  });
}

/** Cluster sizes from the dedup step's sidecar (clusters.jsonl: one cluster per line with its size). */
async function clusterSizes(dir: string): Promise<{ size: number; clusters: number }[] | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const file = names.find((n) => /^clusters.*\.jsonl$/.test(n));
  if (!file) return undefined;
  const hist = new Map<number, number>();
  for (const line of (await readFile(join(dir, file), "utf8")).split("\n")) {
    if (!line.trim()) continue;
    const c = JSON.parse(line) as { size?: number; members?: unknown[] };
    const size = c.size ?? c.members?.length ?? 0;
    hist.set(size, (hist.get(size) ?? 0) + 1);
  }
  return [...hist.entries()].sort(([a], [b]) => a - b).map(([size, clusters]) => ({ size, clusters }));
}

/** Where a step stood against its bounds (the same rule as lib/runtime/expect.ts, over the whole step). */
function bound(step: string, e: { allowEmpty: boolean; minKeptShare?: number }, docsIn: number, docsOut: number): Bound {
  const keptShare = docsIn ? docsOut / docsIn : 1;
  const ok = docsIn === 0 || (docsOut === 0 ? e.allowEmpty : e.minKeptShare === undefined || keptShare >= e.minKeptShare);
  return { step, allowEmpty: e.allowEmpty, ...(e.minKeptShare !== undefined ? { minKeptShare: e.minKeptShare } : {}), docsIn, docsOut, keptShare: round(keptShare, 5), ok };
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
