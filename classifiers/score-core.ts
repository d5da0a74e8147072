// The per-document work of the `score` stage, shared by the worker threads and the in-thread mode (workers = 0):
// decode a packed slice of texts, cut each to the documented maximum, MegaMath-preprocess it and read P(label)
// from the math model; optionally identify the language. Pure function of (models, texts): order is the input's.
import type { Batch } from "../lib/arrow/batch.js";
import type { PackedTexts } from "../lib/runtime/pool.js";
import { preprocessForFastText } from "./preprocess.js";
import { identifyLanguage, type TopPredictor } from "./langid.js";
import { truncateText } from "./training-data.js";

export interface LabelScorer extends TopPredictor {
  labelProbability(text: string, label: string): number;
}

export interface ScoreModels {
  math?: LabelScorer;
  lid?: TopPredictor;
}

export interface ScoreSettings {
  /** The positive label whose probability becomes the score, e.g. "__label__MATH". */
  label: string;
  /** Documents longer than this (UTF-16 code units) are scored on their first maxChars. */
  maxChars: number;
  /** "megamath": MegaMath's preprocess_for_fasttext; "none": the raw text with newlines as spaces. */
  preprocess: "megamath" | "none";
}

export interface ScoreResult {
  scores?: Float64Array;
  langs?: string[];
  langScores?: Float64Array;
  /** Documents cut to maxChars. */
  truncated: number;
}

const decoder = new TextDecoder();

/** Decode text i, reading at most the bytes that can hold maxChars code units (a 50 MB row costs no more). */
function decodeBounded(p: PackedTexts, i: number, maxChars: number): { text: string; cut: boolean } {
  const start = p.offsets[i], end = p.offsets[i + 1];
  // A UTF-16 code unit takes at most 3 UTF-8 bytes, so 3*max+3 bytes decode to more than max whole units.
  const limit = maxChars * 3 + 3;
  const cutBytes = end - start > limit;
  const text = decoder.decode(p.bytes.subarray(start, cutBytes ? start + limit : end));
  if (!cutBytes && text.length <= maxChars) return { text, cut: false };
  return { text: truncateText(text, maxChars), cut: true };
}

export function scorePacked(models: ScoreModels, p: PackedTexts, s: ScoreSettings): ScoreResult {
  const n = p.offsets.length - 1;
  const out: ScoreResult = { truncated: 0 };
  if (models.math) out.scores = new Float64Array(n);
  if (models.lid) {
    out.langs = new Array(n);
    out.langScores = new Float64Array(n);
  }
  for (let i = 0; i < n; i++) {
    const { text, cut } = decodeBounded(p, i, s.maxChars);
    if (cut) out.truncated++;
    if (models.math) {
      const input = s.preprocess === "megamath" ? preprocessForFastText(text) : text.replace(/[\r\n]/g, " ");
      out.scores![i] = models.math.labelProbability(input, s.label);
    }
    if (models.lid) {
      const { lang, score } = identifyLanguage(models.lid, text);
      out.langs![i] = lang;
      out.langScores![i] = score;
    }
  }
  return out;
}

/**
 * The text column of a batch packed as `parts` transferable slices of about equal bytes (contiguous row ranges, in
 * order), each copied straight from the Arrow buffers: the same bytes and offsets as packTexts + slicePacked, but
 * one copy of the text instead of two and no batch-sized intermediate buffer.
 */
export function packTextSlices(batch: Batch, parts: number, column = "text"): PackedTexts[] {
  const col = batch.getChild(column);
  if (!col) throw new Error(`missing column "${column}"`);
  // Row offsets into the concatenated text (null entries have equal offsets in Arrow: an empty document).
  const offsets = new Int32Array(col.length + 1);
  let row = 0, pos = 0;
  for (const d of col.data) {
    const o = d.valueOffsets as Int32Array;
    for (let i = 0; i < d.length; i++) {
      pos += o[i + 1] - o[i];
      offsets[++row] = pos;
    }
  }
  const out: PackedTexts[] = [];
  for (const [a, b] of byteBalancedRanges(offsets, parts)) {
    const bytes = new Uint8Array(offsets[b] - offsets[a]);
    const rel = new Int32Array(b - a + 1);
    for (let i = a; i <= b; i++) rel[i - a] = offsets[i] - offsets[a];
    // Copy rows [a, b) chunk by chunk (each chunk's rows are contiguous in its values buffer).
    let first = 0, at = 0;
    for (const d of col.data) {
      const lo = Math.max(a, first), hi = Math.min(b, first + d.length);
      if (lo < hi) {
        const o = d.valueOffsets as Int32Array;
        const part = (d.values as Uint8Array).subarray(o[lo - first], o[hi - first]);
        bytes.set(part, at);
        at += part.length;
      }
      first += d.length;
    }
    out.push({ bytes, offsets: rel });
  }
  return out;
}

/** Up to `k` contiguous row ranges holding about equal text bytes (never empty), from row byte offsets. */
export function byteBalancedRanges(offsets: Int32Array, k: number): [number, number][] {
  const n = offsets.length - 1;
  if (n === 0) return [[0, 0]];
  const parts = Math.max(1, Math.min(k, n));
  const total = offsets[n];
  const ranges: [number, number][] = [];
  let a = 0;
  for (let j = 1; j <= parts && a < n; j++) {
    let b = a + 1;
    const target = (total * j) / parts;
    while (b < n && offsets[b] < target && n - b > parts - j) b++;
    if (j === parts) b = n;
    ranges.push([a, b]);
    a = b;
  }
  return ranges;
}

/** Rows [a, b) of a packed column as a packed column of their own (a transferable copy). */
export function slicePacked(p: PackedTexts, a: number, b: number): PackedTexts {
  const base = p.offsets[a];
  const offsets = new Int32Array(b - a + 1);
  for (let i = a; i <= b; i++) offsets[i - a] = p.offsets[i] - base;
  return { bytes: p.bytes.slice(base, p.offsets[b]), offsets };
}
