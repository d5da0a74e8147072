// `megamath train` through the real CLI: --dry-run plans, and a tiny run on CPU from a mixture that `megamath mix`
// packs out of the bundled demo corpus (real documents, Llama-3 tokenizer, 128,256-id vocabulary).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, tmpDir } from "../helpers.js";
import { megamath, torchPython, writeToyMixture } from "./fixture.js";
import { needs } from "../oracles.js";

test("train --dry-run prints steps, tokens, LR landmarks and the launch line, and writes nothing", () => {
  const mix = writeToyMixture(join(tmpDir(), "mix"));
  const out = join(tmpDir(), "run");
  const r = megamath(["train", mix, "-o", out, "--preset", "1b", "--tokens", "200B", "--gpus", "8", "--dry-run"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /budget\s+47684 steps = 200001191936 tokens/);
  assert.match(r.out, /warning: the run reads 200\.00B tokens but the mixture was packed for 20\.00k/);
  assert.match(r.out, /constant 0\.00005/);
  assert.match(r.out, /torch\.distributed\.run --standalone --nproc_per_node 8 -m megamath_trainer\.train/);
  assert.match(r.out, /web\s+70\.00%/);
  assert.match(r.out, /memory\/GPU\s+\d+\.\d GB peak \(estimate, eager; FSDP sharded over 8\) of 72\.0 GB usable on 80 GB: fits/);
  assert.match(r.out, /weights \d+\.\d GB, gradients \d+\.\d GB, AdamW \d+\.\d GB, buffers [\d.]+ GB, activations [\d.]+ GB, loss [\d.]+ GB \(chunks of 2048 tokens\)/);
  assert.match(r.out, /activation checkpointing: none \(chosen to fit; --ac-every K to override\)/);
  assert.equal(existsSync(out), false);
  const j = megamath(["train", mix, "-o", out, "--preset", "3b", "--phase", "decay", "--init-hf", writeHfConfig(), "--tokens", "20B", "--dry-run", "--json"]);
  assert.equal(j.code, 0, j.err);
  const { plan, config } = JSON.parse(j.out);
  assert.equal(plan.steps, 4768);
  // 3B on one GPU fits 80 GB only with every layer recomputed; the run config carries the choice.
  assert.equal(plan.memory.ac_every, 1);
  assert.equal(plan.memory.fits, true);
  assert.equal(config.activation_checkpointing, 1);
  assert.equal(config.loss_chunk_tokens, 2048);
  const eight = megamath(["train", mix, "-o", out, "--preset", "8b", "--tokens", "20B", "--gpus", "1", "--dry-run"]);
  assert.equal(eight.code, 0, eight.err);
  // 8B on one GPU: fp32 state (128 GB) goes to host memory through FSDP2 CPU offload
  assert.match(eight.out, /FSDP sharded over 1, CPU offload\) of 72\.0 GB usable on 80 GB: fits/);
  assert.match(eight.out, /CPU offload: fp32 weights, gradients and AdamW state in host memory, 128\.\d GB per process/);
  const pinned = megamath(["train", mix, "-o", out, "--preset", "8b", "--tokens", "20B", "--gpus", "1", "--parallel", "none", "--dry-run"]);
  assert.equal(pinned.code, 0, pinned.err);
  assert.match(pinned.out, /DOES NOT FIT/);
  assert.match(pinned.out, /warning: estimated peak \d+\.\d GB per GPU exceeds 72\.0 GB usable of 80 GB.*CPU offload was not tried/);
  assert.deepEqual(plan.lr.at.map((x: { step: number }) => x.step), [1, 1193, 2385, 3576, 4768]);
  assert.ok(Math.abs(plan.lr.at[2].lr - 1.1e-5) < 5e-9);   // about the cosine midpoint: (peak + 10%) / 2
  assert.ok(Math.abs(plan.lr.at[4].lr - 2e-6) < 1e-18);     // the last update runs at exactly 10%
  const bad = megamath(["train", mix, "--phase", "decay", "--dry-run"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /give --init-checkpoint/);
});

function writeHfConfig(): string {
  const d = tmpDir();
  writeFileSync(join(d, "config.json"), "{}");
  return d;
}

test("train runs the tiny preset end to end on CPU from a mixture packed by megamath mix", { skip: needs("torch") }, () => {
  const dir = tmpDir();
  const spec = join(dir, "spec.json");
  writeFileSync(spec, JSON.stringify({
    name: "demo-small", total_tokens: 20000, max_repetition: 4, seed: 3,
    sources: [{ name: "megamath-qa", weight: 0.6, template: { name: "web" } }, { name: "dclm-baseline", weight: 0.4 }],
  }));
  const demo = join(repoRoot, "fixtures", "demo", "sources");
  const m = megamath(["mix", "--spec", spec, "-o", join(dir, "mix"), "--source", `megamath-qa=${join(demo, "megamath-qa.parquet")}`,
    "--source", `dclm-baseline=${join(demo, "dclm-baseline.parquet")}`]);
  assert.equal(m.code, 0, m.err);

  const run = join(dir, "run");
  const args = ["train", join(dir, "mix"), "-o", run, "--preset", "tiny", "--steps", "3", "--seq-len", "32", "--global-batch", "4",
    "--micro-batch", "2", "--log-every", "1", "--python", torchPython()];
  const r = megamath(args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /train: step 3\/3 loss \d+\.\d+ lr 1\.000e-3/);
  assert.match(r.err, /train: done \(3 steps\)/);
  const metrics = readFileSync(join(run, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(metrics.map((x) => x.step), [1, 2, 3]);
  const dump = JSON.parse(readFileSync(join(run, "config.json"), "utf8"));
  assert.equal(dump.model.vocab_size, 128256);
  assert.equal(dump.model.bos_token_id, 128000);
  assert.deepEqual(dump.data_plan.map((s: { name: string }) => s.name), ["megamath-qa", "dclm-baseline"]);
  assert.ok(existsSync(join(run, "hf", "model.safetensors")));

  // The trainer's exit status comes through: a NaN/inf loss stops with 3.
  const nan = megamath([...args.slice(0, 3), join(dir, "nan-run"), ...args.slice(4), "--lr", "1e12"]);
  assert.equal(nan.code, 3, nan.err);
  assert.match(nan.err, /non_finite_loss: step \d+: loss/);
  const noTorch = megamath([...args, "--python", "/nonexistent/python3"]);
  assert.equal(noTorch.code, 1);
  assert.match(noTorch.err, /--python \/nonexistent\/python3: not found/);
});

test("train: a Decay branch through the CLI continues at the Stable run's LR, and a mismatched one is refused by name", { skip: needs("torch") }, () => {
  const mix = writeToyMixture(join(tmpDir(), "mix"));
  const dir = tmpDir();
  const common = ["--preset", "tiny", "--seq-len", "32", "--global-batch", "4", "--micro-batch", "2", "--log-every", "1",
    "--no-export-hf", "--python", torchPython()];
  const stable = megamath(["train", mix, "-o", join(dir, "stable"), "--steps", "2", "--lr", "2e-3", ...common]);
  assert.equal(stable.code, 0, stable.err);
  const ckpt = join(dir, "stable", "checkpoints", "step-00000002");
  const decayArgs = (name: string, ...more: string[]) =>
    ["train", mix, "-o", join(dir, name), "--phase", "decay", "--init-checkpoint", ckpt, "--steps", "2", ...common, ...more];
  const decay = megamath(decayArgs("decay"));
  assert.equal(decay.code, 0, decay.err);
  assert.match(decay.err, /train: step 1\/2 loss \d+\.\d+ lr 2\.000e-3/);   // not the tiny preset's 1e-3
  assert.match(decay.err, /train: step 2\/2 loss \d+\.\d+ lr 2\.000e-4/);
  assert.doesNotMatch(decay.err, /LR jumps|starts at LR/);
  // An explicit --lr that jumps runs, and the trainer's warning reaches the user.
  const jump = megamath(decayArgs("jump", "--lr", "1e-3"));
  assert.equal(jump.code, 0, jump.err);
  assert.match(jump.err, /train: this decay run starts at LR 0\.001, but .*step-00000002 ended at 0\.002/);
  // Another model (a bigger sequence budget is fine; another vocabulary is not): stopped before training.
  const spec = JSON.parse(readFileSync(join(mix, "mixture.json"), "utf8"));
  spec.tokenizer.vocab_size = 1024;
  writeFileSync(join(mix, "mixture.json"), JSON.stringify(spec));
  const other = megamath(decayArgs("other"));
  assert.equal(other.code, 1, other.err);
  assert.match(other.err, /config: .*step-00000002: this checkpoint cannot start this decay run: model\.vocab_size: checkpoint 512, this run 1024/);
  assert.equal(existsSync(join(dir, "other", "checkpoints")), false);
});
