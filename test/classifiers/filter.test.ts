import { test } from "node:test";
import assert from "node:assert/strict";
import { makeBatch, batchRows } from "../../lib/arrow/batch.js";
import { filterStage, parseConditions } from "../../lib/stages/filter.js";
import { runStage } from "./stage-harness.js";

const batch = () => makeBatch({
  id: ["a", "b", "c", "d", "e", "f"],
  text: ["t1", "t2", "t3", "t4", "t5", "t6"],
  math_score: [0.9, 0.4, 0.39999, NaN, null, 0.7],
  lang: ["en", "en", "en", "en", "en", "fr"],
  extra: [1, 2, 3, 4, 5, 6],
});

test("filter --min keeps >= and counts the rest by reason (NaN and null as missing)", async () => {
  const { out, stats } = await runStage(filterStage({ conditions: parseConditions({ min: ["math_score=0.4"] }) }), [batch()]);
  const rows = out.flatMap(batchRows);
  assert.deepEqual(rows.map((r) => r.id), ["a", "b", "f"]);
  assert.deepEqual(rows.map((r) => r.extra), [1, 2, 6]); // other columns pass through
  assert.deepEqual(stats.removed, { "math_score<0.4": 1, "math_score:missing": 2 });
  assert.equal(stats.check(), null);
});

test("filter: several conditions, each dropped row counted once under its first failing condition", async () => {
  const conditions = parseConditions({ min: ["math_score=0.5"], equals: ["lang=en"] });
  const { out, stats } = await runStage(filterStage({ conditions }), [batch(), batch()]);
  assert.deepEqual(out.flatMap(batchRows).map((r) => r.id), ["a", "a"]);
  assert.deepEqual(stats.removed, { "math_score<0.5": 4, "math_score:missing": 4, "lang!=en": 2 });
  assert.equal(stats.docsIn, 12);
  assert.equal(stats.check(), null);
});

test("filter --max and --equals", async () => {
  const { out, stats } = await runStage(filterStage({ conditions: parseConditions({ max: ["extra=4"], equals: ["lang=fr"] }) }), [batch()]);
  assert.deepEqual(out.flatMap(batchRows).map((r) => r.id), []);
  assert.deepEqual(stats.removed, { "extra>4": 2, "lang!=fr": 4 });
});

test("filter: bad flags and missing or non-numeric columns fail clearly", async () => {
  assert.throws(() => parseConditions({ min: ["math_score"] }), /COLUMN=VALUE/);
  assert.throws(() => parseConditions({ min: ["math_score=high"] }), /not a number/);
  assert.throws(() => filterStage({ conditions: [] }), /no conditions/);
  await assert.rejects(runStage(filterStage({ conditions: parseConditions({ min: ["nope=1"] }) }), [batch()]),
    /test-input\.parquet.*missing column "nope"/);
  await assert.rejects(runStage(filterStage({ conditions: parseConditions({ min: ["lang=1"] }) }), [batch()]),
    /column "lang" has type Utf8, expected a numeric column/);
});

test("filter flags: split at the first '=' (values may hold '='); blank columns or values are rejected", () => {
  assert.deepEqual(parseConditions({ equals: ["url=https://x.org/?a=b"] }),
    [{ kind: "equals", column: "url", value: "https://x.org/?a=b" }]);
  assert.deepEqual(parseConditions({ min: [" math_score = 0.4 "] }), [{ kind: "min", column: "math_score", value: 0.4 }]);
  assert.throws(() => parseConditions({ min: ["math_score= "] }), /COLUMN=VALUE/); // was read as math_score >= 0
  assert.throws(() => parseConditions({ equals: [" =en"] }), /COLUMN=VALUE/);
});
