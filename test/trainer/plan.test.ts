// The launcher's run config and plan: step counts, LR landmarks (checked against the Python schedule), presets
// (checked against the Python presets), launch command lines and the errors a user sees.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  MODEL_PRESETS, buildRunConfig, checkpointLastLr, flopsPerToken, latestCheckpoint, lrAt, paramCount, processPlans,
  TrainConfigError, type TrainOptions,
} from "../../lib/train/index.js";
import { tmpDir } from "../helpers.js";
import { runPython, writeToyMixture } from "./fixture.js";
import { needs } from "../oracles.js";

const mixDir = writeToyMixture(join(tmpDir(), "mix"));
const base = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  mixture: mixDir, output: join(tmpDir(), "run"), preset: "1b", phase: "stable", procsPerNode: 8, ...o,
});

test("OctoThinker budgets: 200B Stable = 47,684 steps, 20B Decay = 4,768 steps at 512 x 8192", () => {
  const stable = buildRunConfig(base({ tokens: 200e9 }));
  assert.equal(stable.plan.steps, 47684);
  assert.equal(stable.plan.tokens_per_step, 4194304);
  assert.equal(stable.plan.grad_accum_steps, 32);   // 512 / (micro 2 x 8 GPUs)
  assert.deepEqual(stable.plan.lr.at.map((x) => x.lr), [5e-5, 5e-5]);
  assert.equal(stable.config.train_steps, 47684);
  assert.equal(stable.config.lr, 5e-5);
  assert.equal(stable.config.data_seed, 5);
  const ckpt = join(tmpDir(), "ckpt");
  mkdirSync(ckpt, { recursive: true });
  writeFileSync(join(ckpt, "state.json"), "{}");
  const decay = buildRunConfig(base({ preset: "3b", phase: "decay", tokens: 20e9, initCheckpoint: ckpt }));
  assert.equal(decay.plan.steps, 4768);
  const at = decay.plan.lr.at;
  assert.equal(at[0].step, 1);
  assert.equal(at[0].lr, 2e-5);
  assert.equal(at.at(-1)!.step, 4768);
  assert.ok(Math.abs(at.at(-1)!.lr - 2e-6) < 1e-18);
  assert.equal(decay.config.init_checkpoint, ckpt);
  // 8B on 16 nodes x 8 GPUs: micro-batch 1, 4 accumulation steps.
  const big = buildRunConfig(base({ preset: "8b", tokens: 200e9, nodes: 16 }));
  assert.equal(big.plan.grad_accum_steps, 4);
  assert.equal(big.plan.model.rope_factor, 8);
});

test("LR schedule and presets agree with the Python trainer", { skip: needs("torch") }, () => {
  const phases = [
    { phase: "decay" as const, peakLr: 2e-5, steps: 4768, finalFactor: 0.1, warmup: 0 },
    { phase: "decay" as const, peakLr: 1e-3, steps: 7, finalFactor: 0.1, warmup: 2 },
    { phase: "stable" as const, peakLr: 5e-5, steps: 100, finalFactor: 0.1, warmup: 0 },
  ];
  // Every step of the short phases; ~40 points and both ends of the long one.
  const points = phases.map((p) => [...new Set([...Array.from({ length: 40 }, (_, k) => Math.floor((k * p.steps) / 40)), p.steps - 1])]);
  const py = JSON.parse(runPython(`
import json
from megamath_trainer.schedule import PhaseSchedule
from megamath_trainer.config import preset
phases, points = ${JSON.stringify(phases)}, ${JSON.stringify(points)}
lrs = [[PhaseSchedule(p["phase"], p["peakLr"], p["steps"], p["finalFactor"], p["warmup"]).lr_at(t) for t in ts] for p, ts in zip(phases, points)]
shapes = {n: [preset(n).num_params(), preset(n).flops_per_token(8192)] for n in ["llama3.2-1b", "llama3.2-3b", "llama3.1-8b", "tiny"]}
print(json.dumps({"lrs": lrs, "shapes": shapes}))`));
  phases.forEach((p, i) => points[i].forEach((t, k) => {
    const ts = lrAt(p, t);
    assert.ok(Math.abs(ts - py.lrs[i][k]) <= 1e-14 * p.peakLr, `phase ${i} step ${t}: ${ts} vs ${py.lrs[i][k]}`);
  }));
  for (const [name, [params, flops]] of Object.entries(py.shapes as Record<string, [number, number]>)) {
    assert.equal(paramCount(MODEL_PRESETS[name]), params, name);
    assert.equal(flopsPerToken(MODEL_PRESETS[name], 8192), flops, name);
  }
});

test("bad runs are refused with messages that say what to change", () => {
  const err = (o: Partial<TrainOptions>) => assert.throws(() => buildRunConfig(base(o)), TrainConfigError);
  assert.throws(() => buildRunConfig(base({ phase: "decay" })), /decay phase starts from a Stable checkpoint/);
  assert.throws(() => buildRunConfig(base({ tokens: 1000 })), /less than one step .* pass --steps N/);
  assert.throws(() => buildRunConfig(base({ globalBatch: 100, microBatch: 3 })), /not a multiple of --micro-batch 3 x 8/);
  assert.throws(() => buildRunConfig(base({ preset: "70b" })), /unknown model preset "70b"/);
  assert.throws(() => buildRunConfig(base({ mixture: tmpDir() })), /mixture\.json: not found/);
  err({ steps: 0 });
  assert.throws(() => buildRunConfig(base({ checkpointEvery: 0 })), /--checkpoint-every must be a positive integer/);
  assert.throws(() => buildRunConfig(base({ logEvery: 0 })), /--log-every must be a positive integer/);
  const broken = writeToyMixture(join(tmpDir(), "broken"));
  rmSync(join(broken, "qa", "qa.bin"));
  assert.throws(() => buildRunConfig(base({ mixture: broken })), /source "qa": .*qa\/qa\.bin not found/);
  // The tiny preset adopts the mixture's tokenizer; the real presets refuse a bigger vocabulary.
  const tiny = buildRunConfig(base({ preset: "tiny", procsPerNode: 1 }));
  assert.deepEqual(tiny.config.model_overrides, { vocab_size: 512, bos_id: 1, eos_id: 2 });
  assert.equal(tiny.plan.steps, Math.round(20000 / (8 * 128)));
});

test("a Decay branch starts at the LR its checkpoint ended with; once the run has a checkpoint it resumes without the source", () => {
  const stable = join(tmpDir(), "stable-ckpt");
  mkdirSync(stable, { recursive: true });
  // A Stable run of 3B at its own --lr 3e-5 (not the preset's 2e-5), as state.json records it.
  writeFileSync(join(stable, "state.json"), JSON.stringify({ step: 100, last_lr: 3e-5, schedule: { phase: "stable", peak: 3e-5, steps: 100, final_factor: 0.1, warmup: 0 } }));
  const output = join(tmpDir(), "decay-run");
  const opts = base({ preset: "3b", phase: "decay", tokens: 20e9, initCheckpoint: stable, output });
  const decay = buildRunConfig(opts);
  assert.equal(decay.plan.lr.peak, 3e-5);
  assert.equal(decay.plan.lr.at[0].lr, 3e-5);
  assert.ok(Math.abs(decay.plan.lr.at.at(-1)!.lr - 3e-6) < 1e-18);
  assert.equal(decay.config.lr, null);   // the trainer reads it from the checkpoint too
  assert.deepEqual(decay.plan.warnings.filter((w) => w.includes("--lr")), []);
  // Older checkpoints have no last_lr: the schedule gives it (a Decay run's last update is at 10%).
  writeFileSync(join(stable, "state.json"), JSON.stringify({ step: 100, schedule: { phase: "decay", peak: 3e-5, steps: 100, final_factor: 0.1, warmup: 0 } }));
  assert.ok(Math.abs(checkpointLastLr(stable)! - 3e-6) < 1e-18);
  // An explicit --lr that jumps is allowed, with a warning.
  const jump = buildRunConfig({ ...opts, lr: 2e-5 });
  assert.equal(jump.config.lr, 2e-5);
  assert.match(jump.plan.warnings.join("\n"), /--lr 0\.00002 differs from the LR 0\.000003 that .*stable-ckpt ended with/);
  // The run has checkpointed, then the Stable run pruned its checkpoint: re-running the command resumes.
  const own = join(output, "checkpoints", "step-00000010");
  mkdirSync(own, { recursive: true });
  writeFileSync(join(own, "state.json"), JSON.stringify({ step: 10, schedule: { phase: "decay", peak: 3e-5, steps: 4768, final_factor: 0.1, warmup: 0 } }));
  mkdirSync(join(output, "checkpoints", ".tmp-step-00000020"));   // a kill mid-save is not a checkpoint
  rmSync(stable, { recursive: true });
  assert.equal(latestCheckpoint(output), own);
  const resumed = buildRunConfig(opts);
  assert.equal(resumed.plan.lr.peak, 3e-5);
  assert.throws(() => buildRunConfig({ ...opts, force: true }), /--init-checkpoint .*stable-ckpt: not a trainer checkpoint/);
});

test("launch command lines: python, torchrun standalone, torchrun multi-node, local ranks", () => {
  const spec = { python: "py", configPath: "/r/run-config.json", nodes: 1, procsPerNode: 1, onGpu: false, launcher: "auto" as const };
  assert.deepEqual(processPlans(spec)[0].argv, ["py", "-m", "megamath_trainer.train", "/r/run-config.json"]);
  const node = processPlans({ ...spec, procsPerNode: 8, onGpu: true });
  assert.deepEqual(node[0].argv, ["py", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "8", "-m", "megamath_trainer.train", "/r/run-config.json"]);
  assert.throws(() => processPlans({ ...spec, procsPerNode: 8, nodes: 4, onGpu: true }), /needs --rdzv-endpoint/);
  const multi = processPlans({ ...spec, procsPerNode: 8, nodes: 4, onGpu: true, rdzvEndpoint: "n1:29500", rdzvId: "job7" });
  assert.deepEqual(multi[0].argv.slice(3, 11), ["--nnodes", "4", "--rdzv_backend", "c10d", "--rdzv_endpoint", "n1:29500", "--rdzv_id", "job7"]);
  const local = processPlans({ ...spec, procsPerNode: 2 }, 4321);
  assert.equal(local.length, 2);
  assert.deepEqual(local[1].env, { RANK: "1", LOCAL_RANK: "1", WORLD_SIZE: "2", LOCAL_WORLD_SIZE: "2", MASTER_ADDR: "127.0.0.1", MASTER_PORT: "4321" });
});
