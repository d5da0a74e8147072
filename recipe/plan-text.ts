// `megamath build --plan`: every step of a planned build with its inputs, outputs, expected sizes, token budgets,
// the recipe's differences from the paper and what the LLM steps would cost, before anything runs. Sizes come from
// the input files' metadata (row counts) and a sample of their rows (year columns, token counts); where a size
// depends on what an earlier step keeps, the assumption is printed next to it.
import { statSync } from "node:fs";
import { expandInputs, readDocuments } from "../lib/io/index.js";
import { describeFile } from "../lib/io/inspect.js";
import { DEFAULT_YEAR_COLUMNS, columnName, yearColumnUse } from "../lib/sample/year.js";
import { loadTokenizer } from "../lib/tokenizer/load.js";
import { loadPrompt } from "../lib/llm/prompts.js";
import { sampleRequests } from "../lib/llm/cost-sample.js";
import { planLlmCost, type CostPlan, type SampledRequest } from "../lib/llm/cost-plan.js";
import { DEFAULT_ANNOTATE_MAX_CHARS } from "../lib/llm/annotate-stage.js";
import { DEFAULT_REFINE_LIMITS } from "../lib/llm/refine-stage.js";
import { loadPreset, parseTokenCount } from "../lib/mix/index.js";
import type { Recipe } from "./types.js";
import type { Invocation, OptionValue } from "./plan.js";

export interface PlanTextSettings {
  /** The LLM model named for the build, if any (compared with the paper's). */
  model?: string;
  /** Generated / prompt tokens per second per GPU, for GPU-hours (absent: tokens only). */
  tokensPerSec?: number;
  promptTokensPerSec?: number;
  /** Documents sampled for token counts (default 500). */
  sample?: number;
  /** Problems found while planning (e.g. unmet dependencies), printed first. */
  warnings?: string[];
}

/** The paper's annotation and refinement model (recipe.md §2.1 steps 2 and 5). */
export const PAPER_LLM = "Llama-3.1-70B-Instruct";
/** Share of MegaMath-Web that Pro-Max keeps: ≈69.2M of 106.5M documents (recipe.md §2.2, §1.8). */
export const PAPER_KEEP_SHARE = 69.2 / 106.5;
/** Tokens per training step: 512 sequences of 8,192 (recipe.md §4, §8). */
const TOKENS_PER_STEP = 512 * 8192;

const n = (x: number) => Math.round(x).toLocaleString("en-US");
const tok = (x: number) => (x >= 1e9 ? `${+(x / 1e9).toFixed(2)}B` : x >= 1e6 ? `${+(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${+(x / 1e3).toFixed(1)}k` : String(Math.round(x)));
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

interface Corpus { files: string[]; documents: number; bytes: number; error?: string }

async function describeCorpus(globs: string[]): Promise<Corpus> {
  if (!globs.length) return { files: [], documents: 0, bytes: 0, error: "no inputs: give --input GLOB" };
  try {
    const files = await expandInputs(globs);
    let documents = 0;
    let bytes = 0;
    for (const f of files) {
      documents += (await describeFile(f, { rows: 0 })).rows;
      bytes += statSync(f).size;
    }
    return { files, documents, bytes };
  } catch (e) {
    return { files: [], documents: 0, bytes: 0, error: (e as Error).message };
  }
}

/** Which column gives the year, over up to `rows` rows from the start of each file (an even share). */
async function yearUse(files: string[], columns: string[], rows: number) {
  const total = { byColumn: {} as Record<string, number>, none: 0, years: {} as Record<string, number>, rows: 0 };
  const per = Math.max(1, Math.ceil(rows / Math.max(1, files.length)));
  const top = [...new Set(columns.map((c) => columnName(c).split(".")[0]))];
  for (const f of files.slice(0, rows)) {
    let seen = 0;
    for await (const b of readDocuments(f, { columns: top, batchSize: Math.min(per, 4096) })) {
      const u = yearColumnUse(b, columns);
      for (const [k, v] of Object.entries(u.byColumn)) total.byColumn[k] = (total.byColumn[k] ?? 0) + v;
      for (const [k, v] of Object.entries(u.years)) total.years[k] = (total.years[k] ?? 0) + v;
      total.none += u.none;
      total.rows += b.numRows;
      seen += b.numRows;
      if (seen >= per) break;
    }
  }
  return total;
}

function optionText(o: Record<string, OptionValue>): string {
  return Object.entries(o).filter(([k]) => k !== "input" && k !== "output" && k !== "source")
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`).join(" ");
}

function costLines(label: string, p: CostPlan, tps?: number): string[] {
  const hours = tps ? `${p.gpuHours.total.toFixed(1)} GPU-hours at ${tps} generated tokens/s/GPU${p.gpuHours.prefill === null ? " (prefill not counted)" : ""}`
    : "GPU-hours: give --tokens-per-sec N (generated tokens per second per GPU of your server)";
  return [`      ${label}: ${n(p.requests)} requests, ${tok(p.promptTokens)} prompt + ${tok(p.outputTokens)} answer tokens; ${hours}`,
    ...(p.step === "refine" && p.skipped.documents > 0 ? [`      not sent (over the length bound): ${(p.skipped.documentShare * 100).toFixed(2)}% of documents, ${(p.skipped.tokenShare * 100).toFixed(2)}% of tokens`] : [])];
}

export async function planText(recipe: Recipe, plan: Invocation[], s: PlanTextSettings = {}): Promise<string> {
  const lines: string[] = [`plan of build "${recipe.name}" (nothing runs): ${plan.length} steps`];
  for (const w of s.warnings ?? []) lines.push(`WARNING: ${w}`);
  const corpus = await describeCorpus(plan.find((p) => p.options.input)?.options.input as string[] ?? []);
  if (corpus.error) lines.push(`input: ${corpus.error}`);
  else lines.push(`input: ${corpus.files.length} file(s), ${n(corpus.documents)} documents, ${mb(corpus.bytes)} on disk`);

  // Token counts and prompt sizes from a sample of the input (the sample step draws uniformly, so its documents
  // look like these; the refine input is the filtered part, so its sizes are an approximation, said below).
  const tps = s.tokensPerSec && s.tokensPerSec > 0 ? s.tokensPerSec : undefined;
  let annotateSample: SampledRequest[] = [];
  let refineSample: SampledRequest[] = [];
  if (corpus.files.length) {
    const tokenizer = loadTokenizer("llama3");
    try {
      const common = { tokenizer, sample: s.sample ?? 500, fence: "tags" as const, maxChars: DEFAULT_ANNOTATE_MAX_CHARS, maxInputChars: DEFAULT_REFINE_LIMITS.maxInputChars };
      if (plan.some((p) => p.command === "annotate")) annotateSample = await sampleRequests(corpus.files, { ...common, step: "annotate", prompt: loadPrompt("finemath") });
      if (plan.some((p) => p.command === "refine" || p.command === "tokenize")) refineSample = await sampleRequests(corpus.files, { ...common, step: "refine", prompt: loadPrompt("promax-refine") });
    } finally {
      tokenizer.free();
    }
  }
  const meanDocTokens = refineSample.length ? refineSample.reduce((a, r) => a + r.documentTokens, 0) / refineSample.length : 0;
  const cost = (step: "annotate" | "refine", documents: number, sample: SampledRequest[]) => planLlmCost({
    step, documents, sample, overheadTokens: 40, outputTokensPerRequest: 512, outputRatio: 1,
    outputTokensPerSecPerGpu: tps ?? 1, promptTokensPerSecPerGpu: s.promptTokensPerSec,
  });

  // The sample step's size: which column gives the year and how many documents each year has, from the rows.
  let sampled = 0;
  const yearLines: string[] = [];
  const sampleStep = plan.find((p) => p.command === "sample" && !p.skipped);
  if (sampleStep && corpus.files.length) {
    const columns = (sampleStep.options["year-columns"] as string[] | undefined) ?? DEFAULT_YEAR_COLUMNS;
    const u = await yearUse(corpus.files, columns, 2000);
    const used = Object.entries(u.byColumn).sort((a, b) => b[1] - a[1]);
    const perYear = sampleStep.options["per-year"] as number | undefined;
    const years = Object.keys(u.years).sort();
    if (!used.length) {
      yearLines.push(`      YEAR: none of the columns ${columns.join(", ")} gives a year in ${n(u.rows)} sampled rows, so the sample step would keep nothing; ` +
        `name the column holding a Common Crawl dump name, WARC date or timestamp with --set ${sampleStep.step}.year-columns=COLUMN`);
    } else {
      yearLines.push(`      year from: ${used.map(([c, k]) => `${c} (${((k / u.rows) * 100).toFixed(1)}% of rows)`).join(", ")}` +
        `${u.none ? `; ${((u.none / u.rows) * 100).toFixed(1)}% have none and are removed as no_year` : ""}; years ${years[0]}-${years[years.length - 1]} in ${n(u.rows)} sampled rows`);
      if (perYear !== undefined) {
        for (const y of years) sampled += Math.min(perYear, (u.years[y] / u.rows) * corpus.documents);
        yearLines.push(`      size: ≈${n(sampled)} documents (${n(perYear)} per year x ${years.length} years, fewer where a year has fewer)`);
      } else if (typeof sampleStep.options.fraction === "number") {
        sampled = ((u.rows - u.none) / u.rows) * corpus.documents * sampleStep.options.fraction;
        yearLines.push(`      size: ≈${n(sampled)} documents`);
      }
    }
  }
  let kept = corpus.documents;
  let keptNote = "";
  plan.forEach((inv, i) => {
    lines.push("", `${String(i + 1).padStart(2)}. ${inv.step} — megamath ${inv.command}${inv.shard !== "none" ? ` (sharded by ${inv.shard})` : ""}`);
    if (inv.about) lines.push(`      ${inv.about}`);
    if (inv.skipped) {
      lines.push(`      SKIPPED: ${inv.skipped}`);
      return;
    }
    if (inv.substituted) lines.push(`      replaced: ${inv.substituted}`);
    const input = inv.options.input;
    if (Array.isArray(input)) lines.push(`      in:  ${input.join(" ")}`);
    if (inv.positionals.length) lines.push(`      args: ${inv.positionals.join(" ")}`);
    if (inv.options.output) lines.push(`      out: ${inv.options.output}`);
    const opts = optionText(inv.options);
    if (opts) lines.push(`      options: ${opts}`);
    switch (inv.command) {
      case "sample": {
        lines.push(...yearLines);
        break;
      }
      case "annotate":
        if (annotateSample.length) lines.push(...costLines("cost", cost("annotate", Math.max(1, sampled), annotateSample), tps));
        break;
      case "filter": {
        const min = (inv.options.min as string[] | undefined) ?? [];
        if (min.some((m) => m.startsWith("math_score="))) {
          kept = corpus.documents * PAPER_KEEP_SHARE;
          keptNote = `assumed ${(PAPER_KEEP_SHARE * 100).toFixed(0)}% kept, as Pro-Max's ≈69.2M of MegaMath-Web's 106.5M documents (recipe.md §2.2, §1.8)`;
          lines.push(`      size: ≈${n(kept)} documents kept (${keptNote})`);
        }
        break;
      }
      case "refine":
        if (refineSample.length) lines.push(...costLines("cost", cost("refine", Math.max(1, kept), refineSample), tps),
          `      sizes measured on the input's documents before filtering${keptNote ? `; ${keptNote}` : ""}`);
        break;
      case "tokenize":
        if (inv.step === "tokenize" && meanDocTokens) lines.push(`      size: ≈${tok(kept * (meanDocTokens + 2))} Llama-3 tokens (${n(kept)} documents x ${n(meanDocTokens)} tokens + BOS/EOS, from the input's sample)`);
        break;
      case "mix": {
        try {
          const spec = loadPreset(String(inv.options.preset));
          const total = inv.options.tokens !== undefined ? parseTokenCount(inv.options.tokens as string) : spec.total_tokens;
          const paths = new Map(((inv.options.source as string[]) ?? []).map((x) => [x.slice(0, x.indexOf("=")), x.slice(x.indexOf("=") + 1)]));
          lines.push(`      budget: ${tok(total)} tokens (preset ${spec.name}: ${tok(spec.total_tokens)}), at most ${inv.options["max-repetition"] ?? spec.max_repetition} epochs per source, ${(total / TOKENS_PER_STEP).toFixed(0)} steps of 512 x 8192`);
          for (const src of spec.sources) lines.push(`        ${src.name.padEnd(28)} ${(src.weight * 100).toFixed(2).padStart(6)}%  ${tok(src.weight * total).padStart(8)}  ${paths.get(src.name) ?? "(no path given)"}`);
        } catch (e) {
          lines.push(`      budget: ${(e as Error).message}`);
        }
        break;
      }
    }
  });

  const diffs = Object.entries(recipe.differences_from_paper ?? {});
  if (s.model && !s.model.toLowerCase().replace(/[^a-z0-9.]/g, "").includes("llama3.170binstruct")) {
    diffs.push(["LLM", `paper: ${PAPER_LLM} (annotation and refinement); this build: ${s.model}`]);
  }
  if (diffs.length) {
    lines.push("", "differences from the paper:");
    for (const [k, v] of diffs) lines.push(`  ${k}: ${v}`);
  }
  return lines.join("\n") + "\n";
}
