// pipelines/megamath-web.json run by `megamath build`, WARC to MegaMath-Web-like Parquet: checks that the final
// Parquet has the columns later steps read without options, that every stage's accounting holds, and that a second
// build reuses every step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { repoRoot, tmpDir } from "../helpers.js";
import { readDocuments, expandInputs } from "../../lib/io/index.js";

test("megamath build pipelines/megamath-web.json: WARC → extract → score (langid + math) → filter", async () => {
  const out = tmpDir();
  const build = (...flags: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), "build",
    join(repoRoot, "pipelines", "megamath-web.json"), "-o", out, "--workers", "1", ...flags], { cwd: repoRoot, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  const r = build("-q");
  assert.equal(r.status, 0, r.stderr);
  const stats = (n: string) => JSON.parse(readFileSync(join(out, n, "stats.json"), "utf8"));
  const ex = stats("extract");
  const by = Object.fromEntries(ex.stages.map((s: { name: string }) => [s.name, s]));
  assert.equal(by.read.docsOut, 68); // response records of the four WARC files
  // None of these 68 real URLs is on the lists (test/extract/url-filter.test.ts checks the lists themselves).
  assert.deepEqual([by["url-filter"].docsIn, by["url-filter"].docsOut], [68, 68]);
  for (const step of ["extract", "score", "filter"]) for (const s of stats(step).stages) {
    const removed = Object.values(s.removed as Record<string, number>).reduce((a, b) => a + b, 0);
    const failed = Object.values(s.failed as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.equal(s.docsIn, s.docsOut + removed + failed, `${step}/${s.name}`);
  }
  const files = await expandInputs([join(out, "filter", "*.parquet")]);
  const cols = new Set<string>();
  let rows = 0;
  for (const f of files) for await (const b of readDocuments(f)) {
    b.schema.fields.forEach((x) => cols.add(x.name));
    rows += b.numRows;
    for (const lang of b.getChild("lang")!.toArray()) assert.equal(lang, "en");
  }
  for (const c of ["text", "id", "url", "warc_date", "dump", "year", "lang", "lang_score", "math_score"]) assert.ok(cols.has(c), c);
  const f = stats("filter").stages.find((s: { name: string }) => s.name === "filter");
  assert.equal(rows, f.docsOut);
  assert.ok(f.docsIn > rows, "the first-pass filter removes the non-math, non-English pages");
  const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { steps: { step: string; status: string }[] };
  assert.deepEqual(report.steps.map((s) => [s.step, s.status]), [["extract", "ran"], ["train-classifier", "ran"], ["score", "ran"], ["filter", "ran"]]);
  const again = build();
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stderr.match(/done before, skipped/g)?.length, 4, again.stderr);
});
