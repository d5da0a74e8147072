// Labelled documents -> fastText supervised files (`__label__X preprocessed text` per line), split into train and
// validation deterministically by a hash of (seed, id), and the train file shuffled by another hash of the same
// key. fastText's SGD sees lines in file order, so inputs that arrive grouped (all positives, then all negatives)
// must be mixed; the shuffle is external (hash buckets on disk, one bucket sorted in memory at a time) so memory
// stays bounded by one bucket whatever the corpus size. Same input + seed => byte-identical files.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm, rename, readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { once } from "node:events";
import { DataType } from "apache-arrow";
import { type Batch, ColumnError, getNumbers, getStrings, getTexts } from "../arrow/batch.js";
import { tempPathFor } from "../io/atomic.js";
import { closeReadStream } from "../io/close-stream.js";
import { preprocessForFastText } from "./preprocess.js";
import { truncateText, DEFAULT_MAX_CHARS } from "./truncate.js";

export { truncateText, DEFAULT_MAX_CHARS };

export type LabelRule =
  | { kind: "score"; column: string; threshold: number } // positive when column >= threshold
  // positive when the column's value is listed; with no list, a numeric/boolean column is positive when > 0 / true
  | { kind: "label"; column: string; positive?: string[] };

export interface TrainingDataOptions {
  rule: LabelRule;
  seed?: number;
  /** Share of documents put in the validation split (by hash, so about this share). Default 0.1. */
  validFraction?: number;
  positiveLabel?: string;
  negativeLabel?: string;
  /** Documents longer than this many UTF-16 code units are cut before preprocessing (same rule as `score`). */
  maxChars?: number;
  /** Hash buckets of the external shuffle. Default 32. */
  buckets?: number;
}

export interface SplitCounts {
  docs: number;
  positives: number;
  negatives: number;
}

export interface TrainingDataResult {
  train: SplitCounts;
  valid: SplitCounts;
  /** Rows left out, by reason (no label value; nothing left after preprocessing). */
  skipped: Record<string, number>;
}

export const DEFAULT_POSITIVE_LABEL = "__label__MATH";
export const DEFAULT_NEGATIVE_LABEL = "__label__NON_MATH";

/** The split/shuffle key of a document: [fraction in [0,1) deciding the split, 32-bit order key]. */
export function splitKey(seed: number, id: string): [number, number] {
  const h = createHash("sha1").update(`${seed}\u0000${id}`).digest();
  return [h.readUInt32BE(0) / 0x1_0000_0000, h.readUInt32BE(4)];
}

function labelsOf(batch: Batch, rule: LabelRule): (boolean | null)[] {
  if (rule.kind === "score") {
    const v = getNumbers(batch, rule.column);
    return Array.from(v, (x) => (Number.isNaN(x) ? null : x >= rule.threshold));
  }
  const listed = rule.positive?.length ? new Set(rule.positive) : null;
  const col = batch.getChild(rule.column);
  if (col && !(DataType.isUtf8(col.type) || DataType.isLargeUtf8(col.type) || DataType.isDictionary(col.type))) {
    if (!listed) return Array.from(getNumbers(batch, rule.column), (x) => (Number.isNaN(x) ? null : x > 0));
    // listed values against a numeric or boolean column: compare the printed value ("1", "true")
    return Array.from({ length: batch.numRows }, (_, i) => {
      const v = col.get(i);
      return v == null ? null : listed.has(String(v));
    });
  }
  if (!listed) {
    throw new ColumnError(`label column "${rule.column}" holds strings: say which values are positive (--positive VALUE)`);
  }
  return getStrings(batch, rule.column).map((v) => (v == null ? null : listed.has(v)));
}

// A stream's error (ENOSPC, a removed folder) is kept here and rethrown by the next write or finish, so it never
// surfaces as an uncaught 'error' event between awaits.
const streamErrors = new WeakMap<WriteStream, Error>();

/** Create the file and wait until it is open, so no open is still pending if the run fails and cleans up. */
async function openStream(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path);
  stream.on("error", (e) => streamErrors.set(stream, e));
  await new Promise<void>((resolve, reject) => {
    stream.once("ready", resolve);
    stream.once("error", reject);
  });
  return stream;
}

/** Destroy a stream and wait until its descriptor is closed (before its folder is removed). */
async function discard(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  const closed = once(stream, "close").catch(() => {});
  stream.destroy();
  await closed;
}

async function write(stream: WriteStream, s: string): Promise<void> {
  const err = streamErrors.get(stream);
  if (err) throw err;
  if (!stream.write(s)) await once(stream, "drain");
}

async function finish(stream: WriteStream): Promise<void> {
  const err = streamErrors.get(stream);
  if (err) throw err;
  stream.end();
  await once(stream, "finish");
}

/**
 * Read labelled batches and write `trainPath` (shuffled) and `validPath` (input order), both in fastText format.
 * Batches need `id`, `text` and the rule's column.
 */
export async function writeTrainingData(
  batches: AsyncIterable<Batch>, trainPath: string, validPath: string, opts: TrainingDataOptions,
): Promise<TrainingDataResult> {
  const seed = opts.seed ?? 0;
  const validFraction = opts.validFraction ?? 0.1;
  const pos = opts.positiveLabel ?? DEFAULT_POSITIVE_LABEL;
  const neg = opts.negativeLabel ?? DEFAULT_NEGATIVE_LABEL;
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const nBuckets = opts.buckets ?? 32;
  if (!(Number.isInteger(nBuckets) && nBuckets >= 1)) throw new Error(`training data: buckets must be an integer >= 1, got ${nBuckets}`);
  // 2^bucketBits buckets picked by the top bits of the order key (">>> 32" would be ">>> 0" in JS, so 1 bucket is 0).
  const bucketBits = Math.ceil(Math.log2(nBuckets));
  const bucketOf = (order: number) => (bucketBits === 0 ? 0 : order >>> (32 - bucketBits));
  await mkdir(dirname(trainPath), { recursive: true });
  await mkdir(dirname(validPath), { recursive: true });
  const tmpDir = tempPathFor(trainPath) + ".buckets";
  await mkdir(tmpDir, { recursive: true });
  const bucketFiles = Array.from({ length: 1 << bucketBits }, (_, b) => join(tmpDir, `b${b}`));
  const validTmp = tempPathFor(validPath);
  const opened: WriteStream[] = [];
  const result: TrainingDataResult = {
    train: { docs: 0, positives: 0, negatives: 0 },
    valid: { docs: 0, positives: 0, negatives: 0 },
    skipped: {},
  };
  const skip = (reason: string) => void (result.skipped[reason] = (result.skipped[reason] ?? 0) + 1);
  try {
    for (const f of bucketFiles) opened.push(await openStream(f));
    opened.push(await openStream(validTmp));
    const buckets = opened.slice(0, bucketFiles.length);
    const valid = opened[bucketFiles.length];
    for await (const batch of batches) {
      const ids = getStrings(batch, "id");
      const texts = getTexts(batch);
      const labels = labelsOf(batch, opts.rule);
      for (let i = 0; i < batch.numRows; i++) {
        const label = labels[i];
        if (label === null) {
          skip(`${opts.rule.column}:missing`);
          continue;
        }
        const words = preprocessForFastText(truncateText(texts[i], maxChars));
        if (words === "") {
          skip("empty_after_preprocessing");
          continue;
        }
        const line = `${label ? pos : neg} ${words}\n`;
        const [frac, order] = splitKey(seed, ids[i] ?? "");
        const split = frac < validFraction ? result.valid : result.train;
        split.docs++;
        label ? split.positives++ : split.negatives++;
        if (split === result.valid) await write(valid, line);
        else await write(buckets[bucketOf(order)], `${order.toString(16).padStart(8, "0")}\t${line}`);
      }
    }
    await Promise.all([...buckets.map(finish), finish(valid)]);
    await shuffleBuckets(bucketFiles, trainPath);
    await rename(validTmp, validPath);
  } catch (e) {
    await Promise.all(opened.map(discard));
    await rm(validTmp, { force: true });
    throw e;
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  return result;
}

/** Concatenate the buckets in order, each sorted by its order key (then by line, so ties are deterministic). */
async function shuffleBuckets(files: string[], outPath: string): Promise<void> {
  const tmp = tempPathFor(outPath);
  const out = await openStream(tmp);
  try {
    for (const f of files) {
      const lines = (await readFile(f, "utf8")).split("\n");
      lines.pop(); // the text after the last "\n" is empty
      lines.sort();
      for (const l of lines) await write(out, l.slice(9) + "\n");
    }
    await finish(out);
    await rename(tmp, outPath);
  } catch (e) {
    await discard(out);
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Read a fastText-format file back: label and text per line (for evaluation on the validation split). */
export async function* readLabelledLines(path: string): AsyncIterable<{ label: string; text: string }> {
  const input = createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      if (!line) continue;
      const sp = line.indexOf(" ");
      yield sp < 0 ? { label: line, text: "" } : { label: line.slice(0, sp), text: line.slice(sp + 1) };
    }
  } finally {
    rl.close(); // a caller that stops early would otherwise leave the file open
    await closeReadStream(input);
  }
}
