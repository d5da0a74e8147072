// Per-GPU memory estimate of a training run (what `megamath train --dry-run` prints), and the activation
// checkpointing it picks so the run fits. Bytes, eager PyTorch (torch.compile usually saves less, so this is an upper
// bound for the compiled GPU default), counted op by op for the trainer's own model (trainer/megamath_trainer/
// model.py). The saved-for-backward part is checked against bytes measured with autograd's saved-tensor hooks on
// reduced-width models (test/trainer/memory.test.ts); weights, gradients, optimizer and the loss's transient logits
// are arithmetic.
import type { PresetInfo } from "./presets.js";

export type ParallelMode = "none" | "ddp" | "fsdp";

export interface MemoryInput {
  preset: Pick<PresetInfo, "dim" | "layers" | "heads" | "kvHeads" | "ffn" | "vocab" | "tied">;
  seqLen: number;
  microBatch: number;
  /** Processes that shard the model (FSDP): the world size, or with HSDP the ranks of one node (the shard group). */
  world: number;
  parallel: ParallelMode;
  /** Recompute every k-th layer in backward (0 = none, 1 = all). */
  acEvery: number;
  /** Cross-entropy chunk (trainer loss_chunk_tokens). */
  lossChunk: number;
  docMasking: boolean;
  /** flex (GPU default) keeps no dense mask; sdpa with document masks keeps a (B, 1, S, S) boolean one. */
  attention: "flex" | "sdpa";
  /** FSDP2 CPU offload: fp32 parameters, gradients and AdamW state in host memory (trainer cpu_offload). */
  cpuOffload?: boolean;
  /** FSDP2 defer_grad_reduce: unsharded fp32 gradients accumulate across a step's micro-batches on every rank. */
  deferReduce?: boolean;
}

export interface MemoryEstimate {
  /** fp32 master weights, gradients and AdamW moments on the GPU (0 with CPU offload: then they are in `host`). */
  weights: number;
  gradients: number;
  optimizer: number;
  /** Host memory per process for offloaded state (fp32 weights, gradients, AdamW moments); 0 without offload. */
  host: number;
  /** autocast's bf16 weight copies (1 GPU / DDP), DDP's gradient buckets, FSDP's gathered bf16 layers. */
  buffers: number;
  /** Saved for backward at the end of the forward, plus one recomputed layer during backward. */
  activations: number;
  /** Saved by the final norm and loss, plus one loss chunk's logits, log-softmax and gradient in backward. */
  loss: number;
  peak: number;
}

/** Bytes per token that one decoder layer saves for backward (eager, flash/flex attention, native grouped-query
 * attention). mode "autocast": fp32 weights and residual stream, bf16 matmuls (1 GPU, DDP); "bf16": FSDP's bf16
 * parameters. Only what autograd needs is kept (x * cos keeps cos, not x), so, per token:
 *  - each RMSNorm: its fp32 input for pow/mul (4d; under "bf16" the fp32 upcast of the bf16 input), rsqrt (4), the
 *    normed tensor for the weight product (fp32 4d; "bf16": 2d), then the bf16 matmul input: autocast casts it once
 *    per consumer (q, k, v: 6d; gate, up: 4d), bf16 weights share one (2d);
 *  - attention: q, k, v after RoPE (2d, 2kv, 2kv), the output (2d) and the fp32 log-sum-exp (4 per head);
 *  - o_proj's input, a contiguous copy of the output (2d);
 *  - SwiGLU: gate, silu(gate), up and down_proj's input (8 ffn). */
export function layerBytesPerToken(p: MemoryInput["preset"], mode: "autocast" | "bf16"): number {
  const d = p.dim;
  const kv = p.kvHeads * (p.dim / p.heads);
  const norms = mode === "autocast" ? (8 * d + 4 + 6 * d) + (8 * d + 4 + 4 * d) : 2 * (6 * d + 4 + 2 * d);
  return norms + (2 * d + 4 * kv + 2 * d + 4 * p.heads) + 2 * d + 8 * p.ffn;
}

export function paramsOf(p: MemoryInput["preset"]): { total: number; perLayer: number; embedding: number } {
  const kv = p.kvHeads * (p.dim / p.heads);
  const perLayer = 2 * p.dim * p.dim + 2 * p.dim * kv + 3 * p.dim * p.ffn + 2 * p.dim;
  const embedding = p.vocab * p.dim * (p.tied ? 1 : 2);
  return { total: p.layers * perLayer + p.dim + embedding, perLayer, embedding };
}

/** Saved-for-backward bytes of one micro-batch's forward (what the hooks measure), split as the test needs it. */
export function savedBytes(m: MemoryInput): { layers: number; checkpointInputs: number; shared: number; loss: number } {
  const p = m.preset;
  const mode = m.parallel === "fsdp" ? "bf16" : "autocast";
  const elem = mode === "autocast" ? 4 : 2;   // the residual stream: fp32 under autocast, bf16 with bf16 params
  const T = m.microBatch * m.seqLen;
  const headDim = p.dim / p.heads;
  let full = 0;
  let ckpt = 0;
  for (let i = 0; i < p.layers; i++) if (m.acEvery > 0 && i % m.acEvery === 0) ckpt++; else full++;
  const layers = full * layerBytesPerToken(p, mode) * T;
  const checkpointInputs = ckpt * T * p.dim * elem;
  // RoPE cos/sin (fp32, shared by all layers), the token ids kept by the embedding, the dense document mask.
  const dense = m.docMasking && m.attention === "sdpa" ? m.microBatch * m.seqLen * m.seqLen : 0;
  const shared = 8 * headDim * T + 8 * T + dense;
  // Final norm as above, then the chunked loss: chunks are recomputed in backward, so only their input (the normed
  // hidden states, held by the checkpoints) and the labels stay. One chunk (T <= chunk) is not recomputed: it keeps
  // the bf16 matmul input and the fp32 log-softmax of the whole vocabulary.
  const norm = (mode === "autocast" ? 8 * p.dim : 6 * p.dim) + 4;
  const loss = T > m.lossChunk
    ? T * (norm + p.dim * elem)
    : T * (norm + 2 * p.dim + 8 + 4 * p.vocab);
  return { layers, checkpointInputs, shared, loss };
}

export function estimateMemory(m: MemoryInput): MemoryEstimate {
  const p = m.preset;
  const { total, perLayer, embedding } = paramsOf(p);
  const shard = m.parallel === "fsdp" ? m.world : 1;
  const offload = m.parallel === "fsdp" && m.cpuOffload === true;
  const onGpu = offload ? 0 : 1;
  const weights = (onGpu * 4 * total) / shard;       // fp32 master weights
  const gradients = (onGpu * 4 * total) / shard;     // fp32 gradients
  const optimizer = (onGpu * 8 * total) / shard;     // AdamW exp_avg + exp_avg_sq, fp32
  const host = offload ? (16 * total) / shard : 0;
  let buffers = 0;
  // autocast's bf16 copies of the layers' weights, kept for backward (the lm_head's lives only inside a loss chunk)
  if (m.parallel !== "fsdp") buffers += 2 * (total - embedding);
  if (m.parallel === "ddp") buffers += 4 * total;                     // DDP's flat gradient buckets
  // FSDP: the current and the prefetched layer gathered in bf16, the root unit (embedding, lm_head) unsharded in bf16,
  // and one layer's unsharded fp32 gradient before its reduce-scatter.
  if (m.parallel === "fsdp") buffers += 2 * 2 * perLayer + 2 * embedding + 4 * perLayer;
  // Offload (trainer fsdp2.shard): no layer reshards after forward, so every layer's bf16 parameters are on the GPU
  // through backward, plus the fp32 shards copied in for the current and the prefetched layer's all-gather.
  if (offload) buffers += 2 * (total - embedding) - 2 * 2 * perLayer + (2 * 4 * perLayer) / shard;
  // Deferred reduce-scatter: every parameter's unsharded fp32 gradient lives until the step's last micro-batch.
  if (m.parallel === "fsdp" && m.deferReduce) buffers += 4 * total;
  const s = savedBytes(m);
  const T = m.microBatch * m.seqLen;
  const mode = m.parallel === "fsdp" ? "bf16" : "autocast";
  const recompute = m.acEvery > 0 ? layerBytesPerToken(p, mode) * T : 0;
  const activations = s.layers + s.checkpointInputs + s.shared + recompute;
  // One chunk in backward: bf16 logits, fp32 logits, fp32 log-softmax and fp32 gradient of the logits.
  const chunk = Math.min(T, m.lossChunk);
  const loss = s.loss + chunk * p.vocab * (2 + 4 + 4 + 4);
  const peak = weights + gradients + optimizer + buffers + activations + loss;
  return { weights, gradients, optimizer, host, buffers, activations, loss, peak };
}

/** Activation checkpointing options, least recompute first: none, every 4th, 3rd, 2nd layer, every layer. */
export const AC_CHOICES = [0, 4, 3, 2, 1];

/** The least recompute whose estimated peak fits `usable` bytes per GPU; every layer (1) when none does. */
export function chooseActivationCheckpointing(m: Omit<MemoryInput, "acEvery">, usable: number): { acEvery: number; fits: boolean; estimate: MemoryEstimate } {
  for (const acEvery of AC_CHOICES) {
    const estimate = estimateMemory({ ...m, acEvery });
    if (estimate.peak <= usable) return { acEvery, fits: true, estimate };
  }
  return { acEvery: 1, fits: false, estimate: estimateMemory({ ...m, acEvery: 1 }) };
}

export function describeAc(k: number): string {
  return k === 0 ? "none" : k === 1 ? "every layer" : `every ${k}${k === 2 ? "nd" : k === 3 ? "rd" : "th"} layer`;
}

export interface MemoryPlan {
  acEvery: number;
  parallel: ParallelMode;
  cpuOffload: boolean;
  deferReduce: boolean;
  fits: boolean;
  estimate: MemoryEstimate;
}

/** The run's memory settings, cheapest in time first: the least activation recompute that fits (or `acEvery` when
 * given); then, with FSDP over several ranks, deferring the gradient reduce-scatter to a step's last micro-batch
 * when the unsharded gradients still fit. When nothing fits on the GPU and the mode may change (`parallelFixed`
 * false, or FSDP already), FSDP2 with CPU offload: weights, gradients and AdamW state move to host memory
 * (how an 8B model trains on one 80 GB GPU; AdamW then steps on the CPU). */
export function chooseMemoryPlan(m: Omit<MemoryInput, "acEvery" | "cpuOffload" | "deferReduce">, usable: number, opts: { acEvery?: number; parallelFixed: boolean; defer?: boolean }): MemoryPlan {
  const pick = (input: Omit<MemoryInput, "acEvery">) => {
    if (opts.acEvery === undefined) return chooseActivationCheckpointing(input, usable);
    const estimate = estimateMemory({ ...input, acEvery: opts.acEvery });
    return { acEvery: opts.acEvery, fits: estimate.peak <= usable, estimate };
  };
  const c = pick(m);
  if (c.fits) {
    if (m.parallel === "fsdp" && m.world > 1 && opts.defer !== false) {
      const deferred = estimateMemory({ ...m, acEvery: c.acEvery, deferReduce: true });
      if (deferred.peak <= usable) return { acEvery: c.acEvery, parallel: m.parallel, cpuOffload: false, deferReduce: true, fits: true, estimate: deferred };
    }
    return { acEvery: c.acEvery, parallel: m.parallel, cpuOffload: false, deferReduce: false, fits: true, estimate: c.estimate };
  }
  if (!opts.parallelFixed || m.parallel === "fsdp") {
    // Deferred reduction first: host memory is then read and written once per step, not once per micro-batch.
    for (const deferReduce of opts.defer === false ? [false] : [true, false]) {
      const off = pick({ ...m, parallel: "fsdp", cpuOffload: true, deferReduce });
      if (off.fits) return { acEvery: off.acEvery, parallel: "fsdp", cpuOffload: true, deferReduce, fits: true, estimate: off.estimate };
    }
  }
  return { acEvery: c.acEvery, parallel: m.parallel, cpuOffload: false, deferReduce: false, fits: false, estimate: c.estimate };
}
