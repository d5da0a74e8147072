// Counts what the build report draws from the scored documents — the score histogram (20 bins of 0.05) and the
// scored documents per year — as stage counters ("bin:07", "year:2019"). Counters merge by addition across files
// and shards, so the report needs no second read of the scored corpus, which a fused score → filter pass does not
// even write. Nothing is changed or dropped.
import type { Stage } from "../runtime/stage.js";
import { getNumbers, hasColumn } from "../arrow/batch.js";
import { batchYears, DEFAULT_YEAR_COLUMNS } from "../sample/year.js";

export const SCORE_BINS = 20;
export const SCORE_FIGURES_STAGE = "score-figures";

/** The bin of a score, exact at the edges: bin >= k exactly when s >= k/20 (so counts of s >= 0.4 are exact). */
export function scoreBin(s: number): number {
  let b = Math.max(0, Math.min(SCORE_BINS - 1, Math.floor(s * SCORE_BINS)));
  while (b < SCORE_BINS - 1 && s >= (b + 1) / SCORE_BINS) b++;
  while (b > 0 && s < b / SCORE_BINS) b--;
  return b;
}

export const binCounter = (b: number) => `bin:${String(b).padStart(2, "0")}`;

/** Count the `column` histogram and the years (a `year` column when a stage added one, else a dump name). */
export function scoreFiguresStage(column = "math_score"): Stage {
  return {
    name: SCORE_FIGURES_STAGE,
    identity: () => column,
    async *run(input, ctx) {
      for await (const batch of input) {
        if (hasColumn(batch, column)) {
          const s = getNumbers(batch, column);
          const years = batchYears(batch, ["year", ...DEFAULT_YEAR_COLUMNS]);
          for (let i = 0; i < s.length; i++) {
            if (Number.isNaN(s[i])) continue;
            ctx.stats.count(binCounter(scoreBin(s[i])));
            ctx.stats.count(`year:${years[i] ?? "unknown"}`);
          }
        }
        yield batch;
      }
    },
  };
}
