// Every default the recipe fixes, pinned against ../shared/spec/recipe.md (the paper's numbers, transcribed here with
// the section they come from). Where a default differs from the paper on purpose, the test pins our value and
// cites the decision (recipe.md §8, or the command's own help text when the paper says nothing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";
import type { Command } from "../../cli/command.js";
import trainClassifier from "../../cli/commands/train-classifier.js";
import score from "../../cli/commands/score.js";
import dedup from "../../cli/commands/dedup.js";
import decontaminate from "../../cli/commands/decontaminate.js";
import annotate from "../../cli/commands/annotate.js";
import refine from "../../cli/commands/refine.js";
import train from "../../cli/commands/train.js";
import { MEGAMATH_FASTTEXT, REPORT_THRESHOLDS } from "../../lib/classify/train-classifier.js";
import { ENGLISH_MIN_SCORE, isEnglish } from "../../lib/classify/langid.js";
import { defaultDedupParams } from "../../lib/dedup/params.js";
import { loadIndexSet } from "../../lib/decontam/index-set.js";
import { NgramIndex } from "../../lib/decontam/ngram-index.js";
import { resolvePreset, MODEL_PRESETS } from "../../lib/train/presets.js";

/** The default a command declares for one of its flags. */
function def(cmd: Command, flag: string): unknown {
  const spec = (cmd as unknown as { options: Record<string, { default?: unknown }> }).options[flag];
  assert.ok(spec, `${(cmd as unknown as { name: string }).name} has no --${flag}`);
  return spec.default;
}

test("train-classifier: fastText defaults are DeepSeekMath's (recipe.md §1.5, §2.1 step 3)", () => {
  // §1.5: "DeepSeekMath's values are dim 256, lr 0.1, word n-grams up to 3, minCount 3, epochs 3".
  // bucket: fastText's own default 2,000,000 (§8 "dim 256 with 2M buckets"); loss: fastText supervised's softmax.
  const paper = { dim: 256, lr: 0.1, "word-ngrams": 3, "min-count": 3, epoch: 3, bucket: 2_000_000, loss: "softmax" };
  for (const [flag, v] of Object.entries(paper)) assert.equal(def(trainClassifier, flag), v, `--${flag}`);
  assert.deepEqual(MEGAMATH_FASTTEXT, { dim: 256, lr: 0.1, epoch: 3, wordNgrams: 3, minCount: 3, bucket: 2_000_000, loss: "softmax" });
  // §2.1 step 3: FineMath score >= 3 is positive (the recipe passes --threshold 3 on the LLM path).
  // §2.1 step 4 (0.4) and §1.5 (0.5, MegaMath stage 1): both thresholds are reported.
  assert.deepEqual(REPORT_THRESHOLDS, [0.4, 0.5]);
});

test("score: language ID keeps English at lang_score >= 0.65 (recipe.md §1.4)", () => {
  assert.equal(ENGLISH_MIN_SCORE, 0.65);
  assert.equal(def(score, "english-min-score"), 0.65);
  assert.equal(isEnglish("en", 0.65), true);
  assert.equal(isEnglish("en", 0.6499), false);
  // §1.5 text normalization before fastText (MegaMath's preprocess_for_fasttext) is the default.
  assert.equal(def(score, "preprocess"), "megamath");
  assert.equal(def(score, "column"), "math_score");
});

/** Every shipped recipe (pipelines/*.json) that has a step running `command`. */
function recipeSteps(command: string): { file: string; options: Record<string, unknown> }[] {
  const out: { file: string; options: Record<string, unknown> }[] = [];
  for (const f of readdirSync(join(repoRoot, "pipelines")).filter((n) => n.endsWith(".json"))) {
    const r = JSON.parse(readFileSync(join(repoRoot, "pipelines", f), "utf8")) as { steps?: { command: string; options?: Record<string, unknown> }[] };
    for (const s of r.steps ?? []) if (s.command === command) out.push({ file: f, options: s.options ?? {} });
  }
  return out;
}

test("filter: Pro-Max keeps math_score >= 0.4 (recipe.md §2.1 step 4), MegaMath-Web's first pass >= 0.5 (§1.5), English >= 0.65 (§1.4)", () => {
  // `megamath filter` has no default threshold (it filters any column); each recipe fixes its own: Pro-Max's recall
  // step 0.4, MegaMath-Web's stage-1 fastText filter 0.5 (its code's threshold).
  const steps = recipeSteps("filter");
  assert.ok(steps.length >= 2, "a shipped recipe lost its filter step");
  const threshold: Record<string, string> = { "pro-max.json": "math_score=0.4", "pro-max-demo.json": "math_score=0.4", "megamath-web.json": "math_score=0.5" };
  for (const s of steps) {
    const min = s.options.min as string[];
    assert.ok(threshold[s.file], `${s.file}: a new recipe with a filter step; pin its threshold here`);
    assert.ok(min.includes(threshold[s.file]), `${s.file}: filter --min ${JSON.stringify(min)}`);
    // Language: a recipe that filters on it uses MegaMath's rule (top-1 en, score >= 0.65).
    if (min.some((m) => m.startsWith("lang_score="))) {
      assert.ok(min.includes("lang_score=0.65"), `${s.file}: filter --min ${JSON.stringify(min)}`);
      assert.ok((s.options.equals as string[]).includes("lang=en"), `${s.file}: filter --equals`);
    }
  }
});

test("dedup: MinHash-LSH 11 bands x 10 rows over word 5-grams, best math_score survives (recipe.md §1.6, §8)", () => {
  // §1.6: r = 11 buckets, b = 10 hashes per bucket (110 hashes); datatrove's default 5-gram shingles.
  assert.equal(def(dedup, "bands"), 11);
  assert.equal(def(dedup, "rows"), 10);
  assert.equal(def(dedup, "ngram"), 5);
  // §8 "Which near-duplicate survives": ours keeps the highest-scoring member (datatrove keeps an arbitrary one).
  assert.equal(def(dedup, "keep-column"), "math_score");
  assert.deepEqual({ ...defaultDedupParams, seed: 0 }, { bands: 11, rows: 10, ngram: 5, seed: 0, keepColumn: "math_score" });
  // The S-curve midpoint (1/11)^(1/10) ≈ 0.787 (§1.6) follows from these two numbers.
  assert.equal(Number(Math.pow(1 / 11, 1 / 10).toFixed(3)), 0.787);
});

test("decontaminate: the shipped index is exact 13-grams (recipe.md §1.7; §8: MegaMath's code says 12, its paper 13, we use 13)", () => {
  const set = loadIndexSet({});
  assert.equal(set.indexes[0].n, 13);
  assert.equal(NgramIndex.build([], undefined as unknown as number).n, 13, "NgramIndex.build's default n");
  assert.equal(def(decontaminate, "index"), undefined, "no --index: the shipped 13-gram index");
});

test("annotate: FineMath prompt, greedy sampling, 512 answer tokens, 10,000-character documents (our decisions)", () => {
  // The paper names the model (Llama-3.1-70B-Instruct) and the prompt (OctoThinker App. Fig. 15, recipe.md §2.1
  // step 2) but not the sampling; temperature 0 makes the annotations reproducible (annotate --help).
  assert.equal(def(annotate, "temperature"), 0);
  assert.equal(def(annotate, "max-tokens"), 512);
  assert.equal(def(annotate, "max-chars"), 10_000);
  assert.equal(def(annotate, "score-column"), "finemath_score");
  assert.equal(def(annotate, "endpoint"), "chat");
  assert.equal(def(annotate, "fence"), "tags");
});

test("refine: Pro-Max prompt, greedy sampling, 8192 answer tokens, 24,000-character input bound (our decisions)", () => {
  // The paper gives the model and the prompt (App. Fig. 16, recipe.md §2.1 step 5), not the sampling or bounds.
  assert.equal(def(refine, "temperature"), 0);
  assert.equal(def(refine, "max-tokens"), 8192);
  assert.equal(def(refine, "max-input-chars"), 24_000);
  assert.equal(def(refine, "min-ratio"), 0.2);
  assert.equal(def(refine, "max-ratio"), 1.5);
});

test("train: Stable LRs 1B 5e-5 / 3B 2e-5 / 8B 1e-5, decay to 10%, warmup 0, 8192 x 512, AdamW wd 0.1 (recipe.md §4)", () => {
  assert.equal(resolvePreset("1b").stableLr, 5e-5);
  assert.equal(resolvePreset("3b").stableLr, 2e-5);
  assert.equal(resolvePreset("8b").stableLr, 1e-5);
  // §4 base models: Llama-3.2-1B/3B and Llama-3.1-8B; §8 RoPE scaling factor 32 for 3.2, 8 for 3.1.
  assert.equal(MODEL_PRESETS["llama3.2-1b"].ropeFactor, 32);
  assert.equal(MODEL_PRESETS["llama3.2-3b"].ropeFactor, 32);
  assert.equal(MODEL_PRESETS["llama3.1-8b"].ropeFactor, 8);
  for (const p of ["1b", "3b", "8b"]) {
    const m = resolvePreset(p);
    assert.equal(m.seqLen, 8192, `${p} seq len (§4: 8,192)`);
    assert.equal(m.globalBatch, 512, `${p} global batch (§4: 512 sequences ≈ 4M tokens)`);
  }
  assert.equal(def(train, "final-lr-factor"), 0.1, "§4 Decay: cosine to 10%");
  assert.equal(def(train, "warmup"), 0, "§4: warmup 0");
  assert.equal(def(train, "phase"), "stable");
  // The optimizer lives in the Python trainer; its dataclass defaults are the recipe's.
  const py = readFileSync(join(repoRoot, "trainer", "megamath_trainer", "config.py"), "utf8");
  const field = (name: string) => {
    const m = new RegExp(`^\\s+${name}: [A-Za-z\\[\\]]+ = ([^\\s#]+)`, "m").exec(py);
    assert.ok(m, `trainer config has no ${name} field`);
    return m[1];
  };
  assert.equal(Number(field("weight_decay")), 0.1, "§4: AdamW weight decay 0.1");
  assert.equal(Number(field("warmup_steps")), 0);
  assert.equal(Number(field("final_lr_factor")), 0.1);
  assert.equal(Number(field("seq_len")), 8192);
  assert.equal(Number(field("global_batch_size")), 512);
  // §4 "optimizer details: betas, eps, grad-clip UNVERIFIED": ours are the common Llama pre-training values.
  assert.equal(Number(field("adam_beta1")), 0.9);
  assert.equal(Number(field("adam_beta2")), 0.95);
  assert.equal(Number(field("adam_eps")), 1e-8);
  assert.equal(Number(field("grad_clip")), 1.0);
});
