// The LLM cost plan: arithmetic by hand on a small sample, and `megamath plan-cost` on a corpus whose token counts
// the test computes itself (the refine guard's dropped documents and tokens included).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { tmpDir, repoRoot, sharedJsonl } from "../helpers.js";
import { planLlmCost } from "../../lib/llm/cost-plan.js";
import { loadTokenizer } from "../../lib/tokenizer/load.js";
import { loadPrompt, renderPrompt, truncateDoc } from "../../lib/llm/prompts.js";

test("planLlmCost scales the sample, leaves out what the guard skips, and converts to GPU-hours", () => {
  const sample = [
    { promptTokens: 100, documentTokens: 50, skipped: false },
    { promptTokens: 200, documentTokens: 150, skipped: false },
    { promptTokens: 300, documentTokens: 250, skipped: false },
    { promptTokens: 0, documentTokens: 1050, skipped: true },
  ];
  const p = planLlmCost({ step: "refine", documents: 400, sample, overheadTokens: 40, outputTokensPerSecPerGpu: 100, promptTokensPerSecPerGpu: 1000 });
  assert.equal(p.requests, 300);
  assert.equal(p.skipped.documents, 100);
  assert.equal(p.skipped.documentShare, 0.25);
  assert.equal(p.skipped.tokenShare, 1050 / 1500);
  assert.equal(p.promptTokens, 300 * (200 + 40));
  assert.equal(p.outputTokens, 300 * 150);
  assert.equal(p.gpuHours.decode, 45_000 / 100 / 3600);
  assert.equal(p.gpuHours.prefill, 72_000 / 1000 / 3600);
  assert.equal(p.gpuHours.total, p.gpuHours.decode + p.gpuHours.prefill!);
  const a = planLlmCost({ step: "annotate", documents: 10, sample: sample.slice(0, 3), overheadTokens: 0, outputTokensPerRequest: 128, outputTokensPerSecPerGpu: 64 });
  assert.equal(a.outputTokens, 1280);
  assert.equal(a.gpuHours.prefill, null);
  assert.ok(a.notes.some((x) => /prefill time not counted/.test(x)));
  assert.throws(() => planLlmCost({ ...a, step: "annotate", documents: 1, sample: [], overheadTokens: 0, outputTokensPerSecPerGpu: 1 }), /sample holds no documents/);
});

test("megamath plan-cost refine on real documents: counts match the tokenizer, the guard's loss is reported", () => {
  const dir = tmpDir();
  // Real math Q&A text, plus two documents over the 24,000-character guard.
  const docs = sharedJsonl("math-qa", "se_math_33votes.jsonl.gz").slice(0, 40).map((r) => `${r.input}\n${r.output}`);
  docs.push("x ".repeat(13_000), "y ".repeat(12_500));
  const file = join(dir, "docs.jsonl");
  writeFileSync(file, docs.map((text, i) => JSON.stringify({ id: String(i), text })).join("\n") + "\n");
  const run = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), "plan-cost", "-i", file, ...args],
    { cwd: repoRoot, encoding: "utf8" });
  const r = run(["--step", "refine", "--tokens-per-sec", "500", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  const tok = loadTokenizer("llama3");
  const prompt = loadPrompt("promax-refine");
  const sent = docs.filter((d) => d.length <= 24_000);
  const promptTokens = sent.reduce((a, d) => a + tok.encode(renderPrompt(prompt, d, "tags")).length + 40, 0);
  const docTokens = docs.map((d) => tok.encode(d).length);
  tok.free();
  assert.equal(plan.documents, 42);
  assert.equal(plan.requests, 40);
  assert.equal(plan.skipped.documents, 2);
  assert.equal(plan.promptTokens, promptTokens);
  assert.equal(plan.outputTokens, docTokens.slice(0, 40).reduce((a, b) => a + b, 0));
  assert.ok(Math.abs(plan.skipped.tokenShare - (docTokens[40] + docTokens[41]) / docTokens.reduce((a, b) => a + b, 0)) < 1e-12);
  assert.ok(Math.abs(plan.gpuHours.decode - plan.outputTokens / 500 / 3600) < 1e-12);

  const ann = run(["--step", "annotate", "--tokens-per-sec", "500", "--max-chars", "1000", "--json"]);
  assert.equal(ann.status, 0, ann.stderr);
  const tok2 = loadTokenizer("llama3");
  const fm = loadPrompt("finemath");
  const annPrompt = docs.reduce((a, d) => a + tok2.encode(renderPrompt(fm, truncateDoc(d, 1000).text, "tags")).length + 40, 0);
  tok2.free();
  assert.equal(JSON.parse(ann.stdout).promptTokens, annPrompt, "annotate cuts documents to --max-chars as the step does");
  assert.equal(JSON.parse(ann.stdout).outputTokens, 42 * 512);

  const bad = run(["--step", "refine"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--tokens-per-sec is required/);
});
