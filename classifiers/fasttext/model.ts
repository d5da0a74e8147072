// A loaded fastText model and its forward pass. The weights sit in SharedArrayBuffers: `shareable()` hands them to
// worker threads and `fromShared()` rebuilds the model there without copying a single weight.
import type { FastTextArgs } from "./args.js";
import { Dictionary } from "./dictionary.js";
import { IntBuffer } from "./int-buffer.js";
import { quantAddRow, type DenseData, type MatrixData } from "./matrix.js";
import { readModelFile, writeModelFile, type SharedModelHandle } from "./model-file.js";
import { OutputLayer, type RawPrediction } from "./output.js";
import { addRows } from "./row-sum.js";
import { SimdRowSum } from "./simd-rows.js";
import { buildProjection, projectedDots, projectionWorthIt, PROJECTED_MAX_IDS } from "./projection.js";

export type { SharedModelHandle } from "./model-file.js";
export type { FastTextArgs } from "./args.js";

export interface Prediction {
  label: string;
  /** The probability exactly as `fasttext predict-prob` and Python's `model.predict` report it: fastText adds 1e-5
   * before taking the log, so this is p + 1e-5 (rounded to float32) and can slightly exceed 1. */
  prob: number;
}

const f = Math.fround;

export class FastTextModel {
  readonly labels: string[];
  readonly args: FastTextArgs;
  readonly dictionary: Dictionary;
  private readonly output: OutputLayer;
  private readonly input: MatrixData;
  private readonly hidden: Float32Array;
  private readonly simd: SimdRowSum | null;
  private readonly rows: DenseData | null;
  private readonly words = new IntBuffer(1024);
  private bytes = new Uint8Array(1 << 16);
  private readonly encoder = new TextEncoder();
  /** the output-row dot products of the current text, when the model scores through a projection (else null) */
  private dots: Float32Array | null;
  /** what the last forward pass left for the output layer: `dots` when it went through the projection, null when
   * it summed the rows into `hidden` (no projection, or a document longer than PROJECTED_MAX_IDS) */
  private current: Float32Array | null = null;

  private constructor(private readonly handle: SharedModelHandle) {
    this.args = handle.args;
    this.dictionary = new Dictionary(handle.dict, handle.args);
    this.labels = this.dictionary.labels();
    this.input = handle.input;
    this.output = new OutputLayer(handle.args.loss, handle.output, this.dictionary.labelCounts());
    this.hidden = new Float32Array(handle.args.dim);
    // Rows are summed from the dense matrix, or from the decoded copy of a small quantized one.
    this.rows = this.input.kind === "dense" ? this.input : (this.input.decoded ?? null);
    this.simd = this.rows?.wasm ? SimdRowSum.create(this.rows.wasm, handle.args.dim) : null;
    this.dots = handle.projection ? new Float32Array(handle.output.rows) : null;
  }

  /** Load a fastText .bin (dense) or .ftz (quantized) model. Throws FastTextModelError naming the file. */
  static async load(path: string): Promise<FastTextModel> {
    return new FastTextModel(readModelFile(path));
  }

  /** Rebuild a model from `shareable()` output, e.g. inside a worker thread; the weights are not copied. */
  static fromShared(h: SharedModelHandle): FastTextModel {
    return new FastTextModel(h);
  }

  /** A structured-clone-able handle whose arrays are SharedArrayBuffer-backed. */
  shareable(): SharedModelHandle {
    return this.handle;
  }

  /**
   * Score through input rows projected onto the output layer (projection.ts): much faster for a big model with few
   * labels, probabilities within fastText's float32 rounding (not bit-identical; documents longer than
   * PROJECTED_MAX_IDS ids are still summed exactly). Builds the table once (~1.5 CPU-s for a 2 GB model) into the
   * shared handle, so instances made from shareable() use it too. Returns false, changing nothing, when it would not
   * pay or not hold (many labels for the dimension, a quantized input matrix too big to decode, a sigmoid-table loss).
   */
  useProjection(): boolean {
    if (this.handle.projection) return true;
    if (!this.rows || !projectionWorthIt(this.rows, this.handle.output, this.args.loss)) return false;
    this.handle.projection = buildProjection(this.rows, this.handle.output);
    this.dots = new Float32Array(this.handle.output.rows);
    return true;
  }

  /** Whether predictions go through the projection (useProjection) rather than the exact float32 row sums. */
  get projected(): boolean {
    return this.dots !== null;
  }

  /** Whether the input matrix is product-quantized (.ftz). */
  get quantized(): boolean {
    return this.handle.quantInput;
  }

  /** Write the model in fastText's .bin format (readable by fastText 0.9.2 and Python fasttext). */
  async save(path: string): Promise<void> {
    await writeModelFile(path, this.handle);
  }

  /** UTF-8 bytes of `text` in a reused buffer; returns the byte length. */
  private encode(text: string): number {
    if (this.bytes.length < text.length * 3) this.bytes = new Uint8Array(Math.max(text.length * 3, this.bytes.length * 2));
    return this.encoder.encodeInto(text, this.bytes).written;
  }

  /** Tokenize and average the input rows; false when the line has no input rows (fastText predicts nothing). */
  private forward(text: string): boolean {
    const n = this.encode(text); // first: it may replace this.bytes with a larger buffer
    return this.forwardBytes(this.bytes, 0, n);
  }

  /** forward() over UTF-8 bytes[start, end) as they are (the caller vouches that they are valid UTF-8). */
  private forwardBytes(bytes: Uint8Array, start: number, end: number): boolean {
    if (!(start >= 0 && start <= end && end <= bytes.length)) {
      throw new RangeError(`fastText predict: byte range [${start}, ${end}) outside a buffer of ${bytes.length} bytes`);
    }
    if (this.args.model !== "supervised") throw new Error("fastText: model needs to be supervised for prediction");
    const words = this.words;
    words.clear();
    // The text is one line: inner newlines separate words like spaces, and the line ends with "</s>" as a
    // line of a file does for `fasttext predict-prob`.
    this.dictionary.getLine(bytes, start, end, true, words, null);
    if (words.length === 0) return false;
    if (this.dots && words.length <= PROJECTED_MAX_IDS) {
      projectedDots(this.handle.projection!, this.dots.length, words.data, words.length, this.dots);
      this.current = this.dots;
      return true;
    }
    this.current = null;
    const h = this.hidden;
    h.fill(0);
    const input = this.input;
    if (this.simd) {
      this.simd.sum(words.data, words.length, h);
    } else if (this.rows) {
      addRows(h, this.rows.data, this.rows.cols, words.data, words.length);
    } else if (input.kind === "quant") {
      for (let i = 0; i < words.length; i++) quantAddRow(input, h, words.data[i]!);
    }
    const scale = f(1 / words.length);
    for (let j = 0; j < h.length; j++) h[j] = h[j]! * scale;
    return true;
  }

  /**
   * The k most likely labels with probability >= threshold, best first — what `fasttext predict-prob` prints for
   * this text as one line. k = -1 means all labels. Ties are ordered by label index.
   */
  predict(text: string, k = 1, threshold = 0): Prediction[] {
    if (k === -1) k = this.labels.length;
    if (!(k >= 1)) throw new RangeError("fastText predict: k needs to be 1 or higher (or -1 for all labels)");
    if (!this.forward(text)) return [];
    return this.top(k, threshold);
  }

  /**
   * predict() for a text given as its UTF-8 bytes[start, end): the same predictions as predict(decoded text), without
   * decoding and re-encoding it (the reader already holds the bytes). The bytes must be valid UTF-8: a decoder
   * would replace invalid sequences, and the hashes of the replaced text differ from those of the raw bytes.
   */
  predictBytes(bytes: Uint8Array, start: number, end: number, k = 1, threshold = 0): Prediction[] {
    if (k === -1) k = this.labels.length;
    if (!(k >= 1)) throw new RangeError("fastText predict: k needs to be 1 or higher (or -1 for all labels)");
    if (!this.forwardBytes(bytes, start, end)) return [];
    return this.top(k, threshold);
  }

  private top(k: number, threshold: number): Prediction[] {
    return this.output.predict(this.hidden, k, threshold, this.current).map((p: RawPrediction) => ({ label: this.labels[p.label]!, prob: f(Math.exp(p.score)) }));
  }

  /**
   * The probability of `label` for this text, on the same scale as predict() (p + 1e-5), considering all labels.
   * Returns 0 when the text yields no input rows at all (fastText then predicts nothing). Throws if the model
   * has no such label.
   */
  labelProbability(text: string, label: string): number {
    const idx = this.labelIndex(label);
    if (!this.forward(text)) return 0;
    return f(Math.exp(this.output.labelScore(this.hidden, idx, this.current)));
  }

  /** labelProbability() for a text given as its valid UTF-8 bytes[start, end), with the label as labelIndex(). */
  labelProbabilityBytes(bytes: Uint8Array, start: number, end: number, labelIndex: number): number {
    if (!(labelIndex >= 0 && labelIndex < this.labels.length)) throw new RangeError(`fastText: no label index ${labelIndex}`);
    if (!this.forwardBytes(bytes, start, end)) return 0;
    return f(Math.exp(this.output.labelScore(this.hidden, labelIndex, this.current)));
  }

  /** Index of a label (with its prefix, e.g. "__label__MATH"); throws listing the model's labels if absent. */
  labelIndex(label: string): number {
    const idx = this.labels.indexOf(label);
    if (idx < 0) throw new Error(`fastText model has no label ${JSON.stringify(label)}; its labels are ${this.labels.join(", ")}`);
    return idx;
  }
}
