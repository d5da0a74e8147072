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
