// A mixture is one task of the task loop: a rerun with the same spec and sources skips (it used to fail "already
// holds a mixture; use --force"), a changed source redoes it, a killed run's temp folder is removed by the next run,
// and no manifest records a temp path (two builds write the same bytes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { sharedData, tmpDir } from "../helpers.js";
import { runMix, parseMixSpec } from "../../lib/mix/index.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { mergeFolderStats } from "../../lib/runtime/runner.js";

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));

test("mix: same fingerprint skips, changed source redoes, leftovers go, manifests hold no temp path", async () => {
  const root = tmpDir();
  const src = join(root, "web.jsonl.gz");
  copyFileSync(sharedData("web-nonmath/c4_demo.jsonl.gz"), src);
  const spec = parseMixSpec({ name: "m", total_tokens: 5_000, seed: 3, sources: [{ name: "web", weight: 1 }] }, "t");
  const out = join(root, "mix");
  const first = await runMix({ spec, paths: { web: src }, outDir: out, workers: 1 });
  assert.ok(first.mixture);
  for (const f of filesUnder(out)) assert.doesNotMatch(readFileSync(f, "latin1"), /\.tmp-/, f);
  const mtime = statSync(join(out, "mixture.json")).mtimeMs;
  // `megamath stats` reads a mixture folder like any other step's.
  const st = await mergeFolderStats(out);
  assert.deepEqual([st.commands, st.markers, st.stages[0].counters.tokens_written], [["mix"], 1, 5_000]);

  const log = memoryLogger();
  // A killed run's temp folder (a sibling named after the output) is removed when the mixture is next built.
  mkdirSync(join(root, ".tmp-mix.mix-999-abcdef", "web"), { recursive: true });
  const again = await runMix({ spec, paths: { web: src }, outDir: out, workers: 1, log });
  assert.equal(again.skipped, true);
  assert.equal(again.mixture!.tokens_written, 5_000);
  assert.equal(statSync(join(out, "mixture.json")).mtimeMs, mtime);

  // Other content under the same source name: the mixture is redone (and the leftover removed on the way).
  writeFileSync(src, readFileSync(sharedData("web-nonmath/dclm_human_quality_majority.jsonl.gz")));
  const redo = await runMix({ spec, paths: { web: src }, outDir: out, workers: 1, log });
  assert.notEqual(redo.skipped, true);
  assert.ok(redo.plan);
  assert.ok(!readdirSync(root).some((n) => n.startsWith(".tmp-")), readdirSync(root).join(" "));
  assert.match(log.lines.map((l) => l.msg).join("\n"), /mixture: made from other inputs or settings; redoing it/);
});

test("tokenize: done-ness from the task loop; a killed run's temp files are removed; other content is redone", async () => {
  const root = tmpDir();
  const src = join(root, "web.jsonl.gz");
  copyFileSync(sharedData("web-nonmath/c4_demo.jsonl.gz"), src);
  const out = join(root, "tok");
  mkdirSync(out, { recursive: true });
  const leftovers = [".tmp-web.bin.4242.0badf00d", ".tmp-web.unshuffled-4242-abcdef.bin"];
  const foreign = ".tmp-web-1.bin.4242.0badf00d"; // another task's (an input named "web-1")
  for (const n of [...leftovers, foreign]) writeFileSync(join(out, n), "x".repeat(4096));
  const first = await tokenizeFiles({ inputs: [src], outDir: out, workers: 1 });
  assert.equal(first.shards.length, 1);
  assert.deepEqual(readdirSync(out).filter((n) => n.startsWith(".tmp-")), [foreign]);
  const again = await tokenizeFiles({ inputs: [src], outDir: out, workers: 1 });
  assert.deepEqual([again.shards.length, again.skipped.length, again.stats.docsOut], [0, 1, first.stats.docsOut]);
  assert.equal((await mergeFolderStats(out)).markers, 1);
  writeFileSync(src, readFileSync(sharedData("web-nonmath/dclm_human_quality_majority.jsonl.gz")));
  const redo = await tokenizeFiles({ inputs: [src], outDir: out, workers: 1 });
  assert.equal(redo.shards.length, 1);
  assert.notEqual(redo.shards[0].documents, first.shards[0].documents);
});
