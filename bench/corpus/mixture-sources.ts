// Stand-ins for the mixture sources the paper draws from besides Pro-Max (DCLM-Baseline, MegaMath QA / code /
// text&code, instruction data, long- and short-CoT QA). None of those corpora is obtainable here, so the demo
// packs small real substitutes with compatible licences and says so in the report and PROVENANCE.md.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { vectorFromArray, List, Struct, Field, Utf8, type Vector } from "apache-arrow";
import { readJsonl } from "./sources.js";
import { join, relative, extname } from "node:path";

export interface StandIn {
  /** File name under fixtures/demo/sources/ (without extension). */
  name: string;
  /** What it stands in for, and where it comes from. */
  standsInFor: string;
  source: string;
  licence: string;
  columns: Record<string, string[] | Vector>;
}

/** A chat column shaped like the Hugging Face datasets' `messages`: list<struct<content, role>> (field order as
 * OpenR1-Math-220k's card lists it). */
function messagesColumn(turns: { role: string; content: string }[][]): Vector {
  const type = new List(new Field("element", new Struct([new Field("content", new Utf8(), true), new Field("role", new Utf8(), true)]), true));
  return (vectorFromArray as unknown as (v: unknown[], t: List) => Vector)(turns.map((t) => t.map((m) => ({ content: m.content, role: m.role }))), type);
}

/** A question and its answer as the user/assistant turns of a long-CoT dataset: the assistant turn carries the
 * reasoning in <think> tags, as OpenR1-Math-220k's and AM-DeepSeek-R1-Distilled's assistant turns do. */
const cotTurns = (q: unknown, a: unknown) => [{ role: "user", content: String(q) }, { role: "assistant", content: `<think>\n${String(a)}\n</think>` }];

function codeFiles(root: string, dirs: string[], exts: string[]): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (exts.includes(extname(name))) out.push({ path: relative(root, p), text: readFileSync(p, "utf8") });
    }
  };
  for (const d of dirs) {
    try {
      walk(join(root, d));
    } catch {
      /* a folder that does not exist yet contributes nothing */
    }
  }
  return out;
}

/** One file per source name of the shipped presets, with the columns each preset's template reads. */
export function mixtureStandIns(dataDir: string, repoRoot: string): StandIn[] {
  const dclm = readJsonl(join(dataDir, "web-nonmath", "dclm_human_quality_majority.jsonl.gz")).filter((r) => Number(r.label) === 1);
  const gsm = readJsonl(join(dataDir, "math-qa", "gsm8k_train.jsonl.gz"));
  // Sized to about 1.5x the largest share any demo mixture takes (1M-token Stable, 500k-token Decay), so the
  // demo does not tokenize text it never packs.
  const se = readJsonl(join(dataDir, "math-qa", "se_math_33votes.jsonl.gz")).slice(0, 150);
  const mo = readJsonl(join(dataDir, "math-qa", "se_mathoverflow_40votes.jsonl.gz")).slice(0, 150);
  const phys = readJsonl(join(dataDir, "math-qa", "se_physics_35votes.jsonl.gz")).slice(0, 180);
  const ts = codeFiles(repoRoot, ["lib", "classifiers", "recipe", "cli"], [".ts"]);
  const py = codeFiles(repoRoot, ["trainer"], [".py"]);
  const strip = (s: unknown) => String(s).replace(/<<[^>]*>>/g, "");
  const gsmSlice = (a: number, b: number) => gsm.slice(a, b);
  const SE = "CC BY-SA 4.0 (Stack Exchange)";
  return [
    { name: "dclm-baseline", standsInFor: "DCLM-Baseline", source: "DCLM human-quality docs labelled 1 (web-nonmath)", licence: "Common Crawl text via DCLM (MIT repo)",
      columns: { text: dclm.map((r) => String(r.text)) } },
    { name: "megamath-qa", standsInFor: "MegaMath-QA (short CoT)", source: "GSM8K train problems 1000-1599", licence: "MIT",
      // MegaMath-QA's released layout: one `text` column with the pair written out as Question:/Answer:.
      columns: { text: gsmSlice(1000, 1600).map((r) => `Question: ${String(r.question)}\nAnswer: ${strip(r.answer)}`) } },
    { name: "openmathinstruct-2", standsInFor: "OpenMathInstruct-2 (short CoT)", source: "GSM8K train problems 2000-2999", licence: "MIT",
      columns: { problem: gsmSlice(2000, 3000).map((r) => String(r.question)), generated_solution: gsmSlice(2000, 3000).map((r) => strip(r.answer)) } },
    { name: "numinamath-1.5", standsInFor: "NuminaMath-1.5 (short CoT)", source: "GSM8K train problems 4000-4599", licence: "MIT",
      columns: { problem: gsmSlice(4000, 4600).map((r) => String(r.question)), solution: gsmSlice(4000, 4600).map((r) => strip(r.answer)) } },
    { name: "openr1-math-220k", standsInFor: "OpenR1-Math-220K (long CoT)", source: "150 MathOverflow questions and their long answers as reasoning", licence: SE,
      // The real dataset's layout (problem + messages list<struct<content, role>>; see pipelines/mixtures).
      columns: { problem: mo.map((r) => String(r.input)), messages: messagesColumn(mo.map((r) => cotTurns(r.input, r.output))) } },
    { name: "am-deepseek-distilled-40m", standsInFor: "AM-DeepSeek-Distilled-40M (long CoT)", source: "180 physics.stackexchange questions and answers as reasoning", licence: SE,
      // AM-DeepSeek-Distilled-40M's layout: flat question/answer, the answer carrying the <think> reasoning.
      columns: { question: phys.map((r) => String(r.input)), answer: phys.map((r) => `<think>\n${String(r.output)}\n</think>`) } },
    { name: "instruction", standsInFor: "instruction-following chat (TULU3 personas, WildChat, UltraChat)", source: "150 math.stackexchange questions and answers as User/Assistant turns", licence: SE,
      // A JSON `messages` list per row, the shape UltraChat/WildChat ship.
      columns: { messages: se.map((r) => JSON.stringify([{ role: "user", content: String(r.input) }, { role: "assistant", content: String(r.output) }])) } },
    { name: "megamath-code", standsInFor: "MegaMath-Code", source: "megamath's own TypeScript sources", licence: "Apache-2.0 (this project)",
      columns: { text: ts.map((f) => `// ${f.path}\n${f.text}`) } },
    { name: "megamath-text-code-block", standsInFor: "MegaMath text & code block", source: "megamath's own TypeScript sources (same files as megamath-code)", licence: "Apache-2.0 (this project)",
      columns: { text: ts.map((f) => `// ${f.path}\n${f.text}`) } },
    { name: "megamath-translated-code", standsInFor: "MegaMath translated code", source: "megamath's Python trainer sources", licence: "Apache-2.0 (this project)",
      columns: { text: py.map((f) => `# ${f.path}\n${f.text}`) } },
  ];
}
