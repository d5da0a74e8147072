// Stand-ins for the mixture sources the paper draws from besides Pro-Max (DCLM-Baseline, MegaMath QA / code /
// text&code, instruction data, long- and short-CoT QA). None of those corpora is obtainable here, so the demo
// packs small real substitutes with compatible licences and says so in the report and PROVENANCE.md.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join, relative, extname } from "node:path";

export interface StandIn {
  /** File name under fixtures/demo/sources/ (without extension). */
  name: string;
  /** What it stands in for, and where it comes from. */
  standsInFor: string;
  source: string;
  licence: string;
  columns: Record<string, string[]>;
}

function jsonl(path: string): Record<string, unknown>[] {
  return gunzipSync(readFileSync(path)).toString("utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

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

export function mixtureStandIns(dataDir: string, repoRoot: string): StandIn[] {
  const dclm = jsonl(join(dataDir, "web-nonmath", "dclm_human_quality_majority.jsonl.gz")).filter((r) => Number(r.label) === 1);
  const gsm = jsonl(join(dataDir, "math-qa", "gsm8k_train.jsonl.gz")).slice(1000, 3000);
  const se = jsonl(join(dataDir, "math-qa", "se_math_33votes.jsonl.gz"));
  const mo = jsonl(join(dataDir, "math-qa", "se_mathoverflow_40votes.jsonl.gz"));
  const ts = codeFiles(repoRoot, ["lib", "classifiers", "pipelines", "cli"], [".ts"]);
  const py = codeFiles(repoRoot, ["trainer"], [".py"]);
  const strip = (s: unknown) => String(s).replace(/<<[^>]*>>/g, "");
  return [
    { name: "dclm-baseline", standsInFor: "DCLM-Baseline", source: "DCLM human-quality docs labelled 1 (shared/data/web-nonmath)", licence: "Common Crawl text via DCLM (MIT repo)",
      columns: { text: dclm.map((r) => String(r.text)) } },
    { name: "qa-short", standsInFor: "MegaMath-QA, OpenMathInstruct-2, NuminaMath-1.5 (short CoT)", source: "GSM8K train problems 1000-2999", licence: "MIT",
      columns: { question: gsm.map((r) => String(r.question)), answer: gsm.map((r) => strip(r.answer)) } },
    { name: "qa-long", standsInFor: "OpenR1-Math-220K, AM-DeepSeek-Distilled (long CoT)", source: "MathOverflow questions with long accepted answers", licence: "CC BY-SA 4.0 (Stack Exchange)",
      columns: { question: mo.map((r) => String(r.input)), answer: mo.map((r) => String(r.output)) } },
    { name: "instruct-chat", standsInFor: "instruction-following chat (TULU3 personas, WildChat, UltraChat)", source: "math.stackexchange questions and answers as User/Assistant turns", licence: "CC BY-SA 4.0 (Stack Exchange)",
      columns: { prompt: se.map((r) => String(r.input)), response: se.map((r) => String(r.output)) } },
    { name: "code", standsInFor: "MegaMath-Code, MegaMath text & code block", source: "megamath's own TypeScript sources", licence: "Apache-2.0 (this project)",
      columns: { text: ts.map((f) => `// ${f.path}\n${f.text}`) } },
    { name: "translated-code", standsInFor: "MegaMath translated code", source: "megamath's own Python trainer sources", licence: "Apache-2.0 (this project)",
      columns: { text: py.map((f) => `# ${f.path}\n${f.text}`) } },
  ];
}
