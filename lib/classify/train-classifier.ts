// `train-classifier`: labelled documents -> fastText math classifier + validation report.
// Steps: read every input (Parquet/JSONL/Arrow), label each row (score column >= threshold, or a label column with
// listed positive values), preprocess it exactly as MegaMath does, split train/validation by a hash of (seed, id),
// train with the DeepSeekMath/MegaMath settings (dim 256, lr 0.1, wordNgrams 3, minCount 3, epoch 3), then score
// the validation split and write precision/recall/F1 at the recipe's thresholds and the PR curve.
// Output folder: model.bin, train.txt, valid.txt (fastText format, reusable with the native tool), metrics.json,
// pr-curve.svg. Training with one thread is deterministic for a given seed; more threads are Hogwild SGD and not.
import { join, resolve } from "node:path";
import { mkdir, rename, rm } from "node:fs/promises";
import { expandInputs, readDocuments, writeFileAtomic, tempPathFor, type ReadOptions } from "../io/index.js";
import type { Logger } from "../runtime/log.js";
import { StageStats } from "../runtime/stats.js";
import { ColumnError, hasColumn } from "../arrow/batch.js";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { writeTrainingData, readLabelledLines, type LabelRule, type TrainingDataResult, type TrainingDataOptions,
  DEFAULT_POSITIVE_LABEL, DEFAULT_NEGATIVE_LABEL, DEFAULT_MAX_CHARS } from "./training-data.js";
import { metricsAt, prCurve, averagePrecision, bestF1, thresholdGrid, type ThresholdMetrics } from "./metrics.js";
import { prCurveSvg } from "./pr-svg.js";

/** fastText settings; defaults are DeepSeekMath's (used by MegaMath), bucket and loss are fastText's defaults. */
export interface FastTextTrainSettings {
  dim: number;
  lr: number;
  epoch: number;
  wordNgrams: number;
  minCount: number;
  bucket: number;
  loss: "softmax" | "hs" | "ns" | "ova";
  thread: number;
  seed: number;
}

export const MEGAMATH_FASTTEXT: Omit<FastTextTrainSettings, "thread" | "seed"> = {
  dim: 256, lr: 0.1, epoch: 3, wordNgrams: 3, minCount: 3, bucket: 2_000_000, loss: "softmax",
};

/** Thresholds the report always includes: fastText's 0.5 and the recipe's 0.4. */
export const REPORT_THRESHOLDS = [0.4, 0.5];

/** The training-data options (label rule, split, labels, truncation) plus where to read and write. */
export interface TrainClassifierOptions extends Omit<TrainingDataOptions, "buckets"> {
  inputs: string[];
  outDir: string;
  read?: Pick<ReadOptions, "textKey" | "idKey" | "onError">;
  fasttext?: Partial<FastTextTrainSettings>;
  log?: Logger;
}

export interface TrainClassifierReport {
  model: string;
  positiveLabel: string;
  negativeLabel: string;
  rule: LabelRule;
  seed: number;
  validFraction: number;
  fasttext: FastTextTrainSettings;
  data: TrainingDataResult & { inputFiles: number; readFailures: Record<string, number> };
  validation: {
    docs: number;
    at: Record<string, ThresholdMetrics>;
    bestF1: ThresholdMetrics;
    averagePrecision: number;
    prCurve: ThresholdMetrics[];
  };
}

// metrics.json holds no timings, so the same inputs + seed (one thread) give a byte-identical report.
export async function trainClassifier(o: TrainClassifierOptions): Promise<TrainClassifierReport & { trainSeconds: number }> {
  const seed = o.seed ?? 0;
  const validFraction = o.validFraction ?? 0.1;
  const pos = o.positiveLabel ?? DEFAULT_POSITIVE_LABEL;
  const neg = o.negativeLabel ?? DEFAULT_NEGATIVE_LABEL;
  if (pos === neg) throw new Error(`positive and negative labels are both "${pos}"`);
  for (const l of [pos, neg]) if (!l.startsWith("__label__") || /\s/.test(l)) throw new Error(`bad fastText label "${l}": must start with __label__ and have no spaces`);
  if (!(validFraction > 0 && validFraction < 1)) throw new Error(`validation fraction must be in (0, 1), got ${validFraction}`);
  const ft: FastTextTrainSettings = { ...MEGAMATH_FASTTEXT, thread: 1, seed, ...o.fasttext };
  const outDir = resolve(o.outDir);
  await mkdir(outDir, { recursive: true });
  const files = await expandInputs(o.inputs);
  const readStats = new StageStats("read");

  let current = "";
  async function* allBatches() {
    for (const file of files) {
      current = file;
      let row = 0;
      for await (const batch of readDocuments(file, { ...o.read, columns: [o.rule.column], stats: readStats })) {
        if (!hasColumn(batch, o.rule.column)) {
          const have = batch.schema.fields.map((f) => f.name).join(", ");
          throw new Error(`${file}: no label column "${o.rule.column}" (columns: ${have})`);
        }
        row += batch.numRows;
        yield batch;
      }
      if (row === 0) o.log?.warn(`train-classifier: ${file} has no rows`);
    }
  }
  const trainPath = join(outDir, "train.txt");
  const validPath = join(outDir, "valid.txt");
  o.log?.info(`train-classifier: preparing data from ${files.length} file(s)`);
  let data: TrainingDataResult;
  try {
    data = await writeTrainingData(allBatches(), trainPath, validPath, {
      rule: o.rule, seed, validFraction, positiveLabel: pos, negativeLabel: neg, maxChars: o.maxChars ?? DEFAULT_MAX_CHARS,
    });
  } catch (e) {
    // A label column of the wrong type is found while the batch is labelled: name the file it came from.
    if (e instanceof ColumnError && current && !e.message.includes(current)) throw new ColumnError(`${current}: ${e.message}`);
    throw e;
  }
  o.log?.info(`train-classifier: train ${data.train.docs} docs (${data.train.positives} positive), ` +
    `validation ${data.valid.docs} (${data.valid.positives} positive)`);
  if (data.train.positives === 0 || data.train.negatives === 0) {
    throw new Error(`the training split needs both classes; it has ${data.train.positives} positive and ` +
      `${data.train.negatives} negative documents (check the label rule on column "${o.rule.column}")`);
  }

  const t0 = performance.now();
  const model = await trainSupervised(trainPath, { ...ft });
  const trainSeconds = (performance.now() - t0) / 1000;
  const modelPath = join(outDir, "model.bin");
  const tmpModel = tempPathFor(modelPath);
  try {
    await model.save(tmpModel);
    await rename(tmpModel, modelPath);
  } catch (e) {
    await rm(tmpModel, { force: true });
    throw e;
  }
  o.log?.info(`train-classifier: trained in ${trainSeconds.toFixed(1)} s, model ${modelPath}`);

  // Validation: the lines are already preprocessed, so they go to the model as they are.
  const scores: number[] = [];
  const labels: boolean[] = [];
  for await (const { label, text } of readLabelledLines(validPath)) {
    scores.push(model.labelProbability(text, pos));
    labels.push(label === pos);
  }
  const curve = prCurve(scores, labels, thresholdGrid(100));
  const at = Object.fromEntries(REPORT_THRESHOLDS.map((t) => [String(t), metricsAt(scores, labels, t)]));
  const report: TrainClassifierReport = {
    model: modelPath, positiveLabel: pos, negativeLabel: neg, rule: o.rule, seed, validFraction, fasttext: ft,
    data: { ...data, inputFiles: files.length, readFailures: readStats.failed },
    validation: {
      docs: scores.length, at, bestF1: bestF1(curve), averagePrecision: averagePrecision(scores, labels), prCurve: curve,
    },
  };
  await writeFileAtomic(join(outDir, "metrics.json"), JSON.stringify(report, null, 1) + "\n");
  await writeFileAtomic(join(outDir, "pr-curve.svg"), prCurveSvg(curve, {
    title: `${pos} vs ${neg}: validation PR curve (${scores.length} docs)`,
    marks: REPORT_THRESHOLDS.map((t) => at[String(t)]),
  }));
  return { ...report, trainSeconds };
}
