// The paper-scale recipe (pipelines/pro-max.json) against ../shared/spec/recipe.md, and what `megamath build --plan`
// says about it on a corpus laid out like MegaMath-Web (the bundled demo corpus: text, url, cc-path) with every
// mixture dataset in its released layout (test/build/paper-sources.ts). Its end-to-end run at reduced size is
// test/build/llm-build.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, tmpDir } from "../helpers.js";
import { writeParquet } from "../io/chat-parquet.js";
import { megamath } from "../build/cli-run.js";
import { writePaperSources, REDUCED_SIZE } from "../build/paper-sources.js";
import { loadRecipe, planRecipe } from "../../recipe/load.js";
import { applyOverrides, bindSources, parseOverride, recipeFile, unmetDependencies, usesSources } from "../../recipe/settings.js";
import { planText } from "../../recipe/plan-text.js";
import type { Recipe } from "../../recipe/types.js";

const paper = () => loadRecipe(recipeFile("pro-max"));
const step = (r: Recipe, name: string) => r.steps.find((s) => s.name === name)!;

test("pro-max.json holds the paper's numbers (recipe.md §2.1, §1.5, §3.3, §3.4)", async () => {
  const r = await paper();
  assert.deepEqual(r.inputs, [], "the paper recipe reads the user's MegaMath-Web (--input), never the demo corpus");
  // §2.1 step 1: "millions", stratified by year; 182,000 x 11 years (2014-2024, §1.1) = 2.0M, MegaMath's V2 seed size.
  assert.equal(step(r, "sample").options!["per-year"], 182000);
  // §2.1 step 3 / §1.5: FineMath >= 3 positive; DeepSeekMath's fastText settings, fastText's 2M buckets.
  assert.deepEqual(step(r, "train-classifier").options, { "score-column": "finemath_score", threshold: 3, dim: 256, lr: 0.1, "word-ngrams": 3, "min-count": 3, epoch: 3, bucket: 2000000, loss: "softmax" });
  assert.equal(step(r, "train-classifier").otherwise, undefined, "the paper's classifier learns from LLM annotations only");
  // Item 6: MegaMath-Web is English already (§1.4); the paper recipe runs no language ID and filters on P(math) alone.
  assert.equal(step(r, "score").options!.langid, undefined);
  assert.deepEqual(step(r, "filter").options, { min: ["math_score=0.4"] });
  assert.equal(step(r, "refine").when, "llm");
  assert.equal(r.final, "refine");
  // Budgets: Stable 200B, every Decay branch 20B; Decay's web source is MegaMath-Web-Pro as released, not Pro-Max.
  assert.equal(step(r, "mix-stable").options!.tokens, "200B");
  for (const b of ["long", "short", "hybrid"]) {
    const o = step(r, `mix-decay-${b}`).options!;
    assert.equal(o.preset, `decay-${b}`);
    assert.equal(o.tokens, "20B");
    assert.ok((o.source as string[]).includes("megamath-web-pro=${sources}/LLM360/MegaMath/megamath-web-pro/*.parquet"), b);
    assert.ok((o.source as string[]).every((x) => !x.includes("${tokenize}")), `${b} must not read this build's Pro-Max`);
  }
  assert.ok((step(r, "mix-stable").options!.source as string[]).includes("megamath-web-pro-max=${tokenize}"));
  // Every source named by the presets is given a path, and only released-dataset paths or this build's steps.
  const all = ["mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid"].flatMap((m) => step(r, m).options!.source as string[]);
  for (const s of all) assert.match(s, /^[a-z0-9.-]+=\$\{(sources|tokenize|instruction-tulu3)\}(\/|$)/, s);
  // The three instruction sets are tokenized with their own column layouts (WildChat: `conversation`).
  assert.equal(step(r, "instruction-wildchat").options!["messages-key"], "conversation");
  assert.ok(usesSources(r));
});

test("--set and --sources: typed overrides recorded as differences; unknown steps and bad syntax refused", async () => {
  const r = applyOverrides(await paper(), REDUCED_SIZE.map(parseOverride));
  assert.equal(step(r, "sample").options!["per-year"], 120);
  assert.equal(step(r, "mix-stable").options!.tokens, "1M");
  assert.equal(step(r, "mix-stable").options!.workers, 0);
  assert.match(r.differences_from_paper!["set sample.per-year"], /182000.*this build: 120/);
  assert.deepEqual(parseOverride("filter.min=math_score=0.5"), { step: "filter", option: "min", value: "math_score=0.5" });
  assert.deepEqual(applyOverrides(r, [parseOverride("filter.min=math_score=0.5")]).steps.find((s) => s.name === "filter")!.options!.min, ["math_score=0.5"]);
  assert.throws(() => parseOverride("per-year=3"), /STEP\.OPTION=VALUE/);
  assert.throws(() => applyOverrides(r, [parseOverride("sampel.per-year=3")]), /no step "sampel"/);
  // A misspelled option is refused when planning (so by --plan and --emit too), not when the task runs.
  await assert.rejects(planRecipe(applyOverrides(r, [parseOverride("score.exact-rowz=true")]), { recipeDir: repoRoot, outDir: "/tmp/megamath-typo" }),
    /step "score": megamath score has no option "exact-rowz"; its options: .*exact-rows/);
  assert.throws(() => recipeFile("pro-maxx"), /shipped recipes: pro-max, pro-max-demo, megamath-web/);
  const bound = bindSources(r, "/data/hub");
  assert.ok(!usesSources(bound));
  assert.ok((step(bound, "mix-decay-long").options!.source as string[]).includes("megamath-web-pro=/data/hub/LLM360/MegaMath/megamath-web-pro/*.parquet"));
});

test("build --plan on a MegaMath-Web-like corpus and released-layout sources: steps, sizes, budgets, costs, differences", async () => {
  const sources = tmpDir("megamath-paper-plan-");
  await writePaperSources(sources);
  const r = bindSources(await paper(), sources);
  r.inputs = [join(repoRoot, "fixtures/demo/megamath-web-*.parquet")];
  const settings = { recipeDir: join(repoRoot, "pipelines"), outDir: "/tmp/x" };
  // Without an LLM server the paper recipe cannot run: score needs the classifier only annotations train.
  const noLlm = await planRecipe(r, settings);
  assert.deepEqual(unmetDependencies(r, noLlm.plan), [`step "score" needs the output of step "train-classifier", which does not run: no LLM server given (--llm URL --model NAME)`]);
  const { plan } = await planRecipe(r, { ...settings, llm: { url: "http://127.0.0.1:1/v1", model: "Qwen2.5-72B-Instruct" } });
  assert.deepEqual(unmetDependencies(r, plan), []);
  const text = await planText(r, plan, { model: "Qwen2.5-72B-Instruct", tokensPerSec: 2000, sample: 200 });
  assert.match(text, /input: 2 file\(s\), 3,525 documents/);
  // Item 7: which column gives the year, said before anything runs.
  assert.match(text, /year from: cc-path \(100\.0% of rows\); years 2014-2024/);
  assert.match(text, /size: ≈3,525 documents \(182,000 per year x 11 years/);
  assert.match(text, /annotate[^]*cost: 3,525 requests, [\d.]+[kM] prompt \+ 1\.8M answer tokens; [\d.]+ GPU-hours at 2000/);
  assert.match(text, /refine[^]*cost: 2,290 requests/);
  assert.match(text, /options: score-column=finemath_score threshold=3 dim=256 lr=0\.1 word-ngrams=3 min-count=3 epoch=3 bucket=2000000/);
  assert.match(text, /budget: 200B tokens \(preset stable: 200B\), at most 4 epochs per source, 47684 steps/);
  assert.match(text, new RegExp(`megamath-web-pro +55\\.00% +11B +${sources}/LLM360/MegaMath/megamath-web-pro/\\*\\.parquet`));
  assert.match(text, /openmathinstruct-2 +17\.50% +3\.5B/);
  assert.match(text, /SKIPPED: training not requested/);
  assert.match(text, /LLM: paper: Llama-3\.1-70B-Instruct \(annotation and refinement\); this build: Qwen2\.5-72B-Instruct/);
  assert.match(text, /score\.langid: paper: no language ID/);
});

test("build --plan names the missing year column; build refuses a recipe with no inputs or no --sources", () => {
  const dir = tmpDir("megamath-paper-noyear-");
  const str = (name: string) => [{ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }] as never;
  writeParquet(join(dir, "cc.parquet"), [
    { name: "url", schema: str("url"), data: ["https://example.org/a", "https://example.org/b"] },
    { name: "text", schema: str("text"), data: ["A page about 2 + 2 = 4.", "Another page."] }]);
  const p = megamath(["build", "--recipe", "pro-max", "--plan", "-i", join(dir, "cc.parquet"), "-o", join(dir, "out")]);
  assert.equal(p.code, 0, p.err);
  assert.match(p.out, /YEAR: none of the columns dump, crawl, cc-path, .* gives a year in 2 sampled rows, so the sample step would keep nothing; .* --set sample\.year-columns=COLUMN/);
  assert.match(p.out, /WARNING: step "score" needs the output of step "train-classifier"/);
  const noInput = megamath(["build", "--recipe", "pro-max", "-o", join(dir, "out2")]);
  assert.equal(noInput.code, 2);
  assert.match(noInput.err, /recipe "pro-max" has no inputs: give --input GLOB/);
  const noSources = megamath(["build", "--recipe", "pro-max", "-i", join(dir, "cc.parquet"), "-o", join(dir, "out3")]);
  assert.equal(noSources.code, 2);
  assert.match(noSources.err, /--sources DIR/);
  assert.ok(!readFileSync(join(repoRoot, "pipelines", "pro-max.json"), "utf8").includes("fixtures/demo"));
});
