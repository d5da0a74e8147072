// Fused passes (issue 20 item 4): score → filter → decontaminate as one read → stages → write pass gives the same
// bytes as the three commands one after another, the same per-step stats and markers (so the two reuse each other's
// work), skips when nothing changed, redoes the pass when one step's setting changed, cleans up after a killed
// attempt, checks each step's own bounds, and runs as shard i of N. Cost: two 150-document slices of the demo
// corpus, language ID only (no classifier training).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpDir, repoRoot } from "../helpers.js";
import { digestTree } from "./cli-run.js";
import { loadStepCommand } from "../../cli/steps.js";
import { optionValues, type CliContext } from "../../cli/command.js";
import { runFusedCommands } from "../../cli/fused.js";
import { createLogger } from "../../lib/runtime/log.js";
import { openWriter, readDocuments } from "../../lib/io/index.js";
import type { StageStatsJSON } from "../../lib/runtime/stats.js";
import { defaultLidModelPath } from "../../lib/classify/langid.js";

const ctx: CliContext = { quiet: true, logJson: false, tty: false, stdout: process.stdout, log: createLogger({ quiet: true }) };

async function slice(src: string, dst: string, n: number): Promise<void> {
  const w = openWriter(dst);
  let left = n;
  for await (const b of readDocuments(src)) {
    if (left <= 0) break;
    const s = b.numRows > left ? b.slice(0, left) : b;
    await w.write(s);
    left -= s.numRows;
  }
  await w.close();
}

/** The chain's three steps writing under `root`, as a recipe would plan them; `minLang` is the filter's setting. */
function chain(input: string, root: string, o: { minLang?: string; shard?: string; filterMinKept?: number } = {}) {
  const common = { workers: 0, seed: 1, shard: o.shard ?? "0/1" };
  return [
    // The language-ID model as the "math" model (P(English) as math_score): a real fastText model that ships.
    { command: "score", opts: { ...common, input: [input], output: join(root, "score"), model: defaultLidModelPath(), label: "__label__en", "year-column": "year" } },
    { command: "filter", opts: { ...common, input: [join(root, "score", "*.parquet")], output: join(root, "filter"),
      min: [`math_score=${o.minLang ?? "0.65"}`], ...(o.filterMinKept ? { "min-kept-share": o.filterMinKept } : {}) } },
    { command: "decontaminate", opts: { ...common, input: [join(root, "filter", "*.parquet")], output: join(root, "decontaminate") } },
  ];
}

async function unfused(steps: ReturnType<typeof chain>): Promise<void> {
  for (const s of steps) {
    const cmd = await loadStepCommand(s.command);
    assert.equal((await cmd.run({ positionals: [], opts: optionValues(cmd, s.opts, s.command), ctx })) ?? 0, 0);
  }
}

async function fused(steps: ReturnType<typeof chain>, keep: boolean[] = [false, false, true]) {
  const parts = [];
  for (const [i, s] of steps.entries()) {
    const cmd = await loadStepCommand(s.command);
    parts.push({ command: cmd, opts: optionValues(cmd, s.opts, s.command), keep: keep[i] });
  }
  return runFusedCommands(parts, ctx);
}

/** Merged stats of a step folder without timings. */
function figures(dir: string): StageStatsJSON[] {
  const s = JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as { stages: StageStatsJSON[] };
  return s.stages.map((x) => ({ ...x, timeMs: 0 }));
}

const parquet = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(".parquet")) : []);

test("score → filter → decontaminate fused: same bytes, stats and fingerprints as one by one; reruns skip or redo as they must", async () => {
  const root = tmpDir("megamath-fused-");
  const inDir = join(root, "in");
  for (const n of [0, 1]) await slice(join(repoRoot, "fixtures", "demo", `megamath-web-0000${n}.parquet`), join(inDir, `part-${n}`), 150);
  const input = join(inDir, "*.parquet");

  const a = join(root, "unfused");
  await unfused(chain(input, a));
  const b = join(root, "fused");
  const first = await fused(chain(input, b), [true, false, true]);
  assert.equal(first.code, 0);
  // Kept steps hold the same bytes; the unkept one holds no documents, only its markers and stats.
  for (const s of ["score", "decontaminate"]) assert.equal(digestTree(join(b, s)), digestTree(join(a, s)), `${s} differs`);
  assert.deepEqual(parquet(join(b, "filter")), []);
  for (const s of ["score", "filter", "decontaminate"]) assert.deepEqual(figures(join(b, s)), figures(join(a, s)), `${s} stats differ`);
  assert.ok(Object.values(figures(join(b, "filter"))[1].removed).some((n) => n > 0), "the filter removed nothing: the check above proves little");

  // The report's score figures come from the score step's counters, equal to a read of the scored documents (which
  // a fused score step need not write).
  const { figuresFromCounters, scoreFigures } = await import("../../recipe/report/collect.js");
  const { mergeFolderStats } = await import("../../lib/runtime/runner.js");
  const counted = figuresFromCounters(await mergeFolderStats(join(b, "score")), 0.4);
  assert.ok(counted && counted.scored === 300);
  assert.deepEqual(counted, await scoreFigures(join(a, "score"), 0.4));

  // Nothing changed: the pass skips every file. A fused pass over the folders of the one-by-one run skips too: its
  // fingerprints are the ones the commands alone compute.
  assert.equal((await fused(chain(input, b))).results[2].filesDone, 0);
  const over = await fused(chain(input, a));
  assert.deepEqual([over.results[2].filesDone, over.results[2].filesSkipped], [0, 2]);

  // One step's setting changed: the whole pass is redone, and equals the commands run one by one with it.
  const redo = await fused(chain(input, b, { minLang: "0.9" }), [true, false, true]);
  assert.equal(redo.results[2].filesDone, 2);
  const a2 = join(root, "unfused-0.9");
  await unfused(chain(input, a2, { minLang: "0.9" }));
  assert.equal(digestTree(join(b, "decontaminate")), digestTree(join(a2, "decontaminate")));
  assert.notEqual(digestTree(join(a2, "decontaminate")), digestTree(join(a, "decontaminate")));

  // A killed attempt: its claims on the file's slots (made before it started), no final marker, a temp file in an
  // intermediate folder. The rerun redoes that file only and removes the leftover.
  const key = readdirSync(join(b, "decontaminate", ".done")).filter((n) => n.endsWith(".json"))[0].replace(/\.json$/, "");
  for (const s of ["score", "filter", "decontaminate"]) writeFileSync(join(b, s, ".done", `${key}.claim`), "{}\n");
  rmSync(join(b, "decontaminate", ".done", `${key}.json`));
  const leftover = join(b, "score", `.tmp-${key}.parquet.99999.abcdef12`);
  writeFileSync(leftover, "partial");
  const resumed = await fused(chain(input, b, { minLang: "0.9" }), [true, false, true]);
  assert.deepEqual([resumed.results[2].filesDone, resumed.results[2].filesSkipped], [1, 1]);
  assert.ok(!existsSync(leftover), "the killed attempt's temp file is still there");
  assert.equal(digestTree(join(b, "decontaminate")), digestTree(join(a2, "decontaminate")));

  // Each step keeps its own bounds: the filter's is checked on the filter's figures, and the error names it.
  await assert.rejects(fused(chain(input, join(root, "bound"), { filterMinKept: 0.999 })), /step "filter" kept \d+ of 300 documents/);

  // Shard i of N: two shard passes give the one-process output.
  const c = join(root, "sharded");
  for (const shard of ["0/2", "1/2"]) assert.equal((await fused(chain(input, c, { shard }))).code, 0);
  assert.equal(digestTree(join(c, "decontaminate")), digestTree(join(a, "decontaminate")));
  assert.deepEqual(figures(join(c, "filter")), figures(join(a, "filter")));
});

test("the recipe fuses score → filter and decontaminate (or refine) → tokenize of the Pro-Max plan; keepIntermediate keeps score's documents; fuse false runs steps alone", async () => {
  const { loadRecipe, planRecipe } = await import("../../recipe/load.js");
  const { finalFolder } = await import("../../recipe/plan.js");
  const { planPasses } = await import("../../recipe/fuse.js");
  const path = join(repoRoot, "pipelines", "pro-max-demo.json");
  const passesOf = async (edit: (r: Awaited<ReturnType<typeof loadRecipe>>) => void = () => {}) => {
    const recipe = await loadRecipe(path);
    edit(recipe);
    const { plan } = await planRecipe(recipe, { recipeDir: join(repoRoot, "pipelines"), outDir: "/tmp/megamath-fused-plan", seed: 1 });
    const passes = await planPasses(plan, finalFolder(recipe, plan));
    return [...passes.values()].map((p) => p.members.map((m, i) => `${m.step}${p.keep[i] ? "" : "(not kept)"}`));
  };
  // dedup (all files at once) ends a pass; tokenize (token files, not documents) ends one too but joins the pass
  // before it; decontaminate is the final corpus (refine is skipped without a server), so it is kept.
  const TOK = ["decontaminate", "tokenize"];
  assert.deepEqual(await passesOf(), [["score(not kept)", "filter"], TOK]);
  assert.deepEqual(await passesOf((r) => (r.keepIntermediate = true)), [["score", "filter"], TOK]);
  assert.deepEqual(await passesOf((r) => (r.fuse = false)), []);
  assert.deepEqual(await passesOf((r) => (r.steps.find((s) => s.name === "filter")!.fuse = false)), [TOK]);
  assert.deepEqual(await passesOf((r) => (r.steps.find((s) => s.name === "tokenize")!.fuse = false)), [["score(not kept)", "filter"]]);
  // A tokenize template other than web reads other columns: it runs alone.
  assert.deepEqual(await passesOf((r) => (r.steps.find((s) => s.name === "tokenize")!.options = { template: "qa" })), [["score(not kept)", "filter"]]);
  // A later step that names score's folder in its options needs its documents.
  assert.deepEqual(await passesOf((r) => r.steps.find((s) => s.name === "dedup")!.options!["work-dir"] = "${score}/work"), [["score", "filter"], TOK]);
  // With an LLM server: refine → tokenize (refine is the final corpus, kept); decontaminate → refine too.
  const recipe = await loadRecipe(path);
  const { plan } = await planRecipe(recipe, { recipeDir: join(repoRoot, "pipelines"), outDir: "/tmp/megamath-fused-plan", seed: 1, llm: { url: "http://127.0.0.1:9/v1", model: "m" } });
  const passes = [...(await planPasses(plan, finalFolder(recipe, plan))).values()].map((p) => p.members.map((m, i) => `${m.step}${p.keep[i] ? "" : "(not kept)"}`));
  assert.ok(passes.some((p) => p.join(" ").endsWith("refine tokenize")), JSON.stringify(passes));
});

test("decontaminate → tokenize fused: the token files, markers and stats of one by one; decontaminate's documents only when kept", async () => {
  const root = tmpDir("megamath-fused-tok-");
  const inDir = join(root, "in");
  for (const n of [0, 1]) await slice(join(repoRoot, "fixtures", "demo", `megamath-web-0000${n}.parquet`), join(inDir, `part-${n}`), 120);
  const input = join(inDir, "*.parquet");
  const steps = (dir: string) => {
    const common = { workers: 0, seed: 1, shard: "0/1" };
    return [
      { command: "decontaminate", opts: { ...common, input: [input], output: join(dir, "decontaminate") } },
      { command: "tokenize", opts: { ...common, input: [join(dir, "decontaminate", "*.parquet")], output: join(dir, "tokenize") } },
    ];
  };
  // The token manifests name the document file read (the file decontaminate writes, or would write, for the input).
  const manifests = (dir: string) => readdirSync(join(dir, "tokenize")).filter((n) => n.endsWith(".manifest.json") || n === "manifest.json").sort()
    .map((n) => [n, readFileSync(join(dir, "tokenize", n), "utf8").split(dir).join("ROOT")]);

  const a = join(root, "unfused");
  await unfused(steps(a));
  const b = join(root, "fused");
  const first = await fused(steps(b), [false, true]);
  assert.equal(first.code, 0);
  assert.equal(digestTree(join(b, "tokenize")), digestTree(join(a, "tokenize")));
  assert.ok(readdirSync(join(a, "tokenize")).filter((n) => n.endsWith(".bin")).length === 2);
  assert.deepEqual(manifests(b), manifests(a));
  assert.deepEqual(parquet(join(b, "decontaminate")), [], "an unkept decontaminate wrote documents");
  for (const s of ["decontaminate", "tokenize"]) assert.deepEqual(figures(join(b, s)), figures(join(a, s)), `${s} stats differ`);
  const tok = figures(join(a, "tokenize")).find((x) => x.name === "tokenize")!;
  assert.ok(tok.docsIn === 240 - Object.values(figures(join(a, "decontaminate"))[1].removed).reduce((x, y) => x + y, 0) && tok.counters.tokens > 0);

  // Kept: the same documents as the command alone; a fused pass over the one-by-one folders skips every file, and
  // `megamath tokenize` alone over the fused folders does too (the same fingerprints).
  const c = join(root, "kept");
  await fused(steps(c), [true, true]);
  assert.equal(digestTree(join(c, "decontaminate")), digestTree(join(a, "decontaminate")));
  const over = await fused(steps(a), [true, true]);
  assert.deepEqual([over.results[1].filesDone, over.results[1].filesSkipped], [0, 2]);
  const tokCmd = await loadStepCommand("tokenize");
  const alone = steps(c)[1];
  const markers = () => readdirSync(join(c, "tokenize", ".done")).sort().map((n) => readFileSync(join(c, "tokenize", ".done", n), "utf8"));
  const before = markers();
  assert.equal(await tokCmd.run({ positionals: [], opts: optionValues(tokCmd, alone.opts, "tokenize"), ctx }), 0);
  assert.deepEqual(markers(), before, "tokenize alone redid what the fused pass made");
  assert.deepEqual(readdirSync(join(c, "tokenize")).filter((n) => n.startsWith(".tmp-")), []);
  // Token files are not documents: a step after tokenize does not fuse with it.
  const { fusionConflict } = await import("../../cli/fused.js");
  const decon = await loadStepCommand("decontaminate");
  const after = { ...steps(c)[0].opts, input: [join(c, "tokenize", "*.parquet")], output: join(c, "after") };
  assert.match(fusionConflict([{ command: tokCmd, opts: optionValues(tokCmd, alone.opts, "tokenize") }, { command: decon, opts: optionValues(decon, after, "decontaminate") }]) ?? "",
    /tokenize writes no documents/);
  // Any worker count gives the same token files.
  const w = join(root, "workers");
  const two = steps(w).map((s) => ({ ...s, opts: { ...s.opts, workers: 2 } }));
  await fused(two, [false, true]);
  assert.equal(digestTree(join(w, "tokenize")), digestTree(join(a, "tokenize")));
});
