// Hugging Face dataset cards (README.md with a YAML metadata header, field names as the Hub's datasetcard.md
// documents them) for a finished Pro-Max corpus and for a packed mixture. Pure functions: the caller (folder.ts)
// gathers the figures; every number in a card comes from the build's own outputs.
import { stringify } from "yaml";
import type { Report } from "../report/collect.js";
import type { MixtureJson } from "../../lib/mix/run.js";
import { inputInfo, sizeCategory } from "./inputs.js";

export interface CorpusCardInput {
  recipe: string;
  report: Report;
  /** Every step's command and options as the build ran them (plan.json). */
  steps: { step: string; command: string; options: Record<string, unknown>; about?: string; skipped?: string }[];
  /** Data files of the corpus, relative to the card's folder (e.g. "*.parquet"). */
  dataFiles: string[];
  documents: number;
  tokens?: number;
  license: string;
  /** The build's input globs. */
  inputs: string[];
  benchmarks: { name: string; items: number }[];
}

export interface MixtureCardInput {
  mixture: MixtureJson;
  /** The preset's notes on each source's released layout. */
  layouts?: Record<string, string>;
}

const n = (x: number | undefined) => (x === undefined ? "—" : x.toLocaleString("en-US"));
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map((c) => cell(String(c))).join(" | ")} |`)].join("\n");

function header(meta: Record<string, unknown>): string {
  return `---\n${stringify(meta, { lineWidth: 0 })}---\n`;
}

/** The card of a finished Pro-Max corpus. */
export function corpusCard(c: CorpusCardInput): string {
  const r = c.report;
  const meta = {
    license: c.license,
    language: ["en"],
    pretty_name: `${c.recipe} (megamath build)`,
    size_categories: [sizeCategory(c.documents)],
    task_categories: ["text-generation"],
    tags: ["math", "pretraining", "megamath", "octothinker"],
    source_datasets: ["LLM360/MegaMath"],
    configs: [{ config_name: "default", data_files: [{ split: "train", path: c.dataFiles }] }],
  };
  const out = [header(meta), `# ${c.recipe}`, "",
    `A math pre-training corpus built by \`megamath build\` with the recipe "${c.recipe}", following OctoThinker's`,
    "MegaMath-Web-Pro-Max recipe: year-stratified sample, LLM annotation, fastText classifier, score, filter, MinHash",
    "dedup, 13-gram decontamination, LLM refinement.", "",
    `**${n(c.documents)} documents**${c.tokens !== undefined ? `, **${n(c.tokens)} Llama-3 tokens**` : ""}.`, "",
    "## Documents and tokens per step", "",
    table(["step", "command", "status", "documents in", "documents out", "removed (by reason)", "failed", "tokens out"],
      r.funnel.map((f) => [f.step, f.command, f.status, n(f.docsIn), n(f.docsOut),
        Object.entries(f.removed).map(([k, v]) => `${k} ${n(v)}`).join(", ") || "—",
        Object.entries(f.failed).map(([k, v]) => `${k} ${n(v)}`).join(", ") || "—",
        f.tokensOut === undefined ? "—" : `${n(f.tokensOut)}${f.tokensExact ? "" : " (est.)"}`])), ""];
  if (r.keptByYear?.length) {
    out.push("## Documents per year", "", table(["year", "scored", "in the corpus", "share kept"],
      r.keptByYear.map((y) => [y.year, n(y.scored), n(y.final), `${(y.share * 100).toFixed(1)}%`])), "");
  }
  out.push("## Recipe and settings", "", table(["step", "command", "settings", "what it does"],
    c.steps.map((s) => [s.step, s.command, s.skipped ? `skipped: ${s.skipped}` : settings(s.options), s.about ?? ""])), "");
  const diffs = Object.entries(r.differencesFromPaper ?? {});
  out.push("## Differences from the paper", "", diffs.length ? table(["what", "paper vs this build"], diffs) : "None recorded by the recipe.", "");
  out.push("## Decontamination", "",
    "Documents sharing an exact word 13-gram with a benchmark item were removed (MegaMath's rule, recipe.md §1.7).", "",
    table(["benchmark", "items", "documents removed"], c.benchmarks.map((b) =>
      [b.name, n(b.items), n(r.decontamination?.find((d) => d.benchmark === b.name)?.documents ?? 0)])), "");
  if (r.mixtures.length) {
    out.push("## Mixtures built from it", "", ...r.mixtures.flatMap((m) => [`**${m.name}** (${n(m.totalTokens)} tokens): ` +
      m.sources.map((s) => `${s.name} ${(s.weight * 100).toFixed(2)}% (${n(s.tokens)})`).join(", "), ""]));
  }
  out.push("## Provenance and licences", "",
    `This build's inputs: ${c.inputs.length ? c.inputs.map((i) => `\`${i}\``).join(", ") : "(not recorded)"}. The card's licence`,
    `(\`${c.license}\`) is the one \`megamath card --license\` was given (default: MegaMath-Web's, odc-by); when the inputs are`,
    "not MegaMath-Web, give theirs.", "",
    table(["source", "Hub", "licence", "note"], [["megamath-web", inputInfo("megamath-web").hub, inputInfo("megamath-web").license,
      "the corpus the paper's recipe filters (recipe.md §2.1); refined text is written by the LLM named in the refine settings"]]), "",
    "Licences are as the inputs' Hub cards state them; check them before you publish.", "");
  return out.join("\n");
}

/** The card of a packed mixture folder (mixture.json next to it). */
export function mixtureCard(c: MixtureCardInput): string {
  const m = c.mixture;
  const docs = m.sources.reduce((a, s) => a + s.documents_written, 0);
  const licences = [...new Set(m.sources.map((s) => inputInfo(s.name).license))];
  const meta: Record<string, unknown> = {
    license: licences.length === 1 ? licences[0] : "other",
    ...(licences.length === 1 ? {} : { license_name: "mixed", license_link: "README.md" }),
    language: ["en"],
    pretty_name: `${m.name} mixture (megamath mix)`,
    size_categories: [sizeCategory(docs)],
    task_categories: ["text-generation"],
    tags: ["math", "pretraining", "megamath", "octothinker", "tokenized"],
    // Megatron .bin/.idx token files: nothing the Hub's viewer or datasets.load_dataset can read.
    viewer: false,
    configs: m.sources.map((s) => ({ config_name: s.name, data_files: [{ split: "train", path: [`${s.prefix}.bin`, `${s.prefix}.idx`] }] })),
  };
  const out = [header(meta), `# ${m.name}`, "",
    `${m.description ?? "A token mixture packed by megamath mix."}`, "",
    `**${n(m.tokens_written)} tokens** of ${m.tokenizer.name} (vocabulary ${n(m.tokenizer.vocab_size)}, BOS ${m.tokenizer.bos_id}, EOS ${m.tokenizer.eos_id}),`,
    `${n(docs)} documents, in Megatron \`.bin\`/\`.idx\` files (${m.dtype}) with datatrove/nanotron sidecars; seed ${m.seed}.`, "",
    "## Documents and tokens per source", "",
    table(["source", "weight", "tokens", "documents", "epochs", "max repetition", "available tokens"],
      m.sources.map((s) => [s.name, `${(s.weight * 100).toFixed(3)}%`, n(s.tokens_written), n(s.documents_written),
        s.epochs.toFixed(3), s.max_repetition, n(s.available_tokens)])), "",
    `Weights as given summed to ${m.weights_sum_given}${m.weights_normalized ? " and were normalized to shares" : ""}.`, "",
    "## Using it", "", "Megatron-LM `--data-path`: `" + m.megatron_data_path.join(" ") + "`", "",
    "## Provenance and licences", "",
    table(["source", "Hub", "licence", "released layout / note"], m.sources.map((s) => {
      const i = inputInfo(s.name);
      return [s.name, i.hub, i.license, [i.note, c.layouts?.[s.name]].filter(Boolean).join(" — ") || "—"];
    })), "",
    "Licences are as the inputs' Hub cards state them; check them before you publish. A mixture is bound by every",
    "licence of its sources.", ""];
  return out.join("\n");
}

function settings(o: Record<string, unknown>): string {
  const keep = Object.entries(o).filter(([k]) => !["input", "output", "quiet", "force"].includes(k));
  return keep.map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`).join(" ") || "defaults";
}
