// Intermediate files made with other dedup params, or from an older stage-1 output, are never used silently:
// stage 1 redoes a file whose completion marker was written under other params (a shard run without --force
// after another shard replaced dedup.json with --force), and stage 4 refuses clusters made from other signatures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpDir } from "../helpers.js";
import {
  checkFilterReady, defaultDedupParams, documentReader, runBucketStage, runClusterStage, runSignatureStage,
  type DedupParams,
} from "../../lib/dedup/index.js";

const base = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat near the old barn";

/** Two small JSONL files, each with a near-duplicate of the other's first document. */
function corpus(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, "a.jsonl"), join(dir, "b.jsonl")];
  const rows = [
    [{ id: "a0", text: base, math_score: 0.2 }, { id: "a1", text: "a different document with more than enough words in it" }],
    [{ id: "b0", text: base + " again", math_score: 0.9 }, { id: "b1", text: "yet another unrelated text that has its own words" }],
  ];
  rows.forEach((r, i) => writeFileSync(files[i], r.map((x) => JSON.stringify(x)).join("\n") + "\n"));
  return files;
}

const read = documentReader({}, "fail");
const sign = (inputs: string[], workDir: string, params: DedupParams, shard?: { index: number; count: number }, force = false) =>
  runSignatureStage({ inputs, workDir, params, read, shard, force });

test("stage 1 redoes a file whose signatures were made with other params, even without --force", async () => {
  const dir = tmpDir("dedup-stale-");
  const inputs = corpus(join(dir, "in"));
  const work = join(dir, "work");
  const p5: DedupParams = { ...defaultDedupParams, ngram: 5 };
  const p4: DedupParams = { ...defaultDedupParams, ngram: 4 };
  await sign(inputs, work, p5, { index: 0, count: 2 });
  await sign(inputs, work, p5, { index: 1, count: 2 });
  // New params: shard 0 with --force replaces dedup.json; shard 1 is then run without --force.
  await sign(inputs, work, p4, { index: 0, count: 2 }, true);
  const r = await sign(inputs, work, p4, { index: 1, count: 2 });
  assert.deepEqual(r.skipped, [], "file 1 was signed with ngram=5 and must not be reused under ngram=4");
  assert.deepEqual(r.done, [1]);
  // And with the same params a rerun does skip it.
  const again = await sign(inputs, work, p4, { index: 1, count: 2 });
  assert.deepEqual(again.skipped, [1]);
});

test("stage 4 refuses clusters made from other signatures", async () => {
  const dir = tmpDir("dedup-stale-");
  const inputs = corpus(join(dir, "in"));
  const work = join(dir, "work");
  await sign(inputs, work, { ...defaultDedupParams, ngram: 5 });
  await runBucketStage({ workDir: work });
  await runClusterStage({ workDir: work, sidecar: false });
  await checkFilterReady({ workDir: work, inputs }); // current: fine
  // Stage 1 redone with other params; stages 2 and 3 not rerun.
  await sign(inputs, work, { ...defaultDedupParams, ngram: 4 }, undefined, true);
  await assert.rejects(checkFilterReady({ workDir: work, inputs }), /dedup-buckets|dedup-clusters/);
  await runBucketStage({ workDir: work });
  await assert.rejects(checkFilterReady({ workDir: work, inputs }), /dedup-clusters/);
  await runClusterStage({ workDir: work, sidecar: false });
  await checkFilterReady({ workDir: work, inputs });
});
