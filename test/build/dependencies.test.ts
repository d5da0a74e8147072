// The import rules of .dependency-cruiser.cjs hold (lib/ imports nothing from the CLI, the recipe or the report; no
// import circles), checked by dependency-cruiser over every source folder. A second run on a scratch module that
// breaks both rules proves the check can fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { repoRoot, tmpDir } from "../helpers.js";

const bin = join(repoRoot, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");
// Colour off and escapes stripped: CI may set FORCE_COLOR, which puts escape codes inside the file names matched below.
const cruise = (paths: string[], cwd = repoRoot) => {
  const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
  const r = spawnSync(process.execPath, [bin, "--config", ".dependency-cruiser.cjs", "--output-type", "err", ...paths], { cwd, encoding: "utf8", env });
  return { status: r.status, stdout: stripVTControlCharacters(r.stdout ?? ""), stderr: stripVTControlCharacters(r.stderr ?? "") };
};

test("import rules: nothing in lib/ imports upward, no circles", () => {
  const r = cruise(["index.ts", "cli", "lib", "recipe", "classifiers", "bench"]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("import rules: a lib module importing the CLI, and a circle, are reported", () => {
  // A scratch tree with the same rules (not inside the repository, where a parallel run would see it).
  const dir = tmpDir("megamath-rules-");
  mkdirSync(join(dir, "lib"));
  mkdirSync(join(dir, "cli"));
  writeFileSync(join(dir, ".dependency-cruiser.cjs"), `const c = require(${JSON.stringify(join(repoRoot, ".dependency-cruiser.cjs"))});
module.exports = { ...c, options: { ...c.options, tsConfig: undefined } };\n`);
  writeFileSync(join(dir, "cli", "command.ts"), "export const flags = 1;\n");
  writeFileSync(join(dir, "lib", "a.ts"), 'import { b } from "./b.js";\nimport { flags } from "../cli/command.js";\nexport const a = () => b() + flags;\n');
  writeFileSync(join(dir, "lib", "b.ts"), 'import { a } from "./a.js";\nexport const b = () => a();\n');
  writeFileSync(join(dir, "lib", "c.ts"), "export const c = 1;\n");
  const r = cruise(["lib", "cli"], dir);
  assert.notEqual(r.status, 0, r.stdout);
  assert.match(r.stdout, /lib-upward: lib\/a\.ts → cli\/command\.ts/);
  assert.match(r.stdout, /no-circular/);
  assert.doesNotMatch(r.stdout, /lib\/c\.ts/);
});

test("folders: pipelines/ holds only the shipped recipes and mixture presets (JSON), classifiers/ only engines", () => {
  const walk = (d: string): string[] => readdirSync(join(repoRoot, d), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  assert.deepEqual(walk("pipelines").filter((f) => !f.endsWith(".json")), []);
  // Stage code (scoring, training, language ID) lives in lib/classify/; classifiers/ has one folder per engine.
  assert.deepEqual(readdirSync(join(repoRoot, "classifiers"), { withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name), []);
});
