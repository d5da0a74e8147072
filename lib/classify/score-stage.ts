// The `score` stage: adds `math_score` = P(positive label | MegaMath-preprocessed text) from a fastText model, and
// optionally `lang` / `lang_score` from lid.176.ftz, to every row, computed in N worker threads with the row order
// kept. Scores are columns, not decisions: thresholds are applied later by the `filter` stage (the optional
// English filter here is MegaMath's language rule, for convenience).
//
// Defined behaviour for odd documents:
// - empty text (or text with nothing left after preprocessing): scored like fastText scores an empty line (only
//   the end-of-line token), i.e. the same number MegaMath's Python code gets; never NaN.
// - text longer than `maxChars` UTF-16 code units (default 1,000,000, about 1 MB): scored on its first maxChars
//   units, cut on a code-point boundary; only the bytes needed are decoded, so a 50 MB row costs as much as a
//   1 MB one. Counted in the stage counter `truncated`.
// - lone surrogates cannot arrive from Arrow (readers decode UTF-8 with replacement), and would be punctuation.
import { withColumn, filterRows, type Batch } from "../arrow/batch.js";
import { TaskPool, orderedMap, packTexts, packedTransfer, workerFile, type PackedTexts } from "../runtime/pool.js";
import type { Stage, StageContext } from "../runtime/stage.js";
import { FastTextModel } from "../../classifiers/fasttext/model.js";
import { defaultLidModelPath, isEnglish, ENGLISH_MIN_SCORE } from "./langid.js";
import { scorePacked, packTextSlices, byteBalancedRanges as rangesByOffsets, type ScoreModels, type ScoreResult, type ScoreSettings } from "./score-core.js";
import type { ScoreWorkerData } from "./score-worker.js";
import { DEFAULT_MAX_CHARS, DEFAULT_POSITIVE_LABEL } from "./training-data.js";

export interface ScoreStageOptions {
  /** fastText math classifier (.bin or .ftz). Optional when only language ID is wanted. */
  modelPath?: string;
  /** Label whose probability is the score (default "__label__MATH"). */
  label?: string;
  /** Output column of the score (default "math_score"). */
  column?: string;
  /** Add `lang` and `lang_score` from lid.176.ftz. */
  langid?: boolean;
  /** Language-ID model (default: lid.176.ftz from the fasttext.wasm.js package). */
  lidModelPath?: string;
  /** Drop rows that fail MegaMath's English rule (top label en, score >= englishMinScore); implies langid. */
  englishOnly?: boolean;
  englishMinScore?: number;
  maxChars?: number;
  preprocess?: "megamath" | "none";
  /** Score the math model with fastText's own float32 row sums, bit-identical to `fasttext predict-prob`. By default
   * a model where it pays (few labels for its dimension, softmax or hierarchical softmax) scores through its input
   * rows projected onto the output layer (fasttext/projection.ts): about half the CPU for the MegaMath model, every
   * probability within fastText's float32 rounding (at most 4.4e-6 apart on the bench documents) instead of
   * bit-identical. */
  exactRows?: boolean;
  /** Worker threads; 0 scores in the calling thread. Default: ctx.workers. */
  workers?: number;
}

interface Loaded {
  models: ScoreModels;
  math?: FastTextModel;
  lid?: FastTextModel;
  pool?: TaskPool;
  workers: number;
}

/** Load a model, with an error that names the file and what it was for. */
async function loadModel(path: string, what: string): Promise<FastTextModel> {
  try {
    return await FastTextModel.load(path);
  } catch (e) {
    throw new Error(`score: cannot load the ${what} model ${path}: ${(e as Error).message}`);
  }
}

export function scoreStage(opts: ScoreStageOptions): Stage {
  const label = opts.label ?? DEFAULT_POSITIVE_LABEL;
  const column = opts.column ?? "math_score";
  const langid = Boolean(opts.langid || opts.englishOnly);
  const minEnglish = opts.englishMinScore ?? ENGLISH_MIN_SCORE;
  if (!opts.modelPath && !langid) throw new Error("score: give a model (--model) and/or --langid");
  const settings: ScoreSettings = {
    label, maxChars: opts.maxChars ?? DEFAULT_MAX_CHARS, preprocess: opts.preprocess ?? "megamath",
  };
  if (!(settings.maxChars >= 1)) throw new Error(`score: maxChars must be >= 1, got ${settings.maxChars}`);
  let loading: Promise<Loaded> | undefined;

  async function load(ctx: StageContext): Promise<Loaded> {
    const math = opts.modelPath ? await loadModel(opts.modelPath, "math classifier") : undefined;
    if (math && !math.labels.includes(label)) {
      throw new Error(`score: the model ${opts.modelPath} has no label "${label}" (its labels: ${math.labels.join(", ")}); ` +
        `pass the positive one with --label`);
    }
    if (math && !opts.exactRows && !math.useProjection()) {
      ctx.log.debug(`score: projected rows do not pay or hold for ${opts.modelPath} (quantized input, many labels or a sigmoid-table loss); exact row sums used`);
    }
    const lid = langid ? await loadModel(opts.lidModelPath ?? defaultLidModelPath(), "language-ID") : undefined;
    const workers = Math.max(0, opts.workers ?? ctx.workers);
    const loaded: Loaded = { models: { math, lid }, math, lid, workers };
    if (workers > 0) {
      const workerData: ScoreWorkerData = { math: math?.shareable(), lid: lid?.shareable(), settings };
      loaded.pool = new TaskPool({ filename: workerFile(import.meta.url, "./score-worker.js"), workers, workerData });
    }
    ctx.log.debug(`score: ${workers || "no"} worker thread(s)`, { model: opts.modelPath, label, langid, projected: math?.projected ?? false });
    return loaded;
  }

  /** Score one batch: split it into about `workers` slices of equal bytes, run them in parallel, merge in order. */
  async function scoreBatch(l: Loaded, batch: Batch): Promise<ScoreResult> {
    if (!l.pool) return scorePacked(l.models, packTexts(batch), settings);
    const parts = await Promise.all(packTextSlices(batch, l.workers).map((texts) =>
      l.pool!.run<{ texts: PackedTexts }, ScoreResult>({ texts }, packedTransfer(texts))));
    return mergeResults(parts, batch.numRows);
  }

  return {
    name: "score",
    // The models' fingerprints join the outputs': a retrained classifier redoes every score made with the old one.
    reads: () => [opts.modelPath, langid ? (opts.lidModelPath ?? defaultLidModelPath()) : undefined].filter((p): p is string => !!p),
    async *run(input, ctx) {
      loading ??= load(ctx);
      const l = await loading;
      // Two batches in flight: one being scored while the next is read and the previous written.
      const scored = orderedMap(input, async (batch) => ({ batch, r: await scoreBatch(l, batch) }), 2);
      for await (const { batch, r } of scored) {
        if (r.truncated) ctx.stats.count("truncated", r.truncated);
        let out = batch;
        if (r.scores) out = withColumn(out, column, r.scores);
        if (r.langs) {
          out = withColumn(out, "lang", r.langs);
          out = withColumn(out, "lang_score", r.langScores!);
        }
        if (opts.englishOnly) out = keepEnglish(out, r, minEnglish, ctx);
        yield out;
      }
    },
    async close() {
      if (!loading) return;
      const l = await loading.catch(() => undefined);
      loading = undefined;
      await l?.pool?.destroy();
    },
  };
}

function keepEnglish(batch: Batch, r: ScoreResult, minScore: number, ctx: StageContext): Batch {
  const n = batch.numRows;
  const keep = new Uint8Array(n);
  let notEn = 0, low = 0;
  for (let i = 0; i < n; i++) {
    if (isEnglish(r.langs![i], r.langScores![i], minScore)) keep[i] = 1;
    else if (r.langs![i] !== "en") notEn++;
    else low++;
  }
  ctx.stats.remove("lang!=en", notEn);
  ctx.stats.remove(`lang_score<${minScore}`, low);
  return notEn + low ? filterRows(batch, keep) : batch;
}

/** Up to `k` contiguous row ranges holding about equal text bytes (never empty). */
export function byteBalancedRanges(p: PackedTexts, k: number): [number, number][] {
  return rangesByOffsets(p.offsets, k);
}

function mergeResults(parts: ScoreResult[], n: number): ScoreResult {
  if (parts.length === 1) return parts[0];
  const out: ScoreResult = { truncated: 0 };
  if (parts[0].scores) out.scores = new Float64Array(n);
  if (parts[0].langs) {
    out.langs = [];
    out.langScores = new Float64Array(n);
  }
  let at = 0;
  for (const p of parts) {
    out.truncated += p.truncated;
    const m = (p.scores ?? p.langScores)!.length;
    if (p.scores) out.scores!.set(p.scores, at);
    if (p.langs) {
      out.langs!.push(...p.langs);
      out.langScores!.set(p.langScores!, at);
    }
    at += m;
  }
  return out;
}
