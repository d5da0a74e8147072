// No silent success: a step that turns non-empty input into empty output, or keeps a smaller share of its documents
// than the recipe expects, stops with an error naming the step and the figures. A filter threshold typed on the
// wrong scale (math_score >= 40 instead of 0.4), a renamed column every row now lacks, or a language model that
// marks everything "unknown" all look like a successful run otherwise: zero rows written, exit 0, and the empty
// output flows into every later step.
import type { RunStatsJSON } from "./stats.js";

export interface Expect {
  /** Fail when fewer than this share (0..1) of the step's input documents reach its output. */
  minKeptShare?: number;
  /** Allow non-empty input to give empty output (default false: that fails). */
  allowEmpty?: boolean;
}

export class ExpectationError extends Error {
  constructor(readonly step: string, readonly docsIn: number, readonly docsOut: number, message: string) {
    super(message);
    this.name = "ExpectationError";
  }
}

/** Docs that entered the step (its first stage, the reader) and left it (its last stage). */
export function keptFigures(stats: RunStatsJSON): { docsIn: number; docsOut: number } {
  const first = stats.stages[0];
  const last = stats.stages[stats.stages.length - 1];
  return { docsIn: first?.docsIn ?? 0, docsOut: last?.docsOut ?? 0 };
}

/** Throw an ExpectationError when a step's figures break its bounds; `where` says which part of the run they cover
 * (e.g. "shard 0/2"). */
export function checkExpectation(step: string, docsIn: number, docsOut: number, expect: Expect = {}, where = ""): void {
  if (docsIn === 0) return;
  const share = docsOut / docsIn;
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 3 : 1)}%`;
  const at = where ? ` (${where})` : "";
  if (docsOut === 0 && !expect.allowEmpty) {
    throw new ExpectationError(step, docsIn, docsOut, `step "${step}"${at} turned ${docsIn} input documents into an empty ` +
      `output; if that is intended, allow it (expect: { allowEmpty: true })`);
  }
  if (expect.minKeptShare !== undefined && share < expect.minKeptShare && !(docsOut === 0 && expect.allowEmpty)) {
    throw new ExpectationError(step, docsIn, docsOut, `step "${step}"${at} kept ${docsOut} of ${docsIn} documents ` +
      `(${pct(share)}), fewer than the ${pct(expect.minKeptShare)} it expects (expect.minKeptShare ${expect.minKeptShare}); ` +
      `check its settings, or lower the bound`);
  }
}
