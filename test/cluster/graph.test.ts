// The cluster task graph of the shipped demo recipe: each step waits only for the nearest steps it reads from, so
// the four mixtures run side by side after tokenize and the report waits for them; what a step reads outside the
// build is listed for the resubmission keys; per-step Slurm options reach only the steps they name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { loadRecipe, planRecipe } from "../../recipe/load.js";
import { clusterTasks } from "../../recipe/cluster-tasks.js";
import { emitSlurm, optsFor } from "../../recipe/emit-slurm.js";
import { demoRecipePath } from "./recipes.js";

async function demoTasks(out: string) {
  const path = demoRecipePath();
  const recipe = await loadRecipe(path);
  const { plan, specs } = await planRecipe(recipe, { recipeDir: dirname(path), outDir: out, seed: recipe.seed });
  return clusterTasks(plan, { shards: 4, reportDir: out, specOf: (c) => specs.get(c) ?? {} });
}

test("demo recipe: the step graph, the mixtures in parallel, externals", async () => {
  const tasks = await demoTasks("/build");
  const deps = Object.fromEntries(tasks.map((t) => [t.step, t.deps]));
  assert.deepEqual(deps.sample, []);
  assert.deepEqual(deps["train-classifier"], ["sample"]);
  assert.deepEqual(deps.score, ["train-classifier"]);
  assert.deepEqual(deps["dedup-buckets"], ["dedup-signatures"]);
  assert.deepEqual(deps["dedup-filter"], ["dedup-clusters"]);
  for (const m of ["mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid"]) assert.deepEqual(deps[m], ["tokenize"], m);
  assert.deepEqual(deps.report, ["mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid"]);
  const byStep = Object.fromEntries(tasks.map((t) => [t.step, t]));
  assert.ok(byStep.score.externals.some((p) => p.endsWith("fixtures/demo/megamath-web-*.parquet")), byStep.score.externals.join(" "));
  assert.ok(byStep["mix-stable"].externals.some((p) => p.endsWith("fixtures/demo/sources/dclm-baseline.parquet")));
  assert.deepEqual(byStep.filter.externals, []);
  assert.equal(byStep.score.tasks, 4);
  assert.equal(byStep["dedup-clusters"].tasks, 1);
  assert.ok(byStep.score.threaded && !byStep["mix-stable"].threaded && !byStep["dedup-clusters"].threaded);
});

test("slurm options: for every step, for one step, for a prefix; a STEP naming no step is refused", async () => {
  assert.deepEqual(optsFor("dedup-clusters", ["--qos=high", "dedup-clusters:--mem=64G", "dedup:--time=1:00:00", "score:--mem=4G"]),
    ["--qos=high", "--mem=64G", "--time=1:00:00"]);
  assert.deepEqual(optsFor("score", ["dedup:--mem=1G", "score:--mem=4G"]), ["--mem=4G"]);
  const dir = mkdtempSync(join(tmpdir(), "megamath-graph-"));
  try {
    const tasks = await demoTasks("/build");
    await assert.rejects(emitSlurm(tasks, dir, { megamath: "megamath", shards: 4, resources: { opts: ["dedupe-clusters:--mem=1G"] } }), /no step is named dedupe-clusters/);
    await assert.rejects(emitSlurm(tasks, dir, { megamath: "megamath", shards: 4, resources: { opts: ["mem=1G"] } }), /give an sbatch option/);
    await emitSlurm(tasks, dir, { megamath: "megamath", shards: 4, resources: { partition: "cpu", account: "proj", time: "1:00:00", mem: "8G", cpus: 8 } });
    const score = readFileSync(join(dir, "03-score.sbatch"), "utf8");
    for (const l of ["--partition=cpu", "--account=proj", "--time=1:00:00", "--mem=8G", "--cpus-per-task=8", "--output=logs/score-%a.out"]) assert.ok(score.includes(`#SBATCH ${l}\n`), l);
    assert.match(score, /--workers "\$\{SLURM_CPUS_PER_TASK:-1\}" --shard "\$shard\/4"/);
    const mix = readFileSync(join(dir, "11-mix-stable.sbatch"), "utf8");
    assert.ok(mix.includes("#SBATCH --cpus-per-task=1\n") && mix.includes("#SBATCH --output=logs/mix-stable.out\n"));
    assert.doesNotMatch(mix, /--workers "/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
