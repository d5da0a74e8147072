// Adds the Common Crawl year of every document as an Int32 column (null when no column names one). Nothing is
// dropped: unlike `sample`, a document without a year is kept and counted (counter "no_year").
import { Int32 } from "apache-arrow";
import type { Stage } from "../runtime/stage.js";
import { withColumn } from "../arrow/batch.js";
import { batchYears, DEFAULT_YEAR_COLUMNS } from "../sample/year.js";

export function yearStage(column = "year", from: readonly string[] = DEFAULT_YEAR_COLUMNS): Stage {
  return {
    name: "year",
    async *run(input, ctx) {
      for await (const batch of input) {
        const years = batchYears(batch, from);
        const missing = years.filter((y) => y === null).length;
        if (missing) ctx.stats.count("no_year", missing);
        yield withColumn(batch, column, years, new Int32());
      }
    },
  };
}
