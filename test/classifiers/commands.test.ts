// The three commands end to end on Parquet inputs built from ../shared/data, through the real CLI:
// train-classifier -> score (2 worker threads, language ID; and --exact-rows) -> filter.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { readDocuments } from "../../lib/io/index.js";
import { batchRows } from "../../lib/arrow/batch.js";
import { labelledDocs, writeLabelledParquet } from "./labelled-data.js";
import { tmpDir, repoRoot } from "../helpers.js";

function megamath(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function rowsOf(dir: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".parquet")).sort()) {
    for await (const b of readDocuments(join(dir, f))) out.push(...batchRows(b));
  }
  return out;
}

test("train-classifier, score and filter on Parquet made from shared data", async () => {
  const dir = tmpDir();
  const inputs = await writeLabelledParquet(join(dir, "in"), labelledDocs(100), 250);
  const glob = join(dir, "in", "*.parquet");

  // train-classifier: small bucket/dim so the test is quick; everything else at the MegaMath defaults
  const t = megamath(["train-classifier", "--input", glob, "--output", join(dir, "clf"), "--score-column", "finemath_score",
    "--threshold", "3", "--bucket", "20000", "--dim", "32", "--epoch", "10", "--lr", "0.5", "--min-count", "2", "--seed", "7"]);
  assert.equal(t.code, 0, t.err);
  const metrics = JSON.parse(readFileSync(join(dir, "clf", "metrics.json"), "utf8"));
  assert.equal(metrics.fasttext.wordNgrams, 3);
  assert.equal(metrics.data.train.docs + metrics.data.valid.docs, 600);
  assert.ok(metrics.validation.docs > 20);
  for (const k of ["0.4", "0.5"]) assert.ok(metrics.validation.at[k].f1 > 0.8, `F1 at ${k}: ${metrics.validation.at[k].f1}`);
  assert.equal(metrics.validation.prCurve.length, 101);
  assert.match(readFileSync(join(dir, "clf", "pr-curve.svg"), "utf8"), /^<svg /);
  assert.ok(existsSync(join(dir, "clf", "model.bin")));
  assert.match(t.err, /at 0\.4 P=/);

  // the same seed gives the same data files and report
  const t2 = megamath(["train-classifier", "--input", glob, "--output", join(dir, "clf2"), "--score-column", "finemath_score",
    "--threshold", "3", "--bucket", "20000", "--dim", "32", "--epoch", "10", "--lr", "0.5", "--min-count", "2", "--seed", "7"]);
  assert.equal(t2.code, 0, t2.err);
  for (const f of ["train.txt", "valid.txt", "metrics.json"]) {
    assert.equal(readFileSync(join(dir, "clf2", f), "utf8").replaceAll("clf2", "clf"), readFileSync(join(dir, "clf", f), "utf8"), f);
  }

  // score with 2 workers and language ID
  const s = megamath(["score", "--model", join(dir, "clf", "model.bin"), "--input", glob, "--output", join(dir, "scored"),
    "--langid", "--workers", "2"]);
  assert.equal(s.code, 0, s.err);
  const scored = await rowsOf(join(dir, "scored"));
  assert.equal(scored.length, 600);
  const inputIds: string[] = [];
  for (const f of inputs) for await (const b of readDocuments(f)) inputIds.push(...batchRows(b).map((r) => r.id as string));
  assert.deepEqual(scored.map((r) => r.id), inputIds);
  assert.ok(scored.every((r) => typeof r.math_score === "number" && typeof r.lang === "string" && typeof r.lang_score === "number"));

  // --exact-rows (fastText's float32 row sums): the same scores to within 1e-5 as the default projected rows (not
  // bit-identical), the same decisions at 0.4
  const sp = megamath(["score", "--model", join(dir, "clf", "model.bin"), "--input", glob, "--output", join(dir, "scored-e"),
    "--exact-rows", "--workers", "1"]);
  assert.equal(sp.code, 0, sp.err);
  const exact = await rowsOf(join(dir, "scored-e"));
  assert.deepEqual(exact.map((r) => r.id), inputIds);
  let differ = 0;
  exact.forEach((r, i) => {
    const e = r.math_score as number, p = scored[i]!.math_score as number;
    assert.ok(Math.abs(p - e) < 1e-5, `row ${i}: ${p} vs ${e}`);
    assert.equal(p >= 0.4, e >= 0.4);
    if (p !== e) differ++;
  });
  assert.ok(differ > 0, "the default gave --exact-rows' bits: not projected");

  // filter: math_score >= 0.4 and English
  const f = megamath(["filter", "--input", join(dir, "scored", "*.parquet"), "--output", join(dir, "kept"),
    "--min", "math_score=0.4", "--equals", "lang=en"]);
  assert.equal(f.code, 0, f.err);
  const kept = await rowsOf(join(dir, "kept"));
  assert.ok(kept.every((r) => (r.math_score as number) >= 0.4 && r.lang === "en"));
  const expectKept = scored.filter((r) => (r.math_score as number) >= 0.4 && r.lang === "en").length;
  assert.equal(kept.length, expectKept);
  const mathKept = kept.filter((r) => r.label === "math").length;
  assert.ok(mathKept / kept.length > 0.9, `precision on kept ${mathKept}/${kept.length}`);
  const stats = JSON.parse(readFileSync(join(dir, "kept", "stats.json"), "utf8"));
  const st = stats.stages.find((x: { name: string }) => x.name === "filter");
  const removed = Object.values(st.removed as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.equal(st.docsIn, 600);
  assert.equal(st.docsOut + removed, 600);
  assert.ok((st.removed["math_score<0.4"] ?? 0) > 100);
});

test("commands reject bad usage with exit code 2", () => {
  assert.equal(megamath(["filter", "--input", "x", "--output", "y"]).code, 2);
  assert.match(megamath(["filter", "--input", "x", "--output", "y", "--min", "math_score"]).err, /COLUMN=VALUE/);
  assert.equal(megamath(["score", "--input", "x", "--output", "y"]).code, 2);
  assert.match(megamath(["train-classifier", "--input", "x", "--output", "y", "--score-column", "s"]).err, /--threshold/);
});

test("train-classifier names the file when the label column is absent", async () => {
  const dir = tmpDir();
  await writeLabelledParquet(join(dir, "in"), labelledDocs(5), 100);
  const r = megamath(["train-classifier", "--input", join(dir, "in", "*.parquet"), "--output", join(dir, "o"),
    "--score-column", "no_such_score", "--threshold", "3", "--bucket", "1000", "--dim", "8"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /labelled-000\.parquet.*no_such_score/);
});
