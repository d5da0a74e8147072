// Stage 4 with --workers N: the .jsonl.gz output is compressed in N worker threads (0: on the main thread) and is
// byte-identical whatever N, and to what the code wrote before the pool and the byte serialiser existed: the
// digests below were computed at commit 036f9a0 (`megamath dedup ... --format jsonl.gz` on the demo corpus).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { repoRoot, tmpDir } from "../helpers.js";
import { main } from "../../cli/main.js";
import { treeDigest } from "./tree-digest.js";
import { gzipPoolsStarted, GzipPool } from "../../lib/io/gzip-pool.js";
import { openWriter } from "../../lib/io/index.js";
import { readDocuments } from "../../lib/io/index.js";
import type { RecordBatch } from "apache-arrow";

const input = join(repoRoot, "fixtures", "demo", "megamath-web-*.parquet");
const GOLDEN = {
  default: "d6bf112a576c83a213a2d8e500ee406f1e2806d93b0971a63ae555de8d041831",
  // --compression-level 1 --max-file-mb 0.2 --cluster-column dup_cluster (53 parts)
  level1Parts: "51ec2566ec79267f6c0c1bf0838ad5b45eabe04567543db52e30c81c66e6c8df",
};

test("dedup and dedup-filter: .jsonl.gz byte-identical for --workers 0, 1 and 3; N > 0 starts N compression threads", async () => {
  const dir = tmpDir("dedup-filter-workers-");
  const work = join(dir, "work");
  const started = () => ({ ...gzipPoolsStarted });
  let before = started();
  assert.equal(await main(["dedup", "-i", input, "-o", join(dir, "all-w2"), "--work-dir", work, "--format", "jsonl.gz", "--workers", "2", "--quiet"]), 0);
  assert.equal(treeDigest(join(dir, "all-w2"), /\.jsonl\.gz$/).digest, GOLDEN.default);
  // `megamath dedup --workers 2` passed 2 to stage 4 (stage 1's threads are its own pool's).
  assert.deepEqual(started(), { pools: before.pools + 1, threads: before.threads + 2 });
  for (const w of ["0", "1", "3"]) {
    const out = join(dir, `filter-w${w}`);
    before = started();
    assert.equal(await main(["dedup-filter", "-i", input, "-o", out, "--work-dir", work, "--format", "jsonl.gz", "--workers", w,
      "--compression-level", "1", "--max-file-mb", "0.2", "--cluster-column", "dup_cluster", "--quiet"]), 0);
    const { digest, files } = treeDigest(out, /\.jsonl\.gz$/);
    assert.equal(files, 53);
    assert.equal(digest, GOLDEN.level1Parts, `--workers ${w}`);
    assert.deepEqual(started(), w === "0" ? before : { pools: before.pools + 1, threads: before.threads + Number(w) });
  }
});

test("the JSONL writer: many small gzip members through a pool give the main thread's bytes, in order", async () => {
  const dir = tmpDir("gzip-pool-");
  const batches: RecordBatch[] = [];
  for await (const b of readDocuments(join(repoRoot, "fixtures", "demo", "megamath-web-00000.parquet"))) batches.push(b);
  const write = async (name: string, opts: Parameters<typeof openWriter>[1]) => {
    const w = openWriter(join(dir, name), { format: "jsonl.gz", memberBytes: 64 * 1024, maxFileBytes: 1.5e6, ...opts });
    for (const b of batches) await w.write(b);
    return (await w.close()).map((p) => readFileSync(p));
  };
  const main = await write("main", {});
  const pool = new GzipPool(3);
  try {
    const pooled = await write("pool", { gzipPool: pool });
    assert.ok(main.length >= 2, `${main.length} parts`);
    assert.deepEqual(pooled, main);
    // 64 KiB members: every one went through the pool, on more than one thread.
    const text = Buffer.concat(main.map((b) => gunzipSync(b)));
    assert.ok(text.length > 2e6 && pool.done.members >= 20, `${text.length} bytes, ${pool.done.members} members`);
    assert.ok(pool.done.threads.size >= 1 && pool.done.threads.size <= 3);
  } finally {
    await pool.destroy();
  }
});
