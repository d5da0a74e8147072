import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand, UsageError } from "../command.js";
import { optionsIdentity, pipelineOptions } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { fingerprintFile, taskFingerprint } from "../../lib/runtime/fingerprint.js";
import { runTaskLoop } from "../../lib/runtime/task-loop.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { trainClassifier, MEGAMATH_FASTTEXT } from "../../lib/classify/train-classifier.js";
import { DEFAULT_POSITIVE_LABEL, DEFAULT_NEGATIVE_LABEL, DEFAULT_MAX_CHARS, type LabelRule } from "../../lib/classify/training-data.js";

export default defineCommand({
  name: "train-classifier",
  usage: "train-classifier --input GLOB --output DIR (--score-column COL --threshold T | --label-column COL --positive V)",
  details: [
    "Rows are positive when --score-column >= --threshold (e.g. finemath_score >= 3), or when --label-column holds",
    "one of the --positive values (without --positive: a numeric/boolean label column is positive when > 0 / true). Texts get MegaMath's fastText preprocessing; rows go to the validation split when",
    "a hash of (seed, id) falls under --valid-fraction. fastText defaults are DeepSeekMath's (dim 256, lr 0.1,",
    "wordNgrams 3, minCount 3, epoch 3) with fastText's bucket 2,000,000 (a ~2.5 GB model at dim 256).",
    "Writes DIR/model.bin, train.txt, valid.txt, metrics.json (P/R/F1 at 0.4 and 0.5, best F1, average precision,",
    "PR curve at thresholds 0..1 step 0.01) and pr-curve.svg.",
  ].join("\n"),
  options: {
    input: { type: "list", short: "i", placeholder: "GLOB", description: "Labelled input files or globs (Parquet, JSONL, Arrow)." },
    output: { type: "string", short: "o", placeholder: "DIR", description: "Output folder." },
    force: pipelineOptions.force,
    "score-column": { type: "string", placeholder: "COL", description: "Numeric column; positive when >= --threshold." },
    threshold: { type: "number", description: "Positive threshold for --score-column." },
    "label-column": { type: "string", placeholder: "COL", description: "Label column; positive when its value is one of --positive." },
    positive: { type: "list", placeholder: "V", description: "Positive values of --label-column (repeatable or comma-separated); default: > 0 / true." },
    "positive-label": { type: "string", default: DEFAULT_POSITIVE_LABEL, description: "fastText label of positives." },
    "negative-label": { type: "string", default: DEFAULT_NEGATIVE_LABEL, description: "fastText label of negatives." },
    "valid-fraction": { type: "number", default: 0.1, description: "Share of documents held out for validation." },
    seed: { type: "integer", default: 0, description: "Seed of the split, the shuffle and fastText." },
    dim: { type: "integer", default: MEGAMATH_FASTTEXT.dim, description: "fastText -dim." },
    lr: { type: "number", default: MEGAMATH_FASTTEXT.lr, description: "fastText -lr." },
    epoch: { type: "integer", default: MEGAMATH_FASTTEXT.epoch, description: "fastText -epoch." },
    "word-ngrams": { type: "integer", default: MEGAMATH_FASTTEXT.wordNgrams, description: "fastText -wordNgrams." },
    "min-count": { type: "integer", default: MEGAMATH_FASTTEXT.minCount, description: "fastText -minCount." },
    bucket: { type: "integer", default: MEGAMATH_FASTTEXT.bucket, description: "fastText -bucket (hash buckets of word n-grams)." },
    loss: { type: "string", choices: ["softmax", "hs", "ns", "ova"], default: MEGAMATH_FASTTEXT.loss, description: "fastText -loss." },
    threads: { type: "integer", default: 1, description: "Training threads (1 is deterministic; more is Hogwild SGD)." },
    "max-chars": { type: "integer", default: DEFAULT_MAX_CHARS, description: "Use at most this many leading UTF-16 units of a document." },
    "text-key": { type: "string", default: "text", description: "Input field holding the document text." },
    "id-key": { type: "string", default: "id", description: "Input field holding the document id (default: FILE/ROW)." },
    "on-error": { type: "string", choices: ["fail", "skip"], default: "fail", description: "Bad input rows: stop, or skip and count them." },
  },
  async run({ opts, ctx }) {
    const inputs = opts.input ?? [];
    if (!inputs.length) throw new UsageError("--input is required (files or globs)");
    if (!opts.output) throw new UsageError("--output is required (a folder)");
    let rule: LabelRule;
    if (opts["score-column"] && opts["label-column"]) throw new UsageError("give --score-column or --label-column, not both");
    if (opts["score-column"]) {
      if (opts.threshold === undefined) throw new UsageError("--score-column needs --threshold (e.g. --threshold 3)");
      rule = { kind: "score", column: opts["score-column"], threshold: opts.threshold };
    } else if (opts["label-column"]) {
      const positive = opts.positive ?? [];
      rule = { kind: "label", column: opts["label-column"], positive };
    } else {
      throw new UsageError("give --score-column COL --threshold T, or --label-column COL --positive V");
    }
    const vf = opts["valid-fraction"];
    if (!(vf > 0 && vf < 1)) throw new UsageError("--valid-fraction must be between 0 and 1 (exclusive)");
    for (const k of ["dim", "epoch", "word-ngrams", "min-count", "bucket", "threads", "max-chars"] as const) {
      if (opts[k] < 1) throw new UsageError(`--${k} must be >= 1`);
    }
    // One task of the task loop: the model is reused while its marker's fingerprint (these settings and the
    // fingerprints of the training files) holds, so an unchanged rerun leaves model.bin, and everything scored
    // with it, alone; any change retrains, and score and what follows are redone through their fingerprints.
    const outDir = resolve(opts.output);
    const files = await expandInputs(inputs);
    const fingerprint = taskFingerprint({
      step: "train-classifier", settings: optionsIdentity("train-classifier", opts),
      reads: await Promise.all(files.map((f) => fingerprintFile(f))),
    });
    const loop = await runTaskLoop({
      step: "train-classifier", outDir, tasks: [{ key: "model", fingerprint }], force: Boolean(opts.force), log: ctx.log,
      tempSuffixes: [], run: async () => {
        await train();
        const stats = new StageStats("train-classifier");
        const outputs = ["model.bin", "train.txt", "valid.txt", "metrics.json", "pr-curve.svg"].filter((n) => existsSync(join(outDir, n)));
        return { outputs, stats: { files: 1, stages: [stats.toJSON()] } };
      },
    });
    if (loop.skipped.length) {
      const m = JSON.parse(readFileSync(join(outDir, "metrics.json"), "utf8")) as { model: string };
      ctx.log.info(`train-classifier: ${m.model} already made from these inputs and settings; skipping (use --force to redo)`);
    }
    return 0;

    async function train(): Promise<void> {
      const report = await trainClassifier({
        inputs, outDir, rule, seed: opts.seed, validFraction: vf,
        positiveLabel: opts["positive-label"], negativeLabel: opts["negative-label"],
        maxChars: opts["max-chars"],
        read: { textKey: opts["text-key"], idKey: opts["id-key"], onError: opts["on-error"] },
        fasttext: {
          dim: opts.dim, lr: opts.lr, epoch: opts.epoch, wordNgrams: opts["word-ngrams"],
          minCount: opts["min-count"], bucket: opts.bucket,
          loss: opts.loss, thread: opts.threads,
        },
        log: ctx.log,
      });
      const fmt = (m: { precision: number; recall: number; f1: number }) =>
        `P=${m.precision.toFixed(3)} R=${m.recall.toFixed(3)} F1=${m.f1.toFixed(3)}`;
      const v = report.validation;
      ctx.log.info([
        `train-classifier: validation ${v.docs} docs; at 0.5 ${fmt(v.at["0.5"])}; at 0.4 ${fmt(v.at["0.4"])}; ` +
          `best F1 ${v.bestF1.f1.toFixed(3)} at ${v.bestF1.threshold}; AP ${v.averagePrecision.toFixed(3)}`,
        `  model ${report.model}; metrics.json and pr-curve.svg next to it`,
      ].join("\n"));
    }
  },
});
