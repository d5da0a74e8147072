// Stage 3's bucket mode under a memory limit (lib/dedup/bucket-spill.ts): split into parts of whole connected
// components and spilled to disk, it writes byte-for-byte the files the in-memory path writes, on the planted
// corpus (real text from ../shared/data, pairs at known Jaccard levels) and on the planted chain corpus, and leaves
// no spill files behind. (With reference documents pinned, --against: test/dedup/against.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpDir } from "../helpers.js";
import { main } from "../../cli/main.js";
import { buildChainCorpus, buildPlantedCorpus } from "./planted-corpus.js";
import { defaultDedupParams, documentReader, runBucketStage, runClusterStage, runSignatureStage } from "../../lib/dedup/index.js";
import type { Logger } from "../../lib/runtime/log.js";

/** Every file stage 3 wrote (clusters/, markers aside), name -> bytes. */
function stage3Files(work: string): Map<string, Buffer> {
  const dir = join(work, "clusters");
  return new Map(readdirSync(dir).filter((f) => !f.startsWith(".")).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => { lines.push(m); };
  return { log: { debug: push, info: push, warn: push, error: push }, lines };
}

async function compare(files: string[], work: string, limits: number[]): Promise<{ parts: string[] }> {
  await runSignatureStage({ inputs: files, workDir: work, params: defaultDedupParams, read: documentReader({}, "fail"), force: true });
  await runBucketStage({ workDir: work, force: true });
  const inMemory = capture();
  await runClusterStage({ workDir: work, force: true, clustering: "bucket", log: inMemory.log });
  assert.ok(!inMemory.lines.some((l) => /spilled/.test(l)), "the default limit holds these buckets in memory");
  const want = stage3Files(work);
  assert.ok(want.size > 4);
  const parts: string[] = [];
  for (const limit of limits) {
    const c = capture();
    await runClusterStage({ workDir: work, force: true, clustering: "bucket", log: c.log, memoryBytes: limit });
    const line = c.lines.find((l) => /spilled to/.test(l));
    assert.ok(line, `limit ${limit}: spilled (${c.lines.join(" | ")})`);
    parts.push(line.match(/(\d+) parts/)![1]);
    const got = stage3Files(work);
    assert.deepEqual([...got.keys()], [...want.keys()], "no spill folder or other file left behind");
    for (const [name, bytes] of want) assert.ok(got.get(name)!.equals(bytes), `limit ${limit}: ${name} identical`);
  }
  return { parts };
}

test("bucket mode spilled to disk under a tiny limit writes the same files as in memory (planted corpus)", async (t) => {
  const dir = tmpDir("dedup-spill-planted-");
  const c = buildPlantedCorpus(dir, 7, 4, 150);
  // 2 KB: about one component per part; 64 KB: many components per part.
  const { parts } = await compare(c.files, join(dir, "work"), [2048, 65536]);
  t.diagnostic(`parts: ${parts.join(", ")}`);
  assert.ok(Number(parts[0]) > 16, "more parts than one pass over the pairs writes (several split passes)");
  assert.ok(Number(parts[1]) > 1 && Number(parts[1]) < Number(parts[0]));
});

test("bucket mode spilled to disk writes the same files as in memory (planted chains)", async () => {
  const dir = tmpDir("dedup-spill-chain-");
  const c = buildChainCorpus(dir, 11, 12, { background: 60 });
  const work = join(dir, "work");
  await compare(c.files, work, [4096]);
  // A chain (one connected component) larger than the limit is held whole, and says so.
  const cap = capture();
  await runClusterStage({ workDir: work, force: true, clustering: "bucket", log: cap.log, memoryBytes: 64 });
  assert.ok(cap.lines.some((l) => /exceed the .* limit/.test(l)), cap.lines.join(" | "));
  assert.equal(existsSync(join(work, "clusters", "spill")), false);
  // Bad input: a limit that is not positive is a usage error (exit 2), before anything runs.
  assert.equal(await main(["dedup-clusters", "--work-dir", work, "--clustering", "bucket", "--cluster-memory-mb", "0", "--quiet"]), 2);
});
