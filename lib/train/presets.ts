// Model presets as the launcher needs them: shapes for parameter/FLOP counts in the plan, the Stable LR of the
// OctoThinker recipe, and sensible run defaults. The trainer (trainer/megamath_trainer/config.py) holds the same
// shapes; test/trainer checks that the two agree.

export interface PresetInfo {
  /** Name the Python trainer knows. */
  name: string;
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocab: number;
  tied: boolean;
  ropeFactor: number;
  /** Stable-stage LR (recipe.md §4: 1B 5e-5, 3B 2e-5, 8B 1e-5). */
  stableLr: number;
  /** Defaults for this preset's runs (the tiny one is for CPU smoke runs). */
  seqLen: number;
  globalBatch: number;
  microBatch: number;
}

export const MODEL_PRESETS: Record<string, PresetInfo> = {
  "llama3.2-1b": { name: "llama3.2-1b", dim: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256, tied: true, ropeFactor: 32, stableLr: 5e-5, seqLen: 8192, globalBatch: 512, microBatch: 2 },
  "llama3.2-3b": { name: "llama3.2-3b", dim: 3072, layers: 28, heads: 24, kvHeads: 8, ffn: 8192, vocab: 128256, tied: true, ropeFactor: 32, stableLr: 2e-5, seqLen: 8192, globalBatch: 512, microBatch: 1 },
  "llama3.1-8b": { name: "llama3.1-8b", dim: 4096, layers: 32, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256, tied: false, ropeFactor: 8, stableLr: 1e-5, seqLen: 8192, globalBatch: 512, microBatch: 1 },
  tiny: { name: "tiny", dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 192, vocab: 512, tied: true, ropeFactor: 32, stableLr: 1e-3, seqLen: 128, globalBatch: 8, microBatch: 4 },
};

export const PRESET_NAMES = ["1b", "3b", "8b", "tiny", ...Object.keys(MODEL_PRESETS).filter((k) => k !== "tiny")];

export function resolvePreset(name: string): PresetInfo {
  const alias: Record<string, string> = { "1b": "llama3.2-1b", "3b": "llama3.2-3b", "8b": "llama3.1-8b" };
  const p = MODEL_PRESETS[alias[name.toLowerCase()] ?? name.toLowerCase()];
  if (!p) throw new Error(`unknown model preset "${name}"; choose one of ${PRESET_NAMES.join(", ")}`);
  return p;
}

/** Parameters, counting the embedding once (tied) or twice. */
export function paramCount(p: PresetInfo, vocab = p.vocab): number {
  const kv = p.kvHeads * (p.dim / p.heads);
  const perLayer = 2 * p.dim * p.dim + 2 * p.dim * kv + 3 * p.dim * p.ffn + 2 * p.dim;
  return p.layers * perLayer + p.dim + vocab * p.dim * (p.tied ? 1 : 2);
}

/** torchtitan's FLOPs per token (6 x matmul params incl. lm_head + 12 L d S); the trainer logs MFU with it. */
export function flopsPerToken(p: PresetInfo, seqLen: number, vocab = p.vocab): number {
  const matmul = paramCount(p, vocab) - vocab * p.dim * (p.tied ? 0 : 1);
  return 6 * matmul + 12 * p.layers * p.dim * seqLen;
}
