// The folder manifest of `megamath tokenize` with parallel --shard tasks: every task's shard ends up in manifest.json
// whatever the order in which the tasks list the folder and rename; a stale manifest.json is reported by
// `megamath inspect DIR` and rebuilt by `megamath tokenize --rebuild-manifest`; shards made with other settings are
// refused rather than summed. Real documents from ../shared/data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { sharedData, tmpDir, repoRoot } from "../helpers.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import { writeFolderManifest, mergeFolderPieces, readFolderManifest, FolderManifestError, type FolderManifest } from "../../lib/formats/token-folder.js";
import { describeTokenFolder } from "../../lib/tokens/inspect-folder.js";

const INPUTS = [
  sharedData("web-nonmath", "dolma_cc_en_head-0091.jsonl.gz"),
  sharedData("web-nonmath", "dolma_cc_en_head-0174.jsonl.gz"),
  sharedData("web-nonmath", "dolma_provided_documents_000.jsonl.gz"),
];
const ALL = ["dolma_cc_en_head-0091", "dolma_cc_en_head-0174", "dolma_provided_documents_000"];

function folderManifest(dir: string): FolderManifest {
  return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as FolderManifest;
}

function shard(dir: string, index: number, extra: Partial<Parameters<typeof tokenizeFiles>[0]> = {}) {
  return tokenizeFiles({ inputs: INPUTS, outDir: dir, workers: 0, shard: { index, count: 2 }, ...extra });
}

/** Run the CLI as a user would (a child process: stdout here belongs to the test runner). */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), ...args], { cwd: repoRoot, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test("a task that listed the folder before another task's shard landed does not leave that shard out", async () => {
  const dir = tmpDir();
  await shard(dir, 0);
  // Task A (shard 0's summary) has merged the pieces; before its rename, task B finishes shard 1 completely
  // (piece + its own manifest.json). A's rename then lands last with a listing that lacks shard 1: the
  // interleaving that made manifest.json last-writer-wins.
  let ran = false;
  await writeFolderManifest(dir, {
    beforeWrite: async () => {
      if (ran) return;
      ran = true;
      await shard(dir, 1);
      assert.deepEqual(folderManifest(dir).shards.map((s) => s.prefix), ALL);
    },
  });
  assert.ok(ran);
  const m = folderManifest(dir);
  assert.deepEqual(m.shards.map((s) => s.prefix), ALL);
  const pieces = ALL.map((p) => JSON.parse(readFileSync(join(dir, `${p}.manifest.json`), "utf8")));
  assert.equal(m.tokens, pieces.reduce((a, p) => a + p.tokens, 0));
  assert.equal(m.documents, pieces.reduce((a, p) => a + p.documents, 0));
  assert.deepEqual(m.shards[1].files, pieces[1].files);
  assert.deepEqual(m.shards[1].sources, [INPUTS[1]]);
  assert.equal(readFolderManifest(dir).stale, false);
});

test("two megamath tokenize --shard i/2 processes at once: manifest.json lists both shards' files", async () => {
  const dir = tmpDir();
  const run = (i: number) => new Promise<number>((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), "tokenize", ...INPUTS.flatMap((f) => ["-i", f]),
      "-o", dir, "--shard", `${i}/2`, "--workers", "0", "--quiet"], { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] });
    p.on("error", reject);
    p.on("exit", (code) => resolve(code ?? -1));
  });
  assert.deepEqual(await Promise.all([run(0), run(1)]), [0, 0]);
  const m = folderManifest(dir);
  assert.deepEqual(m.shards.map((s) => s.prefix), ALL);
  for (const s of m.shards) {
    assert.deepEqual(s.files, [".bin", ".idx", ".ds", ".ds.index", ".ds.metadata"].map((e) => s.prefix + e));
    for (const f of s.files) assert.ok(existsSync(join(dir, f)), f);
  }
  const d = describeTokenFolder(dir);
  assert.equal(d.folderManifest, "current");
  assert.equal(d.tokens, m.tokens);
  assert.deepEqual(d.notes, []);
});

test("inspect DIR reports a manifest.json that lacks a shard; tokenize --rebuild-manifest repairs it", async () => {
  const dir = tmpDir();
  await shard(dir, 0);
  const afterShard0 = readFileSync(join(dir, "manifest.json"), "utf8");
  await shard(dir, 1);
  writeFileSync(join(dir, "manifest.json"), afterShard0); // as if shard 1's task died before its summary
  const before = await cli(["inspect", dir]);
  assert.equal(before.code, 0, before.err);
  assert.match(before.out, /3 shard\(s\); manifest\.json stale/);
  assert.match(before.out, /dolma_cc_en_head-0174 +\d+ +\d+ +yes +NO/);
  assert.match(before.out, /leaves out 1: dolma_cc_en_head-0174\); rebuild it with: megamath tokenize -o .* --rebuild-manifest/);
  const viaFile = JSON.parse((await cli(["inspect", join(dir, "manifest.json"), "--json"])).out);
  assert.equal(viaFile.folderManifest, "stale");
  assert.equal(viaFile.shards.length, 3);

  const r = await cli(["tokenize", "-o", dir, "--rebuild-manifest"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /manifest\.json rebuilt: 3 shard\(s\)/);
  assert.deepEqual(folderManifest(dir).shards.map((s) => s.prefix), ALL);
  const after = JSON.parse((await cli(["inspect", dir, "--json"])).out);
  assert.equal(after.folderManifest, "current");
  assert.deepEqual(after.notes, []);
  // One shard manifest read through inspect is that shard's token file.
  const one = await cli(["inspect", join(dir, "dolma_cc_en_head-0174.manifest.json"), "--rows", "1"]);
  assert.equal(one.code, 0, one.err);
  assert.match(one.out, /\(megatron, int32\)/);
});

test("--rebuild-manifest: usage errors exit 2, a folder without shards exits 1", async () => {
  const dir = tmpDir();
  assert.equal((await cli(["tokenize", "--rebuild-manifest"])).code, 2);
  const withInput = await cli(["tokenize", "-o", dir, "-i", INPUTS[0], "--rebuild-manifest"]);
  assert.equal(withInput.code, 2);
  assert.match(withInput.err, /takes no --input/);
  const empty = await cli(["tokenize", "-o", dir, "--rebuild-manifest"]);
  assert.equal(empty.code, 1);
  assert.match(empty.err, /holds no shard manifests/);
  const missing = await cli(["tokenize", "-o", join(dir, "nope"), "--rebuild-manifest"]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope: no such folder/);
});

test("a shard manifest whose files are gone is left out with the reason, not counted", async () => {
  const dir = tmpDir();
  await shard(dir, 0);
  await shard(dir, 1);
  rmSync(join(dir, "dolma_cc_en_head-0174.bin"));
  const m = (await writeFolderManifest(dir))!;
  assert.deepEqual(m.shards.map((s) => s.prefix), ["dolma_cc_en_head-0091", "dolma_provided_documents_000"]);
  assert.deepEqual(m.left_out.map((l) => l.piece), ["dolma_cc_en_head-0174.manifest.json"]);
  assert.match(m.left_out[0].reason, /dolma_cc_en_head-0174\.bin.*--force/);
  writeFileSync(join(dir, "zz.manifest.json"), "{ torn");
  assert.match(mergeFolderPieces(dir).left_out[1].reason, /unreadable/);
});

test("shards tokenized with different framing are refused, naming both settings", async () => {
  const dir = tmpDir();
  await shard(dir, 0);
  await assert.rejects(shard(dir, 1, { eosId: null }), (e: unknown) => e instanceof FolderManifestError &&
    /dolma_cc_en_head-0174\.manifest\.json has framing "each document is BOS 128000 \+ text tokens"/.test(e.message) &&
    /EOS 128001/.test(e.message));
  const r = await cli(["inspect", dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /different settings cannot form one token folder/);
});

test("a rerun with other settings redoes the shards made with the old ones; the same settings skip them", async () => {
  const dir = tmpDir();
  const first = await shard(dir, 0);
  assert.equal(first.shards.length, 2);
  const same = await shard(dir, 0);
  assert.deepEqual([same.shards.length, same.skipped.length], [0, 2]);
  const reseeded = await shard(dir, 0, { seed: 5 });
  assert.deepEqual([reseeded.shards.length, reseeded.skipped.length], [2, 0]);
  assert.equal(JSON.parse(readFileSync(join(dir, "dolma_cc_en_head-0091.manifest.json"), "utf8")).seed, 5);
  const noEos = await shard(dir, 0, { seed: 5, eosId: null });
  assert.equal(noEos.shards.length, 2);
  const m = folderManifest(dir);
  assert.equal(m.bos_eos?.eos_id, null);
  assert.equal(m.tokens, first.stats.counters.tokens - first.stats.docsOut); // one EOS fewer per document
});
