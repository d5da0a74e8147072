// The per-document work of the `score` stage, shared by the worker threads and the in-thread mode (workers = 0):
// for a packed slice of texts, identify each document's language and read P(label) of the MegaMath-preprocessed
// text from the math model. Pure function of (models, texts): order is the input's.
//
// Where the CPU goes, and why the loop has this shape (bench/classify.ts, recorded in the README):
// - Language ID reads the UTF-8 bytes the reader already holds (no decoding, no newline replacement, no
//   re-encoding): fastText splits words at "\n" as at " ", so the raw bytes tokenize the same. Bytes that are not
//   valid UTF-8 (nothing validates them on the way from Parquet) and documents that may need cutting take the string
//   path, because a decoder would have replaced or cut them before the model saw them.
// - The math model gets MegaMath's preprocessing output as the ASCII bytes preprocess.ts writes, not as a string
//   it would re-encode.
// - The slice is scored in two passes, all language IDs and then all math scores, rather than both models per
//   document: each model's dictionary, n-gram memo and rows stay in cache for a whole pass (interleaving them cost
//   about 10% more CPU).
import { isUtf8 } from "node:buffer";
import type { Batch } from "../arrow/batch.js";
import type { PackedTexts } from "../runtime/pool.js";
import type { FastTextModel } from "../../classifiers/fasttext/model.js";
import { preprocessToBytes } from "./preprocess.js";
import { identifyLanguage, identifyLanguageBytes } from "./langid.js";
import { truncateText } from "./truncate.js";

export interface ScoreModels {
  math?: FastTextModel;
  lid?: FastTextModel;
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
const encoder = new TextEncoder();

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

/**
 * Whether text i can be given to a model as its raw bytes: valid UTF-8 (so decoding would not change it) and no
 * longer than maxChars bytes (every UTF-16 code unit takes at least one byte, so it is not cut).
 */
function rawBytesUsable(p: PackedTexts, i: number, maxChars: number): boolean {
  const start = p.offsets[i], end = p.offsets[i + 1];
  return end - start <= maxChars && isUtf8(p.bytes.subarray(start, end));
}

export function scorePacked(models: ScoreModels, p: PackedTexts, s: ScoreSettings): ScoreResult {
  const n = p.offsets.length - 1;
  const out: ScoreResult = { truncated: 0 };
  const { math, lid } = models;
  // `truncated` counts documents, so it is counted by one pass only: the math pass when there is one.
  if (lid) {
    const langs: string[] = (out.langs = new Array(n));
    const langScores = (out.langScores = new Float64Array(n));
    for (let i = 0; i < n; i++) {
      let r: { lang: string; score: number };
      if (rawBytesUsable(p, i, s.maxChars)) {
        r = identifyLanguageBytes(lid, p.bytes, p.offsets[i], p.offsets[i + 1]);
      } else {
        const { text, cut } = decodeBounded(p, i, s.maxChars);
        if (cut && !math) out.truncated++;
        r = identifyLanguage(lid, text);
      }
      langs[i] = r.lang;
      langScores[i] = r.score;
    }
  }
  if (math) {
    const label = math.labelIndex(s.label);
    const scores = (out.scores = new Float64Array(n));
    let scratch = new Uint8Array(0);
    for (let i = 0; i < n; i++) {
      if (s.preprocess === "none" && rawBytesUsable(p, i, s.maxChars)) {
        scores[i] = math.labelProbabilityBytes(p.bytes, p.offsets[i], p.offsets[i + 1], label);
        continue;
      }
      const { text, cut } = decodeBounded(p, i, s.maxChars);
      if (cut) out.truncated++;
      if (s.preprocess === "megamath") {
        const bytes = preprocessToBytes(text);
        scores[i] = math.labelProbabilityBytes(bytes, 0, bytes.length, label);
      } else {
        // Newlines need no replacing (see language ID above); only the encoding.
        if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
        const { written } = encoder.encodeInto(text, scratch);
        scores[i] = math.labelProbabilityBytes(scratch, 0, written, label);
      }
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
