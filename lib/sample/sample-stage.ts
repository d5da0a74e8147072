// Year-stratified uniform sampling as a stage: a document is kept when hash(seed, id) falls under its year's
// threshold — a fixed fraction for every year, or per-year thresholds from a bottom-k plan (exactly N per year).
// Documents without a year are removed as "no_year"; the others not drawn as "not_sampled".
import { Int32 } from "apache-arrow";
import type { Batch } from "../arrow/batch.js";
import { getStrings, takeRows, withColumn } from "../arrow/batch.js";
import type { Stage, StageContext } from "../runtime/stage.js";
import { hashUnit } from "./hash.js";
import type { SamplePlan } from "./plan.js";
import { batchYears, DEFAULT_YEAR_COLUMNS } from "./year.js";

export interface SampleOptions {
  /** Keep this fraction of every year (0..1). */
  fraction?: number;
  /** Or: per-year thresholds from a plan (exactly plan.perYear per year across all shards). */
  plan?: SamplePlan;
  yearColumns?: string[];
  /** Write the year found into this column (empty: do not). */
  yearColumn?: string;
  /** Seed override; default ctx.seed (must equal the plan's seed when a plan is given). */
  seed?: number;
}

export function sampleStage(o: SampleOptions): Stage {
  if ((o.fraction === undefined) === (o.plan === undefined)) throw new Error("sample: give exactly one of fraction or plan");
  if (o.fraction !== undefined && !(o.fraction >= 0 && o.fraction <= 1)) throw new Error("sample: fraction must be in [0, 1]");
  const columns = o.yearColumns ?? o.plan?.yearColumns ?? DEFAULT_YEAR_COLUMNS;
  return {
    name: "sample",
    requires: ["id"],
    async *run(input: AsyncIterable<Batch>, ctx: StageContext) {
      const seed = o.seed ?? o.plan?.seed ?? ctx.seed;
      if (o.plan && o.plan.seed !== seed) {
        throw new Error(`sample: the plan was made with seed ${o.plan.seed}, this run uses seed ${seed}`);
      }
      for await (const batch of input) {
        const ids = getStrings(batch, "id");
        const ys = batchYears(batch, columns);
        const keep: number[] = [];
        const years: number[] = [];
        let noYear = 0;
        for (let i = 0; i < ids.length; i++) {
          const y = ys[i];
          if (y === null) {
            noYear++;
            continue;
          }
          const t = o.fraction ?? o.plan!.years[String(y)]?.threshold;
          // A year the plan has not seen (input changed since planning) keeps nothing rather than guessing.
          if (t === undefined) {
            ctx.stats.count("sample_year_not_in_plan");
            continue;
          }
          if (hashUnit(ids[i] ?? "", seed) <= t && !(o.fraction === 0)) {
            keep.push(i);
            years.push(y);
            ctx.stats.count(`kept_year_${y}`);
          }
        }
        ctx.stats.remove("no_year", noYear);
        ctx.stats.remove("not_sampled", ids.length - noYear - keep.length);
        let b = takeRows(batch, keep);
        if (o.yearColumn) b = withColumn(b, o.yearColumn, Int32Array.from(years), new Int32());
        yield b;
      }
    },
  };
}
