// The recipe as a library: load, plan and run a build from a plain import of the package entry, with no command
// line anywhere (typed options go to the steps in-process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { loadRecipe, planRecipe, runPlanLocally } from "../../index.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { repoRoot, tmpDir } from "../helpers.js";

test("loadRecipe → planRecipe → runPlanLocally builds a two-step recipe without the CLI", async () => {
  const dir = tmpDir("megamath-recipe-lib-");
  const recipeFile = join(dir, "r.json");
  writeFileSync(recipeFile, JSON.stringify({
    name: "lib", inputs: [join(repoRoot, "fixtures/demo/megamath-web-00000.parquet")],
    steps: [
      { name: "math", command: "filter", input: "@input", options: { min: ["label=1"] } },
      // Empty on purpose (every row left has label 1): the step says so, or it would stop the build.
      { name: "not-a", command: "filter", input: "@math", options: { max: ["label=1"], "allow-empty": true } },
    ],
    final: "not-a",
  }));
  const recipe = await loadRecipe(recipeFile);
  const { plan } = await planRecipe(recipe, { recipeDir: dir, outDir: join(dir, "out"), common: { quiet: true } });
  assert.deepEqual(plan[1].options.input, [join(dir, "out", "math", "*.parquet")]);
  const log = memoryLogger();
  const first = await runPlanLocally(plan, { log });
  assert.deepEqual(first.map((r) => r.status), ["ran", "ran"]);
  const stats = JSON.parse(readFileSync(join(dir, "out", "math", "stats.json"), "utf8"));
  const st = stats.stages.find((s: { name: string }) => s.name === "filter");
  assert.ok(st.docsIn > st.docsOut && st.docsOut > 0, JSON.stringify(st));
  assert.ok(existsSync(join(dir, "out", "not-a", ".step.json")));
  const again = await runPlanLocally(plan, { log });
  assert.deepEqual(again.map((r) => r.status), ["done-before", "done-before"]);
  // Options the commands declare identity: false (threads) do not redo a step; other settings of a step do.
  const threads = await planRecipe(recipe, { recipeDir: dir, outDir: join(dir, "out"), common: { quiet: true, workers: 0 } });
  assert.deepEqual(threads.plan[0].runOptions, { workers: 0, quiet: true });
  assert.deepEqual((await runPlanLocally(threads.plan, { log })).map((r) => r.status), ["done-before", "done-before"]);
  recipe.steps[1].options = { max: ["label=0"], "allow-empty": true };
  const changed = await planRecipe(recipe, { recipeDir: dir, outDir: join(dir, "out"), common: { quiet: true } });
  assert.deepEqual((await runPlanLocally(changed.plan, { log })).map((r) => r.status), ["done-before", "ran"]);
});
