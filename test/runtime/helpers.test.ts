// The shared test helpers themselves: tmpDir folders are all removed at exit, without one exit listener per
// folder (eleven of those made Node print MaxListenersExceededWarning in the middle of the test output).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { repoRoot } from "../helpers.js";

test("tmpDir: fifteen folders, one exit listener, all removed when the process exits, no warning", () => {
  const script = [
    'import { tmpDir } from "./test/helpers.ts";',
    'import { writeFileSync } from "node:fs";',
    'const before = process.listenerCount("exit");',
    'const dirs = Array.from({ length: 15 }, () => tmpDir());',
    'for (const d of dirs) writeFileSync(d + "/f.txt", "x");',
    'console.log(JSON.stringify({ dirs, added: process.listenerCount("exit") - before }));',
  ].join("\n");
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  assert.doesNotMatch(child.stderr, /MaxListenersExceededWarning/);
  const r = JSON.parse(child.stdout) as { dirs: string[]; added: number };
  assert.equal(r.dirs.length, 15);
  assert.equal(r.added, 1);
  assert.deepEqual(r.dirs.filter((d) => existsSync(d)), []);
});

test("oracles: a missing tool is one skip line naming its Debian package; under MEGAMATH_REQUIRE_ORACLES=1 it fails", () => {
  // With no PATH the command-line oracles are missing whatever this machine has installed.
  const script = [
    'import { needs } from "./test/oracles.ts";',
    'try { console.log(JSON.stringify(needs("zstd", "fasttext"))); } catch (e) { console.log("threw: " + e.message); }',
  ].join("\n");
  const run = (env: Record<string, string>) => {
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script],
      { cwd: repoRoot, encoding: "utf8", env: { ...process.env, PATH: "/nonexistent", ...env } });
    assert.equal(child.status, 0, child.stderr);
    return child.stdout.trim();
  };
  assert.equal(run({ MEGAMATH_REQUIRE_ORACLES: "" }),
    JSON.stringify("needs the zstd CLI and the native fastText CLI (apt-get install zstd fasttext)"));
  assert.equal(run({ MEGAMATH_REQUIRE_ORACLES: "1" }),
    "threw: MEGAMATH_REQUIRE_ORACLES=1 and this test needs the zstd CLI and the native fastText CLI (apt-get install zstd fasttext)");
});
