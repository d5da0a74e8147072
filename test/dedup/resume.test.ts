// Stage-by-stage (sharded) and all-in-one give identical results; a run resumed after a kill, or after finding
// truncated/corrupt/partial intermediate files, gives byte-identical output; the same input gives the same bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync, rmSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot, tmpDir } from "../helpers.js";
import { buildPlantedCorpus } from "./planted-corpus.js";
import { main } from "../../cli/main.js";
import { writeDocuments, readDocuments } from "../../lib/io/index.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { dedupPaths, readRecordFile } from "../../lib/dedup/index.js";

/** The planted corpus as 4 Parquet files (math_score included). */
async function parquetCorpus(dir: string): Promise<string[]> {
  const jsonDir = join(dir, "jsonl");
  mkdirSync(jsonDir, { recursive: true });
  const c = buildPlantedCorpus(jsonDir, 11);
  const files: string[] = [];
  for (let f = 0; f < c.files.length; f++) {
    const docs = c.docs[f];
    const batch = makeBatch({ id: docs.map((d) => d.id), text: docs.map((d) => d.text), math_score: docs.map((d) => d.score) });
    files.push(...(await writeDocuments(join(dir, "in", `part-${f}`), [batch], { format: "parquet" })));
  }
  return files;
}

/** sha256 of every file under `dir` except run stats and markers (they hold timings). */
function digestTree(dir: string, skip: RegExp = /(^|\/)(stats[^/]*\.json|\.done\/.*)$/): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(dir, p);
        if (!skip.test(rel)) out[rel] = createHash("sha256").update(readFileSync(p)).digest("hex");
      }
    }
  };
  walk(dir);
  return out;
}

async function cli(...args: string[]): Promise<void> {
  const code = await main([...args, "--quiet"]);
  assert.equal(code, 0, `megamath ${args.join(" ")} exited ${code}`);
}

const dir = tmpDir("dedup-resume-");
let inputs: string[] = [];
const glob = () => join(dir, "in", "*.parquet");
const outputOf = (out: string) => digestTree(out, /(^|\/)(stats[^/]*\.json|\.done\/.*|dedup-work\/.*)$/);

test("all-in-one on Parquet equals the four stage commands run as shards", async () => {
  inputs = await parquetCorpus(dir);
  assert.equal(inputs.length, 4);
  await cli("dedup", "-i", glob(), "-o", join(dir, "all"), "--cluster-column", "dup_cluster");
  const work = join(dir, "staged-work");
  for (const s of ["0/3", "1/3", "2/3"]) await cli("dedup-signatures", "-i", glob(), "--work-dir", work, "--shard", s);
  for (const s of ["0/4", "1/4", "2/4", "3/4"]) await cli("dedup-buckets", "--work-dir", work, "--shard", s);
  await cli("dedup-clusters", "--work-dir", work);
  for (const s of ["0/2", "1/2"]) {
    await cli("dedup-filter", "-i", glob(), "-o", join(dir, "staged"), "--work-dir", work, "--shard", s, "--cluster-column", "dup_cluster");
  }
  const a = outputOf(join(dir, "all"));
  assert.ok(Object.keys(a).length === 4, "one Parquet output per input");
  assert.deepEqual(outputOf(join(dir, "staged")), a);
  assert.deepEqual(digestTree(work), digestTree(join(dir, "all", "dedup-work")), "intermediate files identical too");
  const stats = JSON.parse(readFileSync(join(dir, "all", "stats.json"), "utf8"));
  const st = stats.stages.find((s: { name: string }) => s.name === "dedup");
  assert.ok(st.removed.duplicate > 500);
  assert.equal(st.docsIn, st.docsOut + st.removed.duplicate);
  // The cluster column is there, null for unclustered documents.
  let clustered = 0;
  for await (const b of readDocuments(join(dir, "all", "part-0.parquet"))) {
    const col = b.getChild("dup_cluster")!;
    for (let i = 0; i < b.numRows; i++) if (col.get(i) != null) clustered++;
  }
  assert.ok(clustered > 0);
});

test("same input, fresh folder: byte-identical output (determinism)", async () => {
  await cli("dedup", "-i", glob(), "-o", join(dir, "again"), "--cluster-column", "dup_cluster");
  assert.deepEqual(digestTree(join(dir, "again")), digestTree(join(dir, "all")));
});

test("corrupt, truncated and partial pieces are detected, redone, and the output is unchanged", async () => {
  const out = join(dir, "all");
  const work = join(out, "dedup-work");
  const before = digestTree(out);
  // Stage 1: flip a byte in one signature run, truncate another, drop a marker, leave a temp file behind.
  const sig0 = dedupPaths.sigPart(work, 3, 1, 0);
  const b = readFileSync(sig0);
  b[b.length - 100] ^= 0xff;
  writeFileSync(sig0, b);
  truncateSync(dedupPaths.sigPart(work, 5, 2, 0), 1000);
  rmSync(dedupPaths.sigDone(work, 0));
  writeFileSync(join(work, "signatures", "band-000", ".tmp-f000000-p000.sig.1.deadbeef"), "partial");
  // Stage 2: a truncated pairs file. Stage 3: lost marker. Stage 4: lost output of one file.
  truncateSync(dedupPaths.pairs(work, 7), 64);
  rmSync(dedupPaths.clustersDone(work));
  rmSync(join(out, "part-3.parquet"));
  const warnings: string[] = [];
  const origWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (warnings.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(["dedup", "-i", glob(), "-o", out, "--cluster-column", "dup_cluster"]), 0);
  } finally {
    process.stderr.write = origWrite;
  }
  const log = warnings.join("");
  // Stages 1-3 run on the shared task loop: a marker's stamps no longer match a rewritten or truncated file.
  assert.match(log, /f000001: output band-003\/f000001-p000\.sig was changed after it was made; redoing it/);
  assert.match(log, /f000002: output band-005\/f000002-p000\.sig was changed after it was made; redoing it/);
  // Stage 2 runs on the shared task loop: its marker's stamp no longer matches the truncated file.
  assert.match(log, /band-007: output band-007\.pairs was changed after it was made; redoing it/);
  assert.ok(!readdirSync(join(work, "signatures", "band-000")).some((n) => n.startsWith(".tmp-")), "temp leftovers removed");
  assert.deepEqual(digestTree(out), before);
});

test("stage 2 refuses a corrupt signature file with a message naming it", async () => {
  const work = join(dir, "staged-work");
  const sig = dedupPaths.sigPart(work, 0, 0, 0);
  const b = readFileSync(sig);
  b[b.length - 50] ^= 0x01;
  writeFileSync(sig, b);
  await assert.rejects(
    (async () => {
      const { runBucketStage } = await import("../../lib/dedup/index.js");
      await runBucketStage({ workDir: work, shard: { index: 0, count: 4 }, force: true });
    })(),
    /band-000\/f000000-p000\.sig: checksum mismatch/,
  );
});

test("killed mid-run (SIGKILL), then rerun: identical output", async () => {
  const out = join(dir, "killed");
  const args = ["--import", "tsx", join(repoRoot, "cli", "main.ts"), "dedup", "-i", glob(), "-o", out,
    "--cluster-column", "dup_cluster", "--max-docs-per-part", "100", "--quiet"];
  // Kill as soon as stage 1 has finished its first file: stages 1-4 then all have work left to resume.
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: "ignore" });
  const killed = await new Promise<boolean>((resolveKill) => {
    const timer = setInterval(() => {
      if (existsSync(dedupPaths.sigDone(join(out, "dedup-work"), 0))) {
        clearInterval(timer);
        resolveKill(child.kill("SIGKILL"));
      }
    }, 2);
    child.on("exit", () => {
      clearInterval(timer);
      resolveKill(false);
    });
  });
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on("exit", r)));
  assert.ok(killed || child.exitCode === 0, "the run was killed (or, on a very fast machine, finished)");
  await cli("dedup", "-i", glob(), "-o", out, "--cluster-column", "dup_cluster", "--max-docs-per-part", "100");
  assert.deepEqual(outputOf(out), outputOf(join(dir, "all")));
  // Same clusters as the run with one sorted run per file: part size changes files (and their input digests in
  // the headers), never results.
  for (let f = 0; f < 4; f++) {
    const a = await readRecordFile(dedupPaths.dups(join(out, "dedup-work"), f), "dups");
    const b = await readRecordFile(dedupPaths.dups(join(dir, "all", "dedup-work"), f), "dups");
    assert.deepEqual(a.data, b.data);
  }
  const sidecar = (d: string) => readFileSync(dedupPaths.clustersSidecar(join(d, "dedup-work")), "utf8");
  assert.equal(sidecar(out), sidecar(join(dir, "all")));
});
