// Inputs are never silently left out or misread (issue 12 item 5): folders and globs follow symlinked sub-folders
// (a link loop is walked once), a step's output folder given as input yields its documents and not its stats,
// reports, markers or work files (for `inspect` too), and each -i says how many files it gave.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join, basename } from "node:path";
import { expandInputs, type InputExpansion } from "../../lib/io/glob.js";
import { describeFile, formatDescription } from "../../lib/io/inspect.js";
import { runPipeline } from "../../lib/runtime/runner.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { repoRoot, tmpDir } from "../helpers.js";

const demo = join(repoRoot, "fixtures/demo/megamath-web-00000.parquet");

test("repro: files under a symlinked sub-folder are found (-i DIR and 'DIR/*/*.parquet'); a link loop is walked once", async () => {
  const root = tmpDir("megamath-safety-in-");
  const elsewhere = tmpDir("megamath-safety-elsewhere-");
  mkdirSync(join(root, "a"));
  copyFileSync(demo, join(root, "a", "x.parquet"));
  copyFileSync(demo, join(elsewhere, "y.parquet"));
  symlinkSync(elsewhere, join(root, "linked"));
  symlinkSync(root, join(root, "a", "loop")); // a loop back to the top
  symlinkSync(join(root, "missing"), join(root, "dangling"));
  const seen: InputExpansion[] = [];
  const byDir = await expandInputs([root], (e) => seen.push(e));
  assert.deepEqual(byDir.map((f) => basename(f)).sort(), ["x.parquet", "y.parquet"]);
  assert.deepEqual(seen, [{ pattern: root, files: 2, leftOut: 0 }]);
  const byGlob = await expandInputs([join(root, "*", "*.parquet")]);
  assert.deepEqual(byGlob.map((f) => basename(f)).sort(), ["x.parquet", "y.parquet"]);
});

test("repro: a step's output folder as -i DIR gives its documents only, and inspect counts only their rows", async () => {
  const out = tmpDir("megamath-safety-step-");
  const inputs = tmpDir("megamath-safety-src-");
  copyFileSync(demo, join(inputs, "web.parquet"));
  const logs = memoryLogger();
  await runPipeline({ inputs: [join(inputs, "*.parquet")], outDir: out, stages: [], log: logs });
  assert.ok(logs.lines.some((l) => /input ".*\*\.parquet": 1 file\(s\)/.test(l.msg)), logs.lines.map((l) => l.msg).join("\n"));
  // What other commands leave in their output folders (decontaminate, annotate, dedup), as documents-like files.
  mkdirSync(join(out, "decont-report"));
  writeFileSync(join(out, "decont-report", "web.jsonl"), '{"text":"a report line"}\n');
  mkdirSync(join(out, "failures", "annotate"), { recursive: true });
  writeFileSync(join(out, "failures", "annotate", "web.abc.jsonl"), '{"text":"a failed answer"}\n');
  mkdirSync(join(out, "dedup-work"));
  writeFileSync(join(out, "dedup-work", "clusters.jsonl"), '{"text":"x"}\n');
  writeFileSync(join(out, "report.json"), "{}\n");
  const seen: InputExpansion[] = [];
  const files = await expandInputs([out], (e) => seen.push(e));
  assert.deepEqual(files.map((f) => basename(f)), ["web.parquet"]);
  assert.ok(seen[0].leftOut >= 6, JSON.stringify(seen)); // .done, stats.json, stats.shard-…, 3 folders, report.json
  assert.deepEqual((await expandInputs([join(out, "*.json")], () => {}).catch((e: Error) => e.message)), `no input files match "${join(out, "*.json")}"`);
  const d = await describeFile(out, { rows: 0 });
  const rows = (await describeFile(join(out, "web.parquet"), { rows: 0 })).rows;
  assert.equal(d.rows, rows);
  assert.equal(d.files?.length, 1);
  // inspect says how many of megamath's own files it left out, in JSON and in its text.
  assert.equal(d.leftOut, seen[0].leftOut);
  assert.match(formatDescription(d), new RegExp(`^left out: ${seen[0].leftOut} of megamath's own files/folders`, "m"));
  assert.equal((await describeFile(inputs, { rows: 0 })).leftOut, 0);
  // A folder that is not a command's output keeps a sub-folder that happens to be called "failures".
  const user = tmpDir("megamath-safety-user-");
  mkdirSync(join(user, "failures"));
  writeFileSync(join(user, "failures", "cases.jsonl"), '{"text":"user data"}\n');
  assert.deepEqual((await expandInputs([user])).map((f) => basename(f)), ["cases.jsonl"]);
  // A file named on its own is read whatever its name.
  assert.deepEqual(await expandInputs([join(out, "stats.json")]), [join(out, "stats.json")]);
});
