// The four presets plan and pack on real demo data with token shares equal to the weights (within 0.5%), and the
// planner fails early and clearly when a source cannot supply its share.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, mkdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { sharedData, tmpDir, repoRoot } from "../helpers.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import { MegatronReader } from "../../lib/formats/megatron.js";
import { PRESETS, loadPreset, runMix, parseMixSpec, planMixture, largestRemainder, parseTokenCount, type MixSpec } from "../../lib/mix/index.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { execFileSync } from "node:child_process";

let tokens = "";
// Real demo data standing in for every source name: already-tokenized shards (token sources) and raw JSONL
// (document sources tokenized on the fly with the source's template).
before(async () => {
  tokens = tmpDir();
  await tokenizeFiles({
    inputs: [sharedData("math-qa/se_math_33votes.jsonl.gz"), sharedData("math-qa/se_physics_35votes.jsonl.gz")],
    outDir: join(tokens, "qa"), template: { name: "qa", columns: { question: "input", answer: "output" } }, workers: 0,
  });
  await tokenizeFiles({ inputs: [sharedData("web-nonmath/dclm_human_quality_majority.jsonl.gz")], outDir: join(tokens, "web"), workers: 0 });
});

function demoPaths(spec: MixSpec): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const s of spec.sources) {
    const t = s.template?.name ?? "web";
    if (s.name.includes("web-pro")) paths[s.name] = join(tokens, "web");
    else if (t === "web") paths[s.name] = sharedData("web-nonmath/c4_demo.jsonl.gz");
    else paths[s.name] = join(tokens, "qa");
  }
  return paths;
}

for (const preset of PRESETS) {
  test(`preset ${preset} plans and packs with token shares equal to its weights`, async () => {
    const spec = { ...loadPreset(preset), total_tokens: 120_000 };
    const out = join(tmpDir(), preset);
    const { mixture } = await runMix({ spec, paths: demoPaths(spec), outDir: out, workers: 0 });
    assert.ok(mixture);
    const mj = JSON.parse(readFileSync(join(out, "mixture.json"), "utf8"));
    assert.equal(mj.name, preset);
    assert.equal(mj.total_tokens, 120_000);
    assert.deepEqual(mj.tokenizer.bos_id, 128000);
    const weights = loadPreset(preset).sources.map((s) => s.weight);
    assert.ok(Math.abs(mj.sources.reduce((a: number, s: { weight: number }) => a + s.weight, 0) - 1) < 1e-9);
    let total = 0;
    const actual: number[] = [];
    for (const s of mj.sources) {
      const r = new MegatronReader(join(out, s.prefix));
      actual.push(r.index.tokens);
      total += r.index.tokens;
      assert.equal(r.index.tokens, s.tokens_written);
      r.close();
      assert.ok(existsSync(join(out, s.prefix + ".ds.index")));
    }
    assert.equal(total, 120_000);
    actual.forEach((t, i) => {
      const share = t / total;
      assert.ok(Math.abs(share - weights[i]) <= 0.005 * weights[i], `${mj.sources[i].name}: share ${share} vs weight ${weights[i]}`);
    });
    // Megatron --data-path and nanotron blocks name the packed files with the same weights.
    assert.deepEqual(mj.megatron_data_path, mj.sources.flatMap((s: { weight: number; prefix: string }) => [s.weight, s.prefix]));
    assert.deepEqual(mj.nanotron_datasets.dataset_weights, mj.sources.map((s: { weight: number }) => s.weight));
    assert.ok(!readdirSync(dirname(out)).some((n) => n.startsWith(".tmp-")));
  });
}

test("repetition: a small source is repeated in whole reshuffled epochs up to its limit", async () => {
  const spec = parseMixSpec({ name: "rep", total_tokens: 400_000, max_repetition: 3, seed: 1,
    sources: [{ name: "a", weight: 0.5 }, { name: "b", weight: 0.5 }] }, "test");
  const out = join(tmpDir(), "rep");
  // c4_demo has ~157k tokens: 200k tokens is ~1.27 epochs.
  const { mixture } = await runMix({ spec, paths: { a: join(tokens, "web"), b: sharedData("web-nonmath/c4_demo.jsonl.gz") }, outDir: out, workers: 0 });
  const b = mixture!.sources[1];
  assert.ok(b.epochs > 1 && b.epochs < 2, String(b.epochs));
  assert.ok(b.documents_written > b.available_documents);
});

test("a budget larger than the sources allow fails before anything is written", async () => {
  const spec = { ...loadPreset("decay-long"), total_tokens: parseTokenCount("20B") };
  const out = join(tmpDir(), "big");
  await assert.rejects(runMix({ spec, paths: demoPaths(spec), outDir: out, workers: 0 }),
    /cannot be planned for 20000000000 tokens:[\s\S]*"megamath-web-pro" must supply 11000000000 tokens \(55.00% of 20000000000\) but has \d+; that is [\d.]+ epochs, over its max repetition 4/);
  assert.ok(!existsSync(out));
  assert.ok(!readdirSync(dirname(out)).some((n) => n.startsWith(".tmp-")));
});

test("weights not summing to 1 are normalized with a warning; bad weights and empty sources are errors", async () => {
  const spec = parseMixSpec({ name: "w", total_tokens: 10_000, sources: [{ name: "a", weight: 3 }, { name: "b", weight: 1 }] }, "t");
  const log = memoryLogger();
  const out = join(tmpDir(), "w");
  const { mixture } = await runMix({ spec, paths: { a: join(tokens, "web"), b: join(tokens, "qa") }, outDir: out, log, workers: 0 });
  assert.deepEqual(mixture!.sources.map((s) => s.weight), [0.75, 0.25]);
  assert.equal(mixture!.weights_normalized, true);
  assert.ok(log.lines.some((l) => l.level === "warn" && /sum to 4, not 1; normalized/.test(l.msg)));
  assert.throws(() => parseMixSpec({ total_tokens: 5, sources: [{ name: "a", weight: -1 }] }, "s.json"), /s.json: sources\[0\] \(a\): weight must be a positive number/);
  assert.throws(() => parseMixSpec({ total_tokens: 5, sources: [{ name: "a", weight: "x" }] }, "s.json"), /weight must be a positive number/);
  const empty = tmpDir();
  await assert.rejects(runMix({ spec, paths: { a: empty, b: join(tokens, "qa") }, outDir: join(tmpDir(), "e") }),
    /source "a": folder .* has no token files \(\.bin\/\.idx\) and no documents/);
  await assert.rejects(runMix({ spec, paths: { b: join(tokens, "qa") }, outDir: join(tmpDir(), "e") }), /no data for source\(s\) a/);
});

test("planner: exact budgets by largest remainder, token counts with suffixes", () => {
  assert.deepEqual(largestRemainder(10, [1 / 3, 1 / 3, 1 / 3]), [4, 3, 3]);
  assert.equal(largestRemainder(2_000_000, [0.725, 0.1, 0.1, 0.05, 0.0125, 0.0125]).reduce((a, b) => a + b), 2_000_000);
  assert.equal(parseTokenCount("2M"), 2_000_000);
  assert.equal(parseTokenCount("200B"), 200_000_000_000);
  assert.throws(() => parseTokenCount("lots"), /not a number like 2M/);
  const stable = loadPreset("stable");
  assert.equal(stable.total_tokens, 200e9);
  const p = planMixture(stable, new Map(stable.sources.map((s) => [s.name, { tokens: 1e12, documents: 1 }])));
  assert.deepEqual(p.sources.map((s) => s.planned_tokens), [145e9, 20e9, 20e9, 10e9, 2.5e9, 2.5e9]);
  for (const d of ["decay-long", "decay-short", "decay-hybrid"]) {
    const spec = loadPreset(d);
    assert.equal(spec.total_tokens, 20e9);
    assert.ok(Math.abs(spec.sources.reduce((a, s) => a + s.weight, 0) - 1) < 1e-12, d);
  }
});

test("megamath tokenize and mix run from the CLI", () => {
  const out = tmpDir();
  const cli = (args: string[]) => execFileSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), ...args],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] }).toString();
  cli(["tokenize", "-i", sharedData("web-nonmath/dolma_cc_en_head-0091.jsonl.gz"), "-o", join(out, "t"), "--workers", "0", "-q"]);
  const m = JSON.parse(readFileSync(join(out, "t", "dolma_cc_en_head-0091.manifest.json"), "utf8"));
  assert.equal(m.documents, 10);
  const specFile = join(out, "spec.json");
  mkdirSync(out, { recursive: true });
  writeFileSync(specFile, JSON.stringify({ name: "tiny", total_tokens: "5K", seed: 2, sources: [{ name: "x", weight: 1, path: join(out, "t") }] }));
  cli(["mix", "--spec", specFile, "-o", join(out, "mix"), "-q"]);
  const mj = JSON.parse(readFileSync(join(out, "mix", "mixture.json"), "utf8"));
  assert.equal(mj.tokens_written, 5000);
  const text = cli(["inspect", join(out, "mix", "x", "x.bin")]);
  assert.match(text, /documents \d+ +tokens 5000/);
  let err = "";
  try {
    cli(["tokenize", "-i", sharedData("web-nonmath/dolma_cc_en_head-0091.jsonl.gz"), "-o", join(out, "u"), "--tokenizer", "nope"]);
  } catch (e) {
    err = String((e as { stderr: Buffer }).stderr);
  }
  assert.match(err, /unknown tokenizer "nope"/);
});
