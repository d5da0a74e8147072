// Speed work on dedup must not change a single output byte. The digest below was computed from the demo corpus
// with the code before stage 1 read UTF-8 bytes directly (commit b1cf0a0, string path only); the same run must
// still produce it. It covers every intermediate file that holds hashes (signatures per band, priorities, pairs,
// duplicates, the cluster list) and stage 4's output; files that record paths or timings are left out. Stage 4
// writes JSONL here, not Parquet: zstd-compressed Parquet bytes depend on the zstd build (Node 22's zlib and
// Node 20's WASM codec compress differently); and the cluster list's absolute input paths are hashed with the
// checkout folder replaced by "<repo>". So the digest holds on any Node and in any checkout folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { repoRoot, tmpDir } from "../helpers.js";
import { main } from "../../cli/main.js";
import { treeDigest } from "./tree-digest.js";

const DEMO_DEDUP_DIGEST = "037410abb1e7d047206ba418d1e74e0f77eb8621da2952e54e7720d9e24311b9";

test("dedup of the demo corpus gives the recorded bytes (signatures, pairs, clusters, filtered output)", async () => {
  const out = join(tmpDir("dedup-identical-"), "out");
  const code = await main(["dedup", "-i", join(repoRoot, "fixtures", "demo", "megamath-web-*.parquet"), "-o", out,
    "--cluster-column", "dup_cluster", "--format", "jsonl", "--quiet"]);
  assert.equal(code, 0);
  const { digest, files } = treeDigest(out, /(\.sig|\.prio|\.pairs|\.dups|clusters\.jsonl|^megamath-web-\d+\.jsonl)$/);
  // 2 inputs x 11 bands of signatures, 2 priority files, 11 pair files, 2 dups, the cluster list, 2 outputs.
  assert.equal(files, 22 + 2 + 11 + 2 + 1 + 2);
  assert.equal(digest, DEMO_DEDUP_DIGEST);
});

test("stage 1 writes the same bytes on the main thread and with 3 worker threads (MinHash and --exact)", async () => {
  const dir = tmpDir("dedup-workers-");
  const input = join(repoRoot, "fixtures", "demo", "megamath-web-*.parquet");
  for (const mode of [[], ["--exact"]]) {
    const digests = new Set<string>();
    for (const w of ["0", "3"]) {
      const work = join(dir, `w${mode.length}-${w}`);
      // Small parts, so that runs are cut in the middle of batches too.
      assert.equal(await main(["dedup-signatures", "-i", input, "--work-dir", work, "--workers", w, "--max-docs-per-part", "700", ...mode, "--quiet"]), 0);
      digests.add(treeDigest(work, /(\.sig|\.prio|\.ids)$/).digest);
    }
    assert.equal(digests.size, 1, `${mode.join(" ") || "minhash"}: one digest for every worker count`);
  }
});
