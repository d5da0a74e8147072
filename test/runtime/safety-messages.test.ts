// Messages that say what is wrong (issue 12 item 9, CLI parts): a read-only output folder, a --shard value starting
// with "-", absurd --shard and --workers values (usage errors, exit 2), and a null text value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { megamath } from "./main-inprocess.js";
import { repoRoot, tmpDir } from "../helpers.js";

const demo = join(repoRoot, "fixtures/demo/megamath-web-00000.parquet");


const filter = (out: string, ...extra: string[]) => ["filter", "-i", demo, "-o", out, "--min", "label=0", ...extra];

test("repro: --shard -1/2, absurd --shard and --workers 500 are usage errors that say why", async () => {
  const out = tmpDir();
  const dash = await megamath(filter(out, "--shard", "-1/2"));
  assert.equal(dash.code, 2);
  assert.match(dash.err, /--shard got a value starting with "-"; write it as --shard=VALUE/);
  assert.doesNotMatch(dash.err, /ambiguous/);
  const neg = await megamath(filter(out, "--shard=-1/2"));
  assert.equal(neg.code, 2);
  assert.match(neg.err, /--shard must look like i\/N with 0 <= i < N/);
  for (const s of ["0/2000000", "0/99999999999999999999", "3/3"]) {
    const r = await megamath(filter(out, "--shard", s));
    assert.equal(r.code, 2, s);
    assert.match(r.err, /--shard/);
  }
  const w = await megamath(filter(out, "--workers", "500"));
  assert.equal(w.code, 2);
  assert.match(w.err, /--workers 500: at most \d+/);
});

test("repro: a null text value is called null, not a missing field", async () => {
  const dir = tmpDir();
  writeFileSync(join(dir, "a.jsonl"), '{"id": "x", "text": null, "label": 1}\n');
  const r = await megamath(["filter", "-i", join(dir, "a.jsonl"), "-o", join(dir, "out"), "--min", "label=0"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /"text" is null/);
  assert.doesNotMatch(r.err, /no "text" field/);
});

test("an output folder that cannot be made says why, not ENOENT", async () => {
  const dir = tmpDir();
  writeFileSync(join(dir, "file"), "x");
  const r = await megamath(filter(join(dir, "file", "out")));
  assert.equal(r.code, 1);
  assert.match(r.err, /output folder .* is not writable.*(a part of the path is a file|in the way)/);
});

test("repro: an output folder on a read-only file system says so", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root to mount a read-only tmpfs");
  const ro = join(tmpDir(), "ro");
  mkdirSync(ro);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro], { stdio: "ignore" });
  } catch {
    return t.skip("cannot mount a tmpfs here");
  }
  try {
    for (const out of [ro, join(ro, "out")]) {
      const r = await megamath(filter(out));
      assert.equal(r.code, 1);
      assert.match(r.err, /is not writable.*read-only file system \(EROFS\)/);
      assert.doesNotMatch(r.err, /ENOENT/);
    }
  } finally {
    execFileSync("umount", [ro]);
  }
});
