import { test } from "node:test";
import assert from "node:assert/strict";
import { DateMillisecond, TimestampMillisecond } from "apache-arrow";
import { makeBatch, type Batch } from "../../lib/arrow/batch.js";
import { yearFromString, batchYears, yearFromUrlPath, yearColumnUse, DEFAULT_YEAR_COLUMNS } from "../../lib/sample/year.js";
import { hashUnit } from "../../lib/sample/hash.js";
import { PlanBuilder } from "../../lib/sample/plan.js";
import { sampleStage } from "../../lib/sample/sample-stage.js";
import { tmpDir } from "../helpers.js";
import { runStage } from "./util.js";

const OUT = tmpDir(); // the sample stage writes nothing there

test("years from dump names, WARC paths, ISO timestamps, bare years, date columns", () => {
  assert.equal(yearFromString("CC-MAIN-2019-04"), 2019);
  assert.equal(yearFromString("s3://commoncrawl/crawl-data/CC-MAIN-2020-16/segments/1585/wet/x.warc.wet.gz"), 2020);
  assert.equal(yearFromString('{"cc_segment":"crawl-data/CC-MAIN-2014-10/segments"}'), 2014);
  assert.equal(yearFromString("2020-03-29T09:04:10Z"), 2020);
  assert.equal(yearFromString("2023-04-07T15:24:38.743534+00:00"), 2023);
  assert.equal(yearFromString("2017"), 2017);
  assert.equal(yearFromString("http://100kinvesting.com/2016/11/28/post/"), null); // a page URL is not a crawl date
  assert.equal(yearFromString("1066"), null);
  assert.equal(yearFromString("n/a"), null);
  const b = makeBatch({
    id: ["a", "b", "c", "d"],
    dump: [null, "CC-MAIN-2018-05", null, null],
    date: [Date.UTC(2016, 5, 1), Date.UTC(2016, 5, 1), null, Date.UTC(2021, 0, 1)],
    ts: [null, null, Date.UTC(2015, 0, 1), null],
  }, { date: new DateMillisecond(), ts: new TimestampMillisecond() });
  assert.deepEqual(batchYears(b, ["dump", "ts", "date"]), [2016, 2018, 2015, 2021]);
});

test("hash is uniform enough and seed-dependent", () => {
  let sum = 0;
  let under = 0;
  for (let i = 0; i < 20000; i++) {
    const u = hashUnit(`doc-${i}`, 7);
    assert.ok(u >= 0 && u < 1);
    sum += u;
    if (u < 0.1) under++;
  }
  assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01, `mean ${sum / 20000}`);
  assert.ok(Math.abs(under - 2000) < 200, `under 0.1: ${under}`);
  assert.notEqual(hashUnit("x", 1), hashUnit("x", 2));
});

// 5 "files" of documents from years 2014..2024 (years weighted unevenly), some without any year.
function corpus(): Batch[] {
  const files: Batch[] = [];
  let n = 0;
  for (let f = 0; f < 5; f++) {
    const ids: string[] = [];
    const dumps: (string | null)[] = [];
    for (let i = 0; i < 400; i++, n++) {
      ids.push(`https://example.org/page/${n}`);
      const y = 2014 + ((n * 7919) % 97) % 11;
      dumps.push(n % 23 === 0 ? null : `crawl-data/CC-MAIN-${y}-${String(10 + (n % 40)).padStart(2, "0")}/segments/x.warc.gz`);
    }
    files.push(makeBatch({ id: ids, text: ids.map((i) => `text of ${i}`), "cc-path": dumps }));
  }
  return files;
}

test("per-year N is exact across shards and independent of sharding; no-year documents counted", async () => {
  const files = corpus();
  const builder = new PlanBuilder(30, 42, ["cc-path"]);
  for (const b of files) builder.add(b);
  const plan = builder.build();
  assert.equal(plan.noYear, files.length * 400 - Object.values(plan.years).reduce((s, e) => s + e.docs, 0));
  // Two shardings: one stage run per file, and one run over all files at once.
  const perFile: string[] = [];
  let removed = { no_year: 0, not_sampled: 0 };
  for (const b of files) {
    const { rows, stats } = await runStage(sampleStage({ plan, yearColumn: "year" }), [b], { outDir: OUT });
    perFile.push(...rows.map((r) => `${r.year}:${r.id}`));
    removed = { no_year: removed.no_year + (stats.removed.no_year ?? 0), not_sampled: removed.not_sampled + (stats.removed.not_sampled ?? 0) };
    assert.equal(stats.check(), null);
  }
  const { rows: whole } = await runStage(sampleStage({ plan, yearColumn: "year" }), files, { outDir: OUT });
  assert.deepEqual(whole.map((r) => `${r.year}:${r.id}`).sort(), [...perFile].sort());
  const perYear = new Map<number, number>();
  for (const r of whole) perYear.set(r.year as number, (perYear.get(r.year as number) ?? 0) + 1);
  for (const [y, e] of Object.entries(plan.years)) assert.equal(perYear.get(Number(y)), Math.min(30, e.docs), `year ${y}`);
  assert.equal(removed.no_year, plan.noYear);
  assert.equal(whole.length + removed.no_year + removed.not_sampled, 2000);
});

test("fraction sampling: same ids drawn whatever the batching; seed changes the draw", async () => {
  const files = corpus();
  const run = async (batches: Batch[], seed: number) =>
    (await runStage(sampleStage({ fraction: 0.25, yearColumns: ["cc-path"], seed }), batches, { outDir: OUT })).rows.map((r) => r.id);
  const a = await run(files, 1);
  const b = (await Promise.all(files.map((f) => run([f], 1)))).flat();
  assert.deepEqual(a, b);
  const withYear = 2000 - files.reduce((s, f) => s + batchYears(f, ["cc-path"]).filter((y) => y === null).length, 0);
  assert.ok(Math.abs(a.length - withYear * 0.25) < withYear * 0.05, `${a.length} of ${withYear}`);
  assert.notDeepEqual(await run(files, 2), a);
});

test("sample --plan takes the year columns the plan was made with; different --year-columns are refused", async () => {
  const { writeFileSync, readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { main } = await import("../../cli/main.js");
  const dir = tmpDir();
  const input = join(dir, "docs.jsonl");
  // The year is only in a non-default column; the default columns would find none ("date" here is not a date).
  writeFileSync(input, Array.from({ length: 90 }, (_, i) =>
    JSON.stringify({ id: `d${i}`, text: `doc ${i}`, snap: `CC-MAIN-${2018 + (i % 3)}-04`, date: "n/a" }) + "\n").join(""));
  const plan = join(dir, "plan.json");
  const q = ["--quiet"];
  assert.equal(await main(["sample", "-i", input, "--per-year", "5", "--year-columns", "snap", "--write-plan", plan, ...q]), 0);
  const out = join(dir, "out");
  assert.equal(await main(["sample", "-i", input, "-o", out, "--plan", plan, ...q]), 0);
  const s = JSON.parse(readFileSync(join(out, "stats.json"), "utf8")).stages.find((x: { name: string }) => x.name === "sample");
  assert.equal(s.docsOut, 15);
  assert.deepEqual(s.removed, { not_sampled: 75 });
  assert.notEqual(await main(["sample", "-i", input, "-o", join(dir, "out2"), "--plan", plan, "--year-columns", "date", ...q]), 0);
});

test("years where real corpora keep them: FineMath's crawl/fetch_time, extract's warc_date; URL path dates only when asked", () => {
  const b = makeBatch({
    id: ["a", "b", "c", "d"],
    crawl: ["CC-MAIN-2021-04", null, null, null],
    warc_date: [null, "2019-04-20T11:02:03Z", null, null],
    fetch_time: [null, null, "2016-05-01T00:00:00Z", null],
    url: ["https://x.org/2010/01/a", "https://x.org/b", "https://x.org/c", "https://blog.example.com/2015/11/28/post/"],
  });
  // The URL's /2015/11/ is not a crawl date: only COLUMN#path-date reads it.
  assert.deepEqual(batchYears(b, DEFAULT_YEAR_COLUMNS), [2021, 2019, 2016, null]);
  assert.deepEqual(batchYears(b, [...DEFAULT_YEAR_COLUMNS, "url#path-date"]), [2021, 2019, 2016, 2015]);
  assert.deepEqual(yearColumnUse(b, DEFAULT_YEAR_COLUMNS), { byColumn: { crawl: 1, warc_date: 1, fetch_time: 1 }, none: 1, years: { 2021: 1, 2019: 1, 2016: 1 } });
  assert.equal(yearFromUrlPath("https://news.example.com/2019-03-04-some-title"), 2019);
  assert.equal(yearFromUrlPath("https://example.com/archive/2012/07/"), 2012);
  assert.equal(yearFromUrlPath("https://example.com/item/2019/"), null); // a bare number segment is no date
  assert.equal(yearFromUrlPath("https://example.com/p?id=2019/03/"), null); // query strings are not paths
  assert.equal(yearFromUrlPath("https://2019.example.com/03/"), null); // nor host names
});

test("sample --per-year on a corpus with no year stops before sampling, with the figures and the columns it has", async () => {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { main } = await import("../../cli/main.js");
  const dir = tmpDir();
  const input = join(dir, "cc.jsonl");
  writeFileSync(input, Array.from({ length: 30 }, (_, i) => JSON.stringify({ url: `https://example.org/${i}`, text: `page ${i}` }) + "\n").join(""));
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(["sample", "-i", input, "-o", join(dir, "out"), "--per-year", "5"]);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 2);
  const err = chunks.join("");
  assert.match(err, /none of the 30 document\(s\) has a year: tried the columns dump, crawl, cc-path/);
  assert.match(err, /the input has url, text/);
  assert.match(err, /--year-columns url#path-date/);
  // The URL dates it offers do work.
  writeFileSync(input, Array.from({ length: 30 }, (_, i) => JSON.stringify({ url: `https://example.org/${2014 + (i % 3)}/05/p${i}`, text: `page ${i}` }) + "\n").join(""));
  assert.equal(await main(["sample", "-i", input, "-o", join(dir, "out2"), "--per-year", "5", "--year-columns", "url#path-date", "--quiet"]), 0);
});
