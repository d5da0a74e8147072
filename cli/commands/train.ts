// megamath train: continue pre-training Llama-3 on a packed mixture with the bundled PyTorch trainer (trainer/).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { defineCommand, UsageError } from "../command.js";
import { writeFileAtomic } from "../../lib/io/atomic.js";
import { parseTokenCount } from "../../lib/mix/index.js";
import {
  PRESET_NAMES, TrainConfigError, buildRunConfig, checkEnv, chooseLauncher, findTorchPython, formatPlan, processPlans,
  runTrainer, type Launcher, type TrainOptions,
} from "../../lib/train/index.js";

export default defineCommand({
  name: "train",
  usage: "train MIXTURE_DIR -o RUN_DIR [--preset 1b|3b|8b|tiny] [--phase stable|decay] [--init-hf DIR | --init-checkpoint DIR] [--dry-run]",
  positionals: 1,
  details: [
    "Stable phase: constant LR (1B 5e-5, 3B 2e-5, 8B 1e-5), warmup 0, AdamW weight decay 0.1 (recipe). AdamW betas",
    "0.9/0.95, eps 1e-8 and clip 1.0 are UNVERIFIED for OctoThinker (nanotron/torchtitan defaults, not stated by the paper).",
    "Document masking is on by default; OctoThinker's nanotron Llama path had none: --no-doc-masking is the paper-parity setting.",
    "Decay phase: starts from a Stable checkpoint (weights + AdamW state, --init-checkpoint RUN/checkpoints/step-N),",
    "a fresh cosine to 10% of the LR over its own budget, on its own mixture. The budget defaults to the mixture's",
    "total_tokens; global batch 512 x 8192 tokens by gradient accumulation whatever the number of GPUs.",
    "Runs one process (python), one node of GPUs (torchrun --standalone) or several nodes (torchrun with",
    "--nodes N --rdzv-endpoint HOST:PORT on every node, e.g. under srun; see trainer/README.md). Re-running with the",
    "same RUN_DIR resumes from its latest checkpoint. Exit status: the trainer's (3 = the loss became NaN/inf).",
  ].join("\n"),
  options: {
    mixture: { type: "string", placeholder: "DIR", description: "Mixture folder (mixture.json from 'megamath mix'); or the first positional." },
    output: { type: "string", short: "o", placeholder: "DIR", description: "Run folder (checkpoints, metrics.jsonl, config.json, hf/)." },
    preset: { type: "string", choices: PRESET_NAMES, default: "1b", description: "Model: Llama-3.2-1B/3B, Llama-3.1-8B, or tiny (CPU tests)." },
    phase: { type: "string", choices: ["stable", "decay"], default: "stable", description: "Constant LR, or cosine decay to 10%." },
    "init-hf": { type: "string", placeholder: "DIR", description: "Initial weights: a Hugging Face folder (config.json + safetensors)." },
    "init-checkpoint": { type: "string", placeholder: "DIR", description: "Decay branch: a Stable run's checkpoint folder." },
    "hf-base": { type: "string", placeholder: "DIR", description: "Copy tokenizer files into the HF export from here (default: --init-hf)." },
    tokens: { type: "string", placeholder: "N", description: "Token budget (e.g. 200B, 20B); default: the mixture's total_tokens." },
    steps: { type: "integer", description: "Budget in optimizer steps (instead of --tokens)." },
    lr: { type: "number", description: "Peak LR (default: the preset's Stable LR)." },
    "final-lr-factor": { type: "number", default: 0.1, description: "Decay: final LR as a fraction of the peak." },
    warmup: { type: "integer", default: 0, description: "Linear warmup steps (the recipe uses 0)." },
    "seq-len": { type: "integer", description: "Tokens per sequence (default 8192; tiny: 128)." },
    "global-batch": { type: "integer", description: "Sequences per optimizer step (default 512; tiny: 8)." },
    "micro-batch": { type: "integer", description: "Sequences per forward pass per GPU (default: preset's, reduced to divide the batch)." },
    seed: { type: "integer", default: 1234, description: "Model init seed (the data order follows the mixture's seed)." },
    gpus: { type: "integer", description: "Processes per node (default: all visible GPUs, or 1 on CPU)." },
    nodes: { type: "integer", default: 1, description: "Nodes (multi-node runs need --rdzv-endpoint)." },
    "rdzv-endpoint": { type: "string", placeholder: "HOST:PORT", description: "torchrun rendezvous for multi-node runs." },
    "rdzv-id": { type: "string", default: "megamath", description: "torchrun rendezvous id." },
    launcher: { type: "string", choices: ["auto", "python", "torchrun", "local"], default: "auto", description: "How to start the processes." },
    device: { type: "string", choices: ["auto", "cpu", "cuda"], default: "auto", description: "Where to train." },
    python: { type: "string", placeholder: "PATH", description: "Python with torch (default: $MEGAMATH_PYTHON, /usr/bin/python3, python3)." },
    "no-doc-masking": { type: "boolean", description: "Plain causal attention across packed documents, as OctoThinker's nanotron path (the paper-parity setting; default: block-causal + per-document positions)." },
    "activation-checkpointing": { type: "boolean", description: "Recompute every layer in backward (same as --ac-every 1)." },
    "ac-every": { type: "integer", description: "Recompute every K-th layer in backward (0 = none, 1 = all; default: the least recompute whose --dry-run memory estimate fits --gpu-memory)." },
    "gpu-memory": { type: "number", default: 80, description: "GB per GPU the memory estimate must fit (90% of it is used)." },
    compile: { type: "string", choices: ["auto", "on", "off"], default: "auto", description: "torch.compile per layer (auto: on with CUDA and torch >= 2.2)." },
    attention: { type: "string", choices: ["auto", "flex", "sdpa", "math"], default: "auto", description: "Attention kernel." },
    precision: { type: "string", choices: ["auto", "bf16", "fp32"], default: "auto", description: "auto: bf16 compute with fp32 master weights on GPU, fp32 on CPU." },
    parallel: { type: "string", choices: ["auto", "fsdp", "ddp", "none"], default: "auto", description: "Data parallelism (auto: FSDP on several GPUs)." },
    "log-every": { type: "integer", default: 10, description: "Report loss, tokens/s/GPU and MFU every N steps." },
    "checkpoint-every": { type: "integer", default: 500, description: "Checkpoint every N steps (and at the end)." },
    "keep-checkpoints": { type: "integer", default: 2, description: "Checkpoints kept (older ones are deleted)." },
    "no-export-hf": { type: "boolean", description: "Skip the Hugging Face export (RUN_DIR/hf) at the end." },
    force: { type: "boolean", description: "Delete RUN_DIR first (start over instead of resuming)." },
    "dry-run": { type: "boolean", description: "Print the plan (steps, tokens, LR at each phase landmark, sources) and the launch command; run nothing." },
    json: { type: "boolean", description: "With --dry-run: print the plan as JSON." },
  },
  async run({ positionals, opts, ctx }) {
    const mixture = opts.mixture ?? positionals[0];
    if (!mixture) throw new UsageError("give the mixture folder (megamath train MIXTURE_DIR -o RUN_DIR)");
    if (positionals.length > (opts.mixture ? 0 : 1)) throw new UsageError(`unexpected argument "${positionals.at(-1)}"`);
    const dryRun = Boolean(opts["dry-run"]);
    const output = opts.output ?? (dryRun ? join("runs", `${opts.phase}`) : undefined);
    if (!output) throw new UsageError("--output RUN_DIR is required");
    if (opts.tokens !== undefined && opts.steps !== undefined) throw new UsageError("give --tokens or --steps, not both");
    let tokens: number | undefined;
    if (opts.tokens !== undefined) {
      try {
        tokens = parseTokenCount(opts.tokens);
      } catch (e) {
        throw new UsageError(`--tokens: ${(e as Error).message}`);
      }
    }
    const device = opts.device;
    const nodes = opts.nodes;
    // The environment decides the default process count, so it is probed before planning (not for --dry-run).
    const env = dryRun ? null : findTorchPython(opts.python ?? undefined);
    // Without a probe (--dry-run), plan GPU runs for the real presets and CPU for the tiny one.
    const onGpu = env ? device !== "cpu" && env.cuda_available : device === "cuda" || (device === "auto" && opts.preset !== "tiny");
    const procsPerNode = opts.gpus ?? (env && onGpu ? Math.max(1, env.cuda_devices) : 1);

    const trainOpts: TrainOptions = {
      mixture, output, preset: opts.preset, phase: opts.phase,
      initHf: opts["init-hf"], initCheckpoint: opts["init-checkpoint"],
      hfBase: opts["hf-base"], tokens, steps: opts.steps,
      lr: opts.lr, finalLrFactor: opts["final-lr-factor"], warmup: opts.warmup,
      seqLen: opts["seq-len"], globalBatch: opts["global-batch"],
      microBatch: opts["micro-batch"], seed: opts.seed, procsPerNode, nodes, device,
      docMasking: !opts["no-doc-masking"], activationCheckpointing: Boolean(opts["activation-checkpointing"]),
      acEvery: opts["ac-every"], gpuMemoryGb: opts["gpu-memory"],
      compile: opts.compile, attention: opts.attention, precision: opts.precision,
      parallel: opts.parallel, logEvery: opts["log-every"], checkpointEvery: opts["checkpoint-every"],
      keepCheckpoints: opts["keep-checkpoints"], exportHf: !opts["no-export-hf"], force: Boolean(opts.force),
    };
    let built;
    try {
      built = buildRunConfig(trainOpts);
    } catch (e) {
      if (e instanceof TrainConfigError) throw new UsageError(e.message);
      throw e;
    }
    const { config, plan } = built;
    const configPath = join(plan.run_dir, "run-config.json");
    const launch = {
      python: env?.python ?? (opts.python ?? process.env.MEGAMATH_PYTHON ?? "python3"), configPath, nodes,
      procsPerNode, onGpu, launcher: opts.launcher, rdzvEndpoint: opts["rdzv-endpoint"],
      rdzvId: opts["rdzv-id"],
    };
    let commands: string[];
    try {
      commands = processPlans(launch).map((p) => [...Object.entries(p.env).map(([k, v]) => `${k}=${v}`), ...p.argv].join(" "));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (dryRun) {
      if (opts.json) ctx.stdout.write(JSON.stringify({ plan, config, launcher: chooseLauncher(launch), commands }, null, 2) + "\n");
      else {
        ctx.stdout.write(formatPlan(plan));
        ctx.stdout.write(`  launch (${chooseLauncher(launch)}, PYTHONPATH=<megamath>/trainer)\n${commands.map((c) => `    ${c}`).join("\n")}\n`);
        ctx.stdout.write("  (dry run: Python, torch and GPUs were not checked; nothing was written)\n");
      }
      return 0;
    }
    for (const w of [...plan.warnings, ...checkEnv(env!, { device, procsPerNode, nodes })]) ctx.log.warn(w);
    if (opts.force) rmSync(plan.run_dir, { recursive: true, force: true });
    await writeFileAtomic(configPath, JSON.stringify(config, null, 2) + "\n");
    ctx.log.info(`train: ${plan.phase} phase, ${plan.model.preset}, ${plan.steps} steps x ${plan.tokens_per_step} tokens on ${plan.world_size} process(es) with ${env!.python} (torch ${env!.torch}); run folder ${plan.run_dir}`);
    return runTrainer(launch, ctx.log);
  },
});
