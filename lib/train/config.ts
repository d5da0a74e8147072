// Builds the trainer's run config (trainer/megamath_trainer/config.py TrainConfig, as JSON) and the human plan
// from a mixture folder (mixture.json written by `megamath mix`) + a model preset + flags.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { flopsPerToken, paramCount, resolvePreset, type PresetInfo } from "./presets.js";
import { lrAt, lrLandmarks, type PhaseSpec } from "./schedule.js";
import { chooseMemoryPlan, describeAc, type MemoryEstimate, type ParallelMode } from "./memory.js";

export class TrainConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainConfigError";
  }
}

export interface MixtureManifest {
  name: string;
  seed: number;
  total_tokens: number;
  tokens_written?: number;
  tokenizer: { name: string; vocab_size: number; bos_id: number; eos_id: number };
  sources: { name: string; weight: number; prefix: string; planned_tokens?: number; tokens_written?: number; available_tokens?: number }[];
}

export interface TrainOptions {
  mixture: string;
  output: string;
  preset: string;
  phase: "stable" | "decay";
  initHf?: string;
  initCheckpoint?: string;
  hfBase?: string;
  tokens?: number;
  steps?: number;
  lr?: number;
  finalLrFactor?: number;
  warmup?: number;
  seqLen?: number;
  globalBatch?: number;
  microBatch?: number;
  seed?: number;
  /** Processes per node (GPUs per node; CPU processes with --device cpu). */
  procsPerNode: number;
  nodes?: number;
  device?: "auto" | "cpu" | "cuda";
  docMasking?: boolean;
  /** true: recompute every layer (same as acEvery 1). */
  activationCheckpointing?: boolean;
  /** Recompute every k-th layer (0 = none); default: the least recompute whose memory estimate fits gpuMemoryGb. */
  acEvery?: number;
  /** Memory per GPU the estimate must fit (GB = 1e9 bytes; default 80, an H100/A100 80GB). */
  gpuMemoryGb?: number;
  compile?: "auto" | "on" | "off";
  attention?: "auto" | "flex" | "sdpa" | "math";
  precision?: "auto" | "bf16" | "fp32";
  parallel?: "auto" | "fsdp" | "ddp" | "none";
  logEvery?: number;
  checkpointEvery?: number;
  keepCheckpoints?: number;
  exportHf?: boolean;
  /** RUN_DIR is deleted before the run (so an existing checkpoint there will not be resumed). */
  force?: boolean;
}

export interface TrainPlan {
  mixture: string;
  run_dir: string;
  model: { preset: string; params: number; flops_per_token: number; rope_factor: number; tied_embeddings: boolean; init: string };
  phase: PhaseSpec["phase"];
  world_size: number;
  nodes: number;
  procs_per_node: number;
  seq_len: number;
  global_batch: number;
  micro_batch: number;
  grad_accum_steps: number;
  tokens_per_step: number;
  steps: number;
  tokens: number;
  lr: { peak: number; final_factor: number | null; warmup_steps: number; at: { step: number; lr: number }[] };
  sources: { name: string; weight: number; tokens: number; available_tokens: number; epochs: number }[];
  /** Estimated peak memory per GPU (bytes) and the activation checkpointing chosen from it. */
  memory: MemoryEstimate & {
    parallel: ParallelMode; ac_every: number; ac_chosen: "auto" | "given"; gpu_memory: number; usable: number; fits: boolean; loss_chunk_tokens: number;
    /** Ranks one parameter is sharded over (FSDP; with HSDP the ranks of a node). */
    shard_ranks: number;
    cpu_offload: boolean;
    defer_grad_reduce: boolean;
  };
  /** GPU-hours for the whole phase if the run reaches 40% MFU on H100s (the trainer-anchors pass bar). */
  h100_hours_at_40pct_mfu: number;
  warnings: string[];
}

export function readMixture(dir: string): MixtureManifest {
  const path = join(dir, "mixture.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TrainConfigError(err.code === "ENOENT" ? `${path}: not found (make the mixture with 'megamath mix')` : `${path}: ${err.message}`);
  }
  const m = raw as MixtureManifest;
  if (!m || !Array.isArray(m.sources) || m.sources.length === 0) throw new TrainConfigError(`${path}: "sources" must be a non-empty list`);
  if (!m.tokenizer || !(m.tokenizer.vocab_size > 0)) throw new TrainConfigError(`${path}: "tokenizer.vocab_size" is missing`);
  m.sources.forEach((s, i) => {
    if (typeof s.prefix !== "string" || !(s.weight > 0)) {
      throw new TrainConfigError(`${path}: sources[${i}] needs a "prefix" and a positive "weight"`);
    }
  });
  return m;
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new TrainConfigError(`${name} must be a positive integer, got ${v}`);
}

export function buildRunConfig(o: TrainOptions): { config: Record<string, unknown>; plan: TrainPlan } {
  const preset: PresetInfo = (() => {
    try {
      return resolvePreset(o.preset);
    } catch (e) {
      throw new TrainConfigError((e as Error).message);
    }
  })();
  const mixDir = resolve(o.mixture);
  const mix = readMixture(mixDir);
  const sources = mix.sources.map((s) => {
    const prefix = isAbsolute(s.prefix) ? s.prefix : join(mixDir, s.prefix);
    for (const ext of [".bin", ".idx"]) {
      if (!existsSync(prefix + ext)) throw new TrainConfigError(`source "${s.name}": ${prefix}${ext} not found (listed in ${join(mixDir, "mixture.json")})`);
    }
    return { name: s.name, prefix, weight: s.weight, available: s.tokens_written ?? s.planned_tokens ?? s.available_tokens ?? 0 };
  });
  const tiny = preset.name === "tiny";
  if (!tiny && mix.tokenizer.vocab_size > preset.vocab) {
    throw new TrainConfigError(`mixture tokenizer ${mix.tokenizer.name} has ${mix.tokenizer.vocab_size} ids, more than ${preset.name}'s vocabulary (${preset.vocab})`);
  }
  if (o.phase === "decay" && !o.initCheckpoint && !o.initHf) {
    throw new TrainConfigError("a decay phase starts from a Stable checkpoint: give --init-checkpoint RUN/checkpoints/step-N (or --init-hf DIR)");
  }
  // A run folder with a checkpoint resumes from it: the branch's source checkpoint is no longer read (it may have
  // been pruned by the Stable run meanwhile), and the LR is the one the run recorded.
  const resumeFrom = o.force ? null : latestCheckpoint(resolve(o.output));
  if (o.initCheckpoint && !resumeFrom && !existsSync(join(o.initCheckpoint, "state.json"))) {
    throw new TrainConfigError(`--init-checkpoint ${o.initCheckpoint}: not a trainer checkpoint (no state.json)`);
  }
  if (o.initHf && !existsSync(join(o.initHf, "config.json"))) throw new TrainConfigError(`--init-hf ${o.initHf}: no config.json there`);
  for (const [k, v] of Object.entries({ "--seq-len": o.seqLen, "--global-batch": o.globalBatch, "--micro-batch": o.microBatch, "--steps": o.steps, "--nodes": o.nodes, "--gpus": o.procsPerNode, "--log-every": o.logEvery, "--checkpoint-every": o.checkpointEvery })) positiveInt(k, v);

  const seqLen = o.seqLen ?? preset.seqLen;
  const globalBatch = o.globalBatch ?? preset.globalBatch;
  const nodes = o.nodes ?? 1;
  const world = nodes * o.procsPerNode;
  let microBatch = o.microBatch ?? preset.microBatch;
  if (o.microBatch === undefined) while (microBatch > 1 && globalBatch % (microBatch * world) !== 0) microBatch--;
  if (globalBatch % (microBatch * world) !== 0) {
    throw new TrainConfigError(`--global-batch ${globalBatch} is not a multiple of --micro-batch ${microBatch} x ${world} processes`);
  }
  const tokensPerStep = seqLen * globalBatch;
  const budget = o.tokens ?? mix.total_tokens;
  // Rounded to the nearest step, as recipe.md §8 counts them (200B -> 47,684 steps, 20B -> 4,768).
  const steps = o.steps ?? Math.round(budget / tokensPerStep);
  if (steps < 1) {
    throw new TrainConfigError(`the budget of ${budget} tokens is less than one step (${globalBatch} x ${seqLen} = ${tokensPerStep} tokens); pass --steps N or a smaller --global-batch/--seq-len`);
  }
  // A branch continues at the LR its checkpoint's run ended with (recipe: the Decay cosine starts at the final
  // Stable LR), not at the preset's default, which may differ when the Stable run had its own --lr.
  const branchLr = o.initCheckpoint && !resumeFrom ? checkpointLastLr(o.initCheckpoint) : null;
  const resumedPeak = o.initCheckpoint && resumeFrom ? recordedPeak(resumeFrom) : null;
  const lr = o.lr ?? resumedPeak ?? branchLr ?? preset.stableLr;
  const phase: PhaseSpec = { phase: o.phase, peakLr: lr, steps, finalFactor: o.finalLrFactor ?? 0.1, warmup: o.warmup ?? 0 };
  const vocab = tiny ? mix.tokenizer.vocab_size : preset.vocab;
  const tokens = steps * tokensPerStep;
  const weightSum = sources.reduce((a, s) => a + s.weight, 0);

  const memory = planMemory(o, preset, vocab, seqLen, microBatch, world, nodes, tiny);
  const config: Record<string, unknown> = {
    run_dir: resolve(o.output),
    sources: sources.map((s) => ({ prefix: s.prefix, weight: s.weight, name: s.name })),
    model: preset.name,
    model_overrides: tiny ? { vocab_size: mix.tokenizer.vocab_size, bos_id: mix.tokenizer.bos_id, eos_id: mix.tokenizer.eos_id } : {},
    init_hf: o.initHf ? resolve(o.initHf) : null,
    init_checkpoint: o.initCheckpoint ? resolve(o.initCheckpoint) : null,
    hf_base: o.hfBase ? resolve(o.hfBase) : null,
    phase: o.phase,
    // A branch without --lr leaves it to the trainer, which takes it from the checkpoint it starts from.
    lr: o.lr ?? (o.initCheckpoint ? null : lr),
    final_lr_factor: phase.finalFactor,
    warmup_steps: phase.warmup,
    train_steps: steps,
    seq_len: seqLen,
    global_batch_size: globalBatch,
    micro_batch_size: microBatch,
    seed: o.seed ?? 1234,
    data_seed: mix.seed ?? 0,
    device: o.device ?? "auto",
    doc_masking: o.docMasking ?? true,
    activation_checkpointing: memory.ac_every,
    cpu_offload: memory.cpu_offload,
    defer_grad_reduce: memory.defer_grad_reduce,
    loss_chunk_tokens: LOSS_CHUNK_TOKENS,
    compile: o.compile ?? "auto",
    attention: o.attention ?? "auto",
    precision: o.precision ?? "auto",
    parallel: o.parallel ?? "auto",
    log_every: o.logEvery ?? 10,
    checkpoint_every: o.checkpointEvery ?? 500,
    keep_checkpoints: o.keepCheckpoints ?? 2,
    export_hf: o.exportHf ?? true,
    mixture: { dir: mixDir, name: mix.name, seed: mix.seed, total_tokens: mix.total_tokens, tokenizer: mix.tokenizer },
  };
  const fpt = flopsPerToken(preset, seqLen, vocab);
  const plan: TrainPlan = {
    mixture: mixDir,
    run_dir: resolve(o.output),
    model: {
      preset: preset.name, params: paramCount(preset, vocab), flops_per_token: fpt, rope_factor: preset.ropeFactor,
      tied_embeddings: preset.tied, init: o.initCheckpoint ? `checkpoint ${resolve(o.initCheckpoint)}` : o.initHf ? `HF ${resolve(o.initHf)}` : "random (seeded)",
    },
    phase: o.phase,
    world_size: world,
    nodes,
    procs_per_node: o.procsPerNode,
    seq_len: seqLen,
    global_batch: globalBatch,
    micro_batch: microBatch,
    grad_accum_steps: globalBatch / (microBatch * world),
    tokens_per_step: tokensPerStep,
    steps,
    tokens,
    lr: { peak: lr, final_factor: o.phase === "decay" ? phase.finalFactor : null, warmup_steps: phase.warmup, at: lrLandmarks(phase) },
    sources: sources.map((s) => {
      const t = Math.round((tokens * s.weight) / weightSum);
      return { name: s.name, weight: s.weight / weightSum, tokens: t, available_tokens: s.available, epochs: s.available ? t / s.available : NaN };
    }),
    memory,
    h100_hours_at_40pct_mfu: (fpt * tokens) / (0.4 * 989e12) / 3600,
    warnings: [],
  };
  if (branchLr !== null && Math.abs(lr - branchLr) > 1e-9 * branchLr) {
    plan.warnings.push(`--lr ${lr} differs from the LR ${branchLr} that ${resolve(o.initCheckpoint!)} ended with: the LR jumps at the branch (leave --lr out to continue from it)`);
  }
  if (!memory.fits && !tiny) {
    plan.warnings.push(`estimated peak ${gb(memory.peak)} per GPU exceeds ${gb(memory.usable)} usable of ${memory.gpu_memory} GB even with activation checkpointing ${describeAc(memory.ac_every)}${memory.parallel === "fsdp" ? "" : " (FSDP2 CPU offload was not tried: --parallel is fixed)"}: use more GPUs (FSDP shards weights, gradients and AdamW state), --parallel auto, a shorter --seq-len or --micro-batch 1`);
  }
  const packed = mix.tokens_written ?? mix.total_tokens;
  if (tokens > packed * 1.05) {
    plan.warnings.push(`the run reads ${fmtCount(tokens)} tokens but the mixture was packed for ${fmtCount(packed)}: every source repeats about ${(tokens / packed).toFixed(1)} times (re-pack with 'megamath mix --tokens ${fmtCount(tokens)}' or lower --steps/--tokens)`);
  }
  return { config, plan };
}

/** The trainer's loss chunk: only this many tokens' fp32 logits exist at a time (trainer config loss_chunk_tokens). */
export const LOSS_CHUNK_TOKENS = 2048;
/** Share of a GPU's memory the estimate may fill: the rest is CUDA context, NCCL buffers and allocator slack. */
export const USABLE_FRACTION = 0.9;

function planMemory(o: TrainOptions, preset: PresetInfo, vocab: number, seqLen: number, microBatch: number, world: number, nodes: number, tiny: boolean): TrainPlan["memory"] {
  const parallel: ParallelMode = o.parallel === "ddp" || o.parallel === "none" ? o.parallel : world > 1 || o.parallel === "fsdp" ? "fsdp" : "none";
  const gpuMemory = o.gpuMemoryGb ?? 80;
  if (!(gpuMemory > 0)) throw new TrainConfigError(`--gpu-memory must be a positive number of GB, got ${gpuMemory}`);
  const usable = gpuMemory * 1e9 * USABLE_FRACTION;
  // The trainer's automatic FSDP2 mesh (fsdp2.mesh_shape): shard within a node, replicate across nodes (HSDP).
  const shardRanks = parallel === "fsdp" ? (nodes > 1 ? o.procsPerNode : world) : 1;
  const input = {
    preset: { ...preset, vocab }, seqLen, microBatch, world: shardRanks, parallel, lossChunk: LOSS_CHUNK_TOKENS,
    docMasking: o.docMasking ?? true, attention: o.attention === "sdpa" || o.attention === "math" ? "sdpa" as const : "flex" as const,
  };
  const given = o.acEvery ?? (o.activationCheckpointing ? 1 : tiny ? 0 : undefined);
  if (given !== undefined && !(Number.isInteger(given) && given >= 0)) throw new TrainConfigError(`--ac-every must be a whole number >= 0, got ${given}`);
  // The toy preset runs on CPU in tests: never offload or defer there (nothing to save; DDP is what CPU runs).
  const c = chooseMemoryPlan(input, usable, { acEvery: given, parallelFixed: tiny || (o.parallel !== undefined && o.parallel !== "auto"), defer: !tiny });
  return {
    ...c.estimate, parallel: c.parallel, ac_every: c.acEvery, ac_chosen: given === undefined ? "auto" : "given", gpu_memory: gpuMemory, usable,
    fits: c.fits, loss_chunk_tokens: LOSS_CHUNK_TOKENS, shard_ranks: c.parallel === "fsdp" ? shardRanks : 1,
    cpu_offload: c.cpuOffload, defer_grad_reduce: c.deferReduce,
  };
}

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

interface CheckpointState {
  last_lr?: number;
  step?: number;
  schedule?: { phase: "stable" | "decay"; peak: number; steps: number; final_factor: number; warmup: number };
}

function readCheckpointState(dir: string): CheckpointState {
  try {
    return JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as CheckpointState;
  } catch (e) {
    throw new TrainConfigError(`checkpoint ${dir}: cannot read state.json (${(e as Error).message})`);
  }
}

/** The newest complete checkpoint of a run folder (the trainer's checkpoints/step-N with a state.json), or null. */
export function latestCheckpoint(runDir: string): string | null {
  const root = join(runDir, "checkpoints");
  let best: [number, string] | null = null;
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return null;
  }
  for (const name of names) {
    const m = /^step-(\d+)$/.exec(name);
    if (m && existsSync(join(root, name, "state.json")) && (!best || Number(m[1]) > best[0])) best = [Number(m[1]), join(root, name)];
  }
  return best ? best[1] : null;
}

function recordedPeak(dir: string): number | null {
  const peak = readCheckpointState(dir).schedule?.peak;
  return typeof peak === "number" ? peak : null;
}

/** The LR of the last update a trainer checkpoint's run applied (state.json), or null when it does not say. */
export function checkpointLastLr(dir: string): number | null {
  const state = readCheckpointState(dir);
  if (typeof state.last_lr === "number") return state.last_lr;
  const s = state.schedule;
  if (!s || !(typeof state.step === "number" && state.step >= 1)) return null;   // written before last_lr was
  return lrAt({ phase: s.phase, peakLr: s.peak, steps: s.steps, finalFactor: s.final_factor, warmup: s.warmup }, state.step - 1);
}

function fmtCount(n: number): string {
  for (const [unit, v] of [["T", 1e12], ["B", 1e9], ["M", 1e6], ["k", 1e3]] as const) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)}${unit}`;
  return String(n);
}

/** The --dry-run text. */
export function formatPlan(p: TrainPlan): string {
  const lines = [
    `megamath train plan (${p.phase} phase)`,
    `  mixture      ${p.mixture}`,
    `  run folder   ${p.run_dir}`,
    `  model        ${p.model.preset}: ${fmtCount(p.model.params)} params, rope llama3 factor ${p.model.rope_factor}, ${p.model.tied_embeddings ? "tied" : "untied"} embeddings; init ${p.model.init}`,
    `  processes    ${p.world_size} (${p.nodes} node(s) x ${p.procs_per_node})`,
    `  batch        ${p.global_batch} sequences x ${p.seq_len} tokens = ${p.tokens_per_step} tokens/step (micro-batch ${p.micro_batch}, ${p.grad_accum_steps} accumulation steps)`,
    `  budget       ${p.steps} steps = ${p.tokens} tokens (${fmtCount(p.tokens)})`,
    `  LR           ${p.phase === "stable" ? `constant ${p.lr.peak}` : `cosine ${p.lr.peak} -> ${p.lr.peak * (p.lr.final_factor ?? 0)} (${(p.lr.final_factor ?? 0) * 100}%)`}, warmup ${p.lr.warmup_steps}`,
    ...p.lr.at.map((x) => `    step ${String(x.step).padStart(8)}  lr ${x.lr.toExponential(4)}`),
    `  sources`,
    ...p.sources.map((s) => `    ${s.name.padEnd(28)} ${(s.weight * 100).toFixed(2).padStart(6)}%  ${fmtCount(s.tokens).padStart(8)} tokens of ${fmtCount(s.available_tokens)} packed (${Number.isFinite(s.epochs) ? s.epochs.toFixed(3) : "?"} epochs)`),
    `  estimate     ${p.model.flops_per_token.toExponential(3)} FLOPs/token; ${p.h100_hours_at_40pct_mfu.toFixed(1)} H100-hours at 40% MFU`,
    `  memory/GPU   ${gb(p.memory.peak)} peak (estimate, eager; ${p.memory.parallel === "fsdp" ? `FSDP sharded over ${p.memory.shard_ranks}${p.memory.shard_ranks < p.world_size ? ` ranks, replicated x${p.world_size / p.memory.shard_ranks} (HSDP)` : ""}${p.memory.cpu_offload ? ", CPU offload" : ""}` : p.memory.parallel === "ddp" ? "DDP replica" : "one process"}) of ${gb(p.memory.usable)} usable on ${p.memory.gpu_memory} GB: ${p.memory.fits ? "fits" : "DOES NOT FIT"}`,
    `               weights ${gb(p.memory.weights)}, gradients ${gb(p.memory.gradients)}, AdamW ${gb(p.memory.optimizer)}, buffers ${gb(p.memory.buffers)}, activations ${gb(p.memory.activations)}, loss ${gb(p.memory.loss)} (chunks of ${p.memory.loss_chunk_tokens} tokens)`,
    `               activation checkpointing: ${describeAc(p.memory.ac_every)} (${p.memory.ac_chosen === "auto" ? "chosen to fit; --ac-every K to override" : "as given"})`,
    ...(p.memory.cpu_offload ? [`               CPU offload: fp32 weights, gradients and AdamW state in host memory, ${gb(p.memory.host)} per process (nothing else fits the GPU; AdamW steps on the CPU)`] : []),
    ...(p.memory.parallel !== "fsdp" ? [] : p.memory.cpu_offload
      ? [`               host <-> GPU: ${p.memory.defer_grad_reduce ? "once per step (bf16 weights and unsharded fp32 gradients stay on the GPU across micro-batches)" : "every micro-batch (unsharded gradients would not fit: slow)"}`]
      : [`               gradient reduce-scatter: ${p.memory.defer_grad_reduce ? "once per step (unsharded fp32 gradients fit)" : "every micro-batch (unsharded gradients would not fit)"}${p.memory.shard_ranks < p.world_size ? "; cross-node all-reduce once per step" : ""}`]),
    ...p.warnings.map((w) => `  warning: ${w}`),
  ];
  return lines.join("\n") + "\n";
}
