// The local recipe runner's resume rules, on real subcommands and the demo data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { runPlanLocally } from "../../recipe/run.js";
import type { Invocation } from "../../recipe/plan.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { bpeTablesBuilt } from "../../lib/tokenizer/bpe.js";
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

test("with a free job slot a mixture tokenizes its own sources beside the steps it waits for; the mixture is the same", async () => {
  const dir = tmpDir("megamath-runner-early-");
  const input = join(dir, "in.parquet");
  copyFileSync(join(repoRoot, "fixtures/demo/megamath-web-00000.parquet"), input);
  const spec = join(dir, "spec.json");
  writeFileSync(spec, JSON.stringify({ name: "t", total_tokens: 20000, max_repetition: 4, seed: 1,
    sources: [{ name: "web", weight: 0.5 }, { name: "qa", weight: 0.5 }] }));
  const plan = (out: string, from: string, jobsDir = out): Invocation[] => [
    { step: "a", command: "filter", shard: "none", outDir: join(out, "a"), runOptions: { quiet: true }, positionals: [],
      options: { input: [from], output: join(out, "a"), max: ["label=2"] } },
    { step: "m", command: "mix", shard: "none", outDir: join(out, "m"), runOptions: { quiet: true }, positionals: [],
      options: { spec, output: join(out, "m"), workers: 0, "source-cache": join(jobsDir, "cache"),
        source: [`web=${join(out, "a")}/*.parquet`, `qa=${join(repoRoot, "fixtures/demo/sources/megamath-qa.parquet")}`] } },
  ];
  // Step a fails, so the mixture never runs: its own source (qa) is tokenized all the same, the one it would read
  // from step a's folder is not.
  // It runs on a worker thread (a core of its own, not turns with the steps on this one): this thread encodes
  // nothing, and its log lines arrive here.
  const early = join(dir, "early");
  const tables = bpeTablesBuilt();
  const earlyLog = memoryLogger();
  await assert.rejects(runPlanLocally(plan(early, join(dir, "absent.parquet")), { ...ctx(), log: earlyLog }, { jobs: 2 }));
  assert.deepEqual(readdirSync(join(early, "cache")).map((d) => d.replace(/-[0-9a-f]{12}$/, "")), ["qa"]);
  assert.equal(bpeTablesBuilt(), tables, "the early tokenization ran on the main thread");
  assert.ok(earlyLog.lines.some((l) => /^\[early\] m: /.test(l.msg)), "the worker's log lines did not arrive");
  // One job at a time: nothing runs early.
  const serial = join(dir, "serial");
  await assert.rejects(runPlanLocally(plan(serial, join(dir, "absent.parquet")), ctx(), { jobs: 1 }));
  assert.ok(!existsSync(join(serial, "cache")));
  // The mixture then reuses the early tokens, and equals one made without running anything early.
  const log = memoryLogger();
  await runPlanLocally(plan(early, input), { ...ctx(), log }, { jobs: 2 });
  assert.ok(log.lines.some((l) => /^tokenize: .* already done/.test(l.msg)), "the early tokens were not reused");
  await runPlanLocally(plan(serial, input), ctx(), { jobs: 1 });
  for (const f of ["qa/qa.bin", "qa/qa.idx", "web/web.bin", "web/web.idx"]) {
    assert.ok(readFileSync(join(early, "m", f)).equals(readFileSync(join(serial, "m", f))), f);
  }
});
