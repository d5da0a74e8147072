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
import { planPasses } from "../../recipe/fuse.js";
import { finalFolder } from "../../recipe/plan.js";
import { emitSlurm, optsFor } from "../../recipe/emit-slurm.js";
import { demoRecipePath } from "./recipes.js";

async function demoTasks(out: string, o: { fused?: boolean; noFuse?: boolean } = {}) {
  const path = demoRecipePath();
  const recipe = await loadRecipe(path);
  if (o.noFuse) recipe.fuse = false;
  const { plan, specs } = await planRecipe(recipe, { recipeDir: dirname(path), outDir: out, seed: recipe.seed });
  const passes = o.fused ? await planPasses(plan, finalFolder(recipe, plan)) : undefined;
  return clusterTasks(plan, { shards: 4, reportDir: out, specOf: (c) => specs.get(c) ?? {}, passes });
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

test("demo recipe, fused passes: score+filter and decontaminate+tokenize are one `megamath pass` task each; waits follow the passes", async () => {
  const tasks = await demoTasks("/build", { fused: true });
  const byStep = Object.fromEntries(tasks.map((t) => [t.step, t]));
  assert.deepEqual(tasks.map((t) => t.step), ["sample", "train-classifier", "score+filter", "dedup-signatures", "dedup-buckets", "dedup-clusters",
    "dedup-filter", "decontaminate+tokenize", "mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid", "report"]);
  const pass = byStep["decontaminate+tokenize"];
  assert.equal(pass.command, "pass");
  assert.deepEqual(pass.members, ["decontaminate", "tokenize"]);
  assert.equal(pass.tasks, 4);
  // decontaminate's documents are the final corpus (refine is skipped without an LLM): kept; score's are not.
  assert.deepEqual(pass.argv, ["--keep", "0"]);
  assert.deepEqual(byStep["score+filter"].argv, []);
  assert.deepEqual(pass.tail!.filter((w) => w === "--").length, 2);
  assert.deepEqual([pass.tail![1], pass.tail![pass.tail!.indexOf("--", 1) + 1]], ["decontaminate", "tokenize"]);
  assert.deepEqual(byStep["score+filter"].deps, ["train-classifier"]);
  assert.deepEqual(byStep["dedup-signatures"].deps, ["score+filter"]);
  assert.deepEqual(pass.deps, ["dedup-filter"]);
  for (const m of ["mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid"]) assert.deepEqual(byStep[m].deps, ["decontaminate+tokenize"], m);
  assert.ok(byStep["score+filter"].externals.some((p) => p.endsWith("fixtures/demo/megamath-web-*.parquet")));
  assert.ok(byStep["score+filter"].threaded);
  // A per-step Slurm option reaches the pass of that step.
  const dir = mkdtempSync(join(tmpdir(), "megamath-graph-"));
  try {
    await emitSlurm(tasks, dir, { megamath: "megamath", shards: 4, resources: { opts: ["tokenize:--mem=9G"] } });
    const batch = readFileSync(join(dir, "08-decontaminate+tokenize.sbatch"), "utf8");
    assert.ok(batch.includes("#SBATCH --mem=9G\n") && batch.includes("#SBATCH --output=logs/decontaminate+tokenize-%a.out\n"), batch);
    assert.match(batch, /megamath pass --keep 0 --workers "\$\{SLURM_CPUS_PER_TASK:-1\}" --shard "\$shard\/4" -- decontaminate .* -- tokenize /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The recipe's "fuse": false keeps every step its own task.
  const apart = (await demoTasks("/build", { fused: true, noFuse: true })).map((t) => t.step);
  assert.ok(apart.includes("decontaminate") && apart.includes("tokenize") && apart.includes("score") && !apart.some((s) => s.includes("+")), apart.join(" "));
});
