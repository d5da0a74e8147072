import { defineCommand, UsageError } from "../command.js";
import { pipelineOptions, requireInputOutput, runPipelineCommand } from "../pipeline.js";
import { expandInputs, readDocuments } from "../../lib/io/index.js";
import { sampleStage } from "../../lib/sample/sample-stage.js";
import { PlanBuilder, readPlan, writePlan, type SamplePlan } from "../../lib/sample/plan.js";
import { DEFAULT_YEAR_COLUMNS, PATH_DATE, columnName } from "../../lib/sample/year.js";
import { describeFile } from "../../lib/io/inspect.js";

export default defineCommand({
  name: "sample",
  usage: "sample --input GLOB --output DIR (--per-year N | --fraction F) [--year-columns COLS] [--plan FILE]",
  details: [
    "The year of a document comes from the first of --year-columns that has one: a Common Crawl dump name anywhere",
    "in a string (CC-MAIN-2019-04, also inside WARC/WET paths or JSON text), an ISO date/timestamp, a bare year, or",
    "a date/timestamp column; dotted paths reach into struct columns (metadata.cc_segment). COLUMN#path-date reads",
    "the year of a date in a URL's path (/2019/03/), the date the page claims rather than its crawl (opt-in). With",
    "--per-year, a corpus where no document has a year stops before sampling, naming the columns it has. Documents without a year",
    "are removed as no_year. A document is drawn when hash(seed, id) is under its year's threshold, so every shard",
    "decides alone and the same seed gives the same sample under any sharding.",
    "--per-year N is exact across shards: a first pass over ALL inputs (ids and year columns) finds each year's",
    "N-th smallest hash. Run it once with --write-plan FILE and give --plan FILE to the shards, or let every shard",
    "do the first pass itself (same result, more reading).",
  ].join("\n"),
  options: {
    ...pipelineOptions,
    "per-year": { type: "integer", placeholder: "N", description: "Documents to draw per year (all of a year with fewer)." },
    fraction: { type: "number", placeholder: "F", description: "Fraction (0..1) of every year to draw." },
    "year-columns": { type: "list", placeholder: "COLS",
      description: `Columns to take the year from, tried in order per document (default: the plan's with --plan, else ${DEFAULT_YEAR_COLUMNS.join(",")}).` },
    "year-output": { type: "string", placeholder: "COLUMN", description: "Write the year found into this column." },
    plan: { type: "string", placeholder: "FILE", description: "Use a plan written by --write-plan (with --per-year runs)." },
    "write-plan": { type: "string", placeholder: "FILE", description: "Only compute the per-year plan over all inputs, write it, and exit." },
  },
  async run({ opts, ctx }) {
    const perYear = opts["per-year"];
    const fraction = opts.fraction;
    const givenColumns = opts["year-columns"];
    let yearColumns = givenColumns ?? DEFAULT_YEAR_COLUMNS;
    const seed = opts.seed;
    if (opts.plan && fraction !== undefined) throw new UsageError("--plan goes with --per-year, not --fraction");
    if ((perYear === undefined && !opts.plan) === (fraction === undefined)) {
      throw new UsageError("give exactly one of --per-year N (or --plan FILE) and --fraction F");
    }
    if (fraction !== undefined && !(fraction >= 0 && fraction <= 1)) throw new UsageError("--fraction must be in [0, 1]");
    if (perYear !== undefined && perYear < 0) throw new UsageError("--per-year must be >= 0");

    let plan: SamplePlan | undefined;
    if (opts.plan) {
      plan = await readPlan(String(opts.plan));
      if (perYear !== undefined && plan.perYear !== perYear) {
        throw new UsageError(`--per-year ${perYear} differs from the plan's ${plan.perYear} (${opts.plan})`);
      }
      if (plan.seed !== seed) throw new UsageError(`--seed ${seed} differs from the plan's seed ${plan.seed} (${opts.plan})`);
      // The thresholds only mean something for years read from the columns the plan was made with.
      if (givenColumns && givenColumns.join("\0") !== plan.yearColumns.join("\0")) {
        throw new UsageError(`--year-columns ${givenColumns.join(",")} differs from the plan's ${plan.yearColumns.join(",")} (${opts.plan})`);
      }
      yearColumns = plan.yearColumns;
    } else if (perYear !== undefined) {
      plan = await buildPlan(opts, perYear, seed, yearColumns);
      const years = Object.entries(plan.years).map(([y, e]) => `${y}: ${e.keep}/${e.docs}`).join(", ");
      ctx.log.info(`sample plan: ${years || "no years found"}; ${plan.noYear} document(s) without a year`);
      if (!Object.keys(plan.years).length) throw new UsageError(await noYearMessage(opts.input ?? [], plan.noYear, yearColumns));
      if (opts["write-plan"]) {
        await writePlan(String(opts["write-plan"]), plan);
        ctx.log.info(`wrote ${opts["write-plan"]}`);
        return 0;
      }
    }
    if (opts["write-plan"]) throw new UsageError("--write-plan needs --per-year");
    const stage = sampleStage({ fraction, plan, yearColumns, yearColumn: opts["year-output"], seed });
    return (await runPipelineCommand(opts, ctx, [stage], { name: "sample" })).code;
  },
});

/** Pass 1 over every input file (not just this shard's), reading ids and the year columns only. */
async function buildPlan(
  opts: { "write-plan"?: string; input?: string[]; output?: string; "text-key": string; "id-key": string; "on-error": "fail" | "skip" }, perYear: number, seed: number, yearColumns: string[]): Promise<SamplePlan> {
  const { inputs } = opts["write-plan"] && !opts.output ? { inputs: opts.input } : requireInputOutput(opts);
  if (!inputs?.length) throw new UsageError("--input is required (files or globs)");
  const builder = new PlanBuilder(perYear, seed, yearColumns);
  const top = [...new Set(yearColumns.map((c) => columnName(c).split(".")[0]))];
  const files = await expandInputs(inputs);
  for (const file of files) {
    const batches = readDocuments(file, {
      textKey: opts["text-key"], idKey: opts["id-key"], columns: top,
      onError: opts["on-error"], inputs: files, // the same default ids as the sampling run
    });
    for await (const b of batches) builder.add(b);
  }
  return builder.build();
}

/** Why nothing can be sampled: the documents seen, the columns tried and the columns the files have. */
async function noYearMessage(inputs: string[], docs: number, tried: string[]): Promise<string> {
  const files = await expandInputs(inputs);
  const found = files.length ? (await describeFile(files[0], { rows: 0 })).schema.map((c) => c.name) : [];
  const urlLike = found.filter((c) => /url|link/i.test(c));
  return [
    `sample: none of the ${docs} document(s) has a year: tried the columns ${tried.join(", ")}; the input has ${found.join(", ") || "no columns"}.`,
    "Name the column that carries the crawl date with --year-columns COLUMN (a Common Crawl dump name such as CC-MAIN-2023-50,",
    "a WARC path, an ISO date or timestamp, or a bare year; in a build: --set sample.year-columns=COLUMN)" +
      (urlLike.length ? `, or read dates in URL paths with --year-columns ${urlLike[0]}${PATH_DATE} (the date a page claims, not its crawl).` : "."),
  ].join("\n");
}
