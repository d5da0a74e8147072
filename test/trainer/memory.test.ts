// The per-GPU memory estimate of `megamath train --dry-run` (lib/train/memory.ts): its saved-for-backward part
// against bytes measured with autograd's saved-tensor hooks on reduced-width models of the trainer itself
// (trainer/tests/saved_bytes.py), and the activation checkpointing it picks for the 3B and 8B presets at seq 8192.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { chooseMemoryPlan, estimateMemory, resolvePreset, savedBytes, type MemoryInput } from "../../lib/train/index.js";
import { repoRoot } from "../helpers.js";
import { torchPython } from "./fixture.js";
import { needs } from "../oracles.js";

// As many K/V heads as Q heads: with fewer, CPU SDPA falls back to its math kernel (GPUs run flash/flex with GQA).
const shape = { dim: 256, n_layers: 4, n_heads: 8, n_kv_heads: 8, ffn_dim: 640, vocab_size: 4096 };
const reduced = { dim: 256, layers: 4, heads: 8, kvHeads: 8, ffn: 640, vocab: 4096, tied: true };

function torchMajorMinor(): [number, number] {
  const r = spawnSync(torchPython(), ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
  const [a, b] = r.stdout.trim().split(".");
  return [Number(a), Number.parseInt(b, 10)];
}

function measure(args: Record<string, unknown>): { activations: number; weight_copies: number } {
  const r = spawnSync(torchPython(), ["-m", "tests.saved_bytes", JSON.stringify({ shape, ...args })], {
    cwd: join(repoRoot, "trainer"), encoding: "utf8", timeout: 600_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "1" },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

// No torch at all: the one-line skip naming the package (a failure under MEGAMATH_REQUIRE_ORACLES=1).
const noTorch = needs("torch");
const [major] = noTorch ? [0] : torchMajorMinor();
const skip = noTorch || (major < 2 && process.env.MEGAMATH_REQUIRE_TORCH2 !== "1"
  ? "the estimate is for SDPA/flex kernels: needs torch >= 2.0 (.ci/torch2-check runs it under torch 2.x)" : false);

test("saved-for-backward bytes: the estimate is within 10% of what the trainer's model saves", { skip }, () => {
  const cases = [
    { mode: "autocast", ac_every: 0, chunk_tokens: 128, doc_masking: false },
    { mode: "autocast", ac_every: 2, chunk_tokens: 128, doc_masking: true },
    { mode: "bf16", ac_every: 0, chunk_tokens: 128, doc_masking: true },
    // (with every layer recomputed, no saved tensor holds the document mask, though it is alive: hence no masks here)
    { mode: "bf16", ac_every: 1, chunk_tokens: 128, doc_masking: false },
    { mode: "autocast", ac_every: 0, chunk_tokens: 2048, doc_masking: false },   // one chunk: logits kept
  ];
  for (const c of cases) {
    const batch = 2, seq = 256;
    const m = measure({ batch, seq, attention: "sdpa", ...c });
    const input: MemoryInput = {
      preset: reduced, seqLen: seq, microBatch: batch, world: c.mode === "bf16" ? 2 : 1, parallel: c.mode === "bf16" ? "fsdp" : "none",
      acEvery: c.ac_every, lossChunk: c.chunk_tokens, docMasking: c.doc_masking, attention: "sdpa",
    };
    const e = savedBytes(input);
    const estimated = e.layers + e.checkpointInputs + e.shared + e.loss;
    const measured = m.activations;
    const ratio = estimated / measured;
    assert.ok(ratio > 0.9 && ratio < 1.1, `${JSON.stringify(c)}: estimated ${estimated} B, measured ${measured} B (ratio ${ratio.toFixed(3)})`);
    if (c.mode === "autocast" && c.chunk_tokens === 2048) {
      // autocast keeps a bf16 copy of every layer's matmul weights for backward (the estimate's buffers: 2 bytes
      // per layer parameter; the tied lm_head's copy is not among them)
      const p = reduced, kv = p.kvHeads * (p.dim / p.heads);
      const matmul = p.layers * (2 * p.dim * p.dim + 2 * p.dim * kv + 3 * p.dim * p.ffn);
      assert.ok(Math.abs(m.weight_copies - 2 * matmul) <= 0.1 * 2 * matmul, `weight copies ${m.weight_copies} vs ${2 * matmul}`);
    }
  }
});

test("3B and 8B at seq 8192 fit 80 GB per GPU with the chosen defaults on 1 and 8 GPUs (8B on 1 GPU through FSDP2 CPU offload)", () => {
  const usable = 80e9 * 0.9;
  const pick = (name: string, world: number, parallelFixed = false) => {
    const p = resolvePreset(name);
    return chooseMemoryPlan({ preset: p, seqLen: 8192, microBatch: p.microBatch, world, parallel: world > 1 ? "fsdp" : "none", lossChunk: 2048, docMasking: true, attention: "flex" }, usable, { parallelFixed });
  };
  const threeOne = pick("3b", 1);
  assert.deepEqual([threeOne.fits, threeOne.parallel, threeOne.cpuOffload], [true, "none", false]);
  assert.equal(threeOne.acEvery, 1);   // no lighter setting fits one GPU
  assert.ok(threeOne.estimate.peak <= usable);
  const threeEight = pick("3b", 8);
  assert.deepEqual([threeEight.fits, threeEight.cpuOffload, threeEight.deferReduce], [true, false, true]);
  assert.ok(threeEight.estimate.buffers > 4 * 3.2e9);   // the unsharded fp32 gradients it defers are counted
  const eightEight = pick("8b", 8);
  assert.deepEqual([eightEight.fits, eightEight.cpuOffload], [true, false]);
  assert.ok(eightEight.acEvery > 0);   // without recompute the 8B activations alone are ~65 GB
  // 8B on one GPU: fp32 weights, gradients and AdamW moments alone are 16 bytes x 8.03B = 128 GB, so they go to host
  // memory (FSDP2 CPU offload) and the GPU keeps bf16 weights, unsharded fp32 gradients and the activations.
  const eightOne = pick("8b", 1);
  assert.deepEqual([eightOne.fits, eightOne.parallel, eightOne.cpuOffload, eightOne.deferReduce], [true, "fsdp", true, true]);
  assert.equal(eightOne.estimate.weights + eightOne.estimate.gradients + eightOne.estimate.optimizer, 0);
  assert.ok(eightOne.estimate.host > 128e9 && eightOne.estimate.peak <= usable, JSON.stringify(eightOne.estimate));
  assert.ok(eightOne.estimate.buffers > 6 * 8e9);      // bf16 weights + fp32 gradients of 8B on the GPU
  // ... unless the mode is fixed: then it does not fit, and says so.
  const fixed = pick("8b", 1, true);
  assert.equal(fixed.fits, false);
  assert.ok(fixed.estimate.weights + fixed.estimate.gradients + fixed.estimate.optimizer > 128e9);
  // The loss is chunked: one 2048-token chunk, not the whole 8192-token sequence's logits.
  const big = estimateMemory({ preset: resolvePreset("3b"), seqLen: 8192, microBatch: 1, world: 1, parallel: "none", acEvery: 1, lossChunk: 2048, docMasking: true, attention: "flex" });
  const whole = estimateMemory({ preset: resolvePreset("3b"), seqLen: 8192, microBatch: 1, world: 1, parallel: "none", acEvery: 1, lossChunk: 8192, docMasking: true, attention: "flex" });
  assert.ok(whole.loss - big.loss > 8e9, `${whole.loss} vs ${big.loss}`);
});
