// The per-document work of the `score` stage, shared by the worker threads and the in-thread mode (workers = 0):
// decode a packed slice of texts, cut each to the documented maximum, MegaMath-preprocess it and read P(label)
// from the math model; optionally identify the language. Pure function of (models, texts): order is the input's.
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

/** Rows [a, b) of a packed column as a packed column of their own (a transferable copy). */
export function slicePacked(p: PackedTexts, a: number, b: number): PackedTexts {
  const base = p.offsets[a];
  const offsets = new Int32Array(b - a + 1);
  for (let i = a; i <= b; i++) offsets[i - a] = p.offsets[i] - base;
  return { bytes: p.bytes.slice(base, p.offsets[b]), offsets };
}
