// No silent success (issue 20, item 6): a recipe step's bounds on what it keeps stop the build with the step's name
// and figures; the same step with the bound relaxed passes; the report shows every bound and where the run stood.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadRecipe, planRecipe, runPlanLocally } from "../../index.js";
import { collectReport } from "../../recipe/report/collect.js";
import { renderReport } from "../../recipe/report/html.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { repoRoot, tmpDir } from "../helpers.js";

const INPUT = join(repoRoot, "fixtures/demo/megamath-web-00000.parquet");

async function build(dir: string, options: Record<string, unknown>) {
  const file = join(dir, "r.json");
  writeFileSync(file, JSON.stringify({ name: "bounds", inputs: [INPUT], steps: [{ name: "math-only", command: "filter", input: "@input", options }] }));
  const { plan } = await planRecipe(await loadRecipe(file), { recipeDir: dir, outDir: join(dir, "out"), common: { quiet: true } });
  return { plan, run: () => runPlanLocally(plan, { log: memoryLogger() }) };
}

test("a step that empties its input stops the build naming the step and the figures; allowed, it passes", async () => {
  const dir = tmpDir("megamath-bounds-");
  // label is 0 or 1: nothing passes label >= 2.
  await assert.rejects((await build(dir, { min: ["label=2"] })).run(),
    /step "math-only" \(megamath filter\): .*turned \d+ input documents into an empty output/);
  const allowed = await build(dir, { min: ["label=2"], "allow-empty": true });
  const results = await allowed.run();
  const report = await collectReport({ recipe: "bounds", plan: allowed.plan, results, differences: {} });
  assert.equal(report.bounds.length, 1);
  const b = report.bounds[0];
  assert.equal(b.step, "math-only");
  assert.equal(b.allowEmpty, true);
  assert.ok(b.docsIn > 0 && b.docsOut === 0 && b.ok, JSON.stringify(b));
});

test("a step keeping less than its min-kept-share stops the build with the share; a lower bound passes and the report shows it", async () => {
  const dir = tmpDir("megamath-bounds-");
  await assert.rejects((await build(dir, { min: ["label=1"], "min-kept-share": 0.99 })).run(),
    /step "math-only" \(megamath filter\): .*kept \d+ of \d+ documents \([\d.]+%\), fewer than the 99\.0% it expects/);
  const relaxed = await build(dir, { min: ["label=1"], "min-kept-share": 0.1 });
  // The outputs were made by the failed run (its markers hold): the relaxed bound reuses them and passes.
  const results = await relaxed.run();
  assert.deepEqual(results.map((r) => r.status), ["done-before"]);
  const report = await collectReport({ recipe: "bounds", plan: relaxed.plan, results, differences: {} });
  const b = report.bounds[0];
  assert.equal(b.minKeptShare, 0.1);
  assert.ok(b.keptShare > 0.1 && b.keptShare < 0.99 && b.ok, JSON.stringify(b));
  assert.equal(b.keptShare, Math.round((b.docsOut / b.docsIn) * 1e5) / 1e5);
  const html = renderReport(report);
  assert.match(html, /data-key="bound\.math-only\.minKeptShare" data-value="0\.1"/);
  assert.match(html, new RegExp(`data-key="bound\\.math-only\\.keptShare" data-value="${b.keptShare}"`));
  assert.match(html, /data-key="bound\.math-only\.ok">within/);
  // Where the run stood against a bound it broke shows too (a report of a folder whose step was stopped).
  const broken = await collectReport({ recipe: "bounds", differences: {}, results,
    plan: [{ ...relaxed.plan[0], expect: { allowEmpty: false, minKeptShare: 0.99 } }] });
  assert.equal(broken.bounds[0].ok, false);
  assert.match(renderReport(broken), /data-key="bound\.math-only\.ok"><b>BROKEN<\/b>/);
});
