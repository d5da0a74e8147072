// The local recipe runner's resume rules, on real subcommands and the demo data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, renameSync } from "node:fs";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { runPlanLocally } from "../../recipe/run.js";
import type { Invocation } from "../../recipe/plan.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { repoRoot, tmpDir } from "../helpers.js";

const ctx = () => ({ log: memoryLogger(), quiet: true, logJson: false, tty: false, stdout: new PassThrough() });

test("a step that failed after its upstream changed is not 'done before' on the next run (its old marker is gone)", async () => {
  const dir = tmpDir("megamath-runner-");
  const input = join(dir, "in.parquet");
  const extra = join(dir, "extra.parquet");
  copyFileSync(join(repoRoot, "fixtures/demo/megamath-web-00000.parquet"), input);
  copyFileSync(join(repoRoot, "fixtures/demo/megamath-web-00001.parquet"), extra);
  const plan = (threshold: string): Invocation[] => [
    { step: "a", command: "filter", shard: "none", outDir: join(dir, "a"), runOptions: { quiet: true }, positionals: [],
      options: { input: [input], output: join(dir, "a"), min: [`label=${threshold}`] } },
    { step: "b", command: "filter", shard: "none", outDir: join(dir, "b"), runOptions: { quiet: true }, positionals: [],
      options: { input: [join(dir, "a", "*.parquet"), extra], output: join(dir, "b"), max: ["label=2"] } },
  ];
  const first = await runPlanLocally(plan("0.5"), ctx());
  assert.deepEqual(first.map((r) => r.status), ["ran", "ran"]);
  // Step a changes, so b must recompute; b fails (one of its inputs is missing).
  renameSync(extra, extra + ".away");
  await assert.rejects(runPlanLocally(plan("0"), ctx()));
  renameSync(extra + ".away", extra);
  // b's output still comes from the old a: the next run must recompute it, not trust its old marker.
  const third = await runPlanLocally(plan("0"), ctx());
  assert.deepEqual(third.map((r) => r.status), ["done-before", "ran"]);
});
