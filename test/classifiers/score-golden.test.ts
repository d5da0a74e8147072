// The scored columns of a fixed real-data corpus must not change by a single bit when the score path is made
// faster. The digest below was recorded with the score stage as it was before the byte-level changes (string
// decode + re-encode for both models, one document at a time through both models), so it pins today's code to
// those exact float64 values; the native-tool comparisons in score.test.ts only check 6 printed digits.
// Inputs: real documents from ../shared/data (math Q&A, web, and the non-English Common Crawl pages as text
// paragraphs), the real lid.176.ftz, and a math model trained by the native fastText tool with one thread and a
// fixed seed (deterministic). If fastText's own tool or the shared data change, re-record the digest with the
// code of a known-good commit, never with the code under test.
// Since the projected rows became the default (classifiers/fasttext/projection.ts) this pins `--exact-rows` (the
// same digest as before); the default path is checked against it: every math_score within 1e-5, the same
// decisions at 0.4, some in their last bits apart, and lang / lang_score unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { makeBatch, getNumbers, getStrings, type Batch } from "../../lib/arrow/batch.js";
import { scoreStage } from "../../lib/classify/score-stage.js";
import { writeTrainingData } from "../../lib/classify/training-data.js";
import { labelledDocs } from "./labelled-data.js";
import { runStage } from "./stage-harness.js";
import { sharedData, tmpDir } from "../helpers.js";
import { needs } from "../oracles.js";

const EXPECTED = "1848 docs 14e941324140f9252f6753a09cdd3b10de47efbde24725b4a5c2fcc9422f1c3f";

/** Paragraphs of the non-English Common Crawl pages, tags stripped (text with many languages and scripts). */
function nonEnglishParagraphs(): string[] {
  const dir = sharedData("html", "non-english-cc");
  return readdirSync(dir).filter((f) => f.endsWith(".html.gz")).sort().flatMap((f) =>
    gunzipSync(readFileSync(join(dir, f))).toString("utf8").replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, " ")
      .split(/<\/p>|<br\s*\/?>|\n\s*\n/i).map((p) => p.replace(/<[^>]*>/g, " ").trim()).filter((p) => p.length > 20));
}

test("score --exact-rows: the scored columns of a real corpus are bit-identical to the recorded digest (2 workers, math + langid); the default within 1e-5", { skip: needs("fasttext") }, async () => {
  const dir = tmpDir();
  async function* train() {
    for (const d of labelledDocs(120)) yield makeBatch({ id: [d.id], text: [d.text], finemath_score: [d.score] });
  }
  await writeTrainingData(train(), join(dir, "train.txt"), join(dir, "valid.txt"),
    { rule: { kind: "score", column: "finemath_score", threshold: 3 }, validFraction: 0.01 });
  execFileSync("fasttext", ["supervised", "-input", join(dir, "train.txt"), "-output", join(dir, "math"), "-dim", "16",
    "-bucket", "50000", "-wordNgrams", "3", "-minCount", "2", "-epoch", "5", "-lr", "0.5", "-thread", "1", "-seed", "7"],
  { stdio: "ignore" });

  const texts = [...labelledDocs(300).map((d) => d.text), ...nonEnglishParagraphs(), "", "\n", "x"];
  const batches: Batch[] = [];
  for (let i = 0; i < texts.length; i += 256) {
    const part = texts.slice(i, i + 256);
    batches.push(makeBatch({ id: part.map((_, j) => String(i + j)), text: part }));
  }
  const stage = scoreStage({ modelPath: join(dir, "math.bin"), langid: true, workers: 2, exactRows: true });
  const { out } = await runStage(stage, batches);
  await stage.close!();
  const projectedStage = scoreStage({ modelPath: join(dir, "math.bin"), langid: true, workers: 2 });
  const { out: projected } = await runStage(projectedStage, batches);
  await projectedStage.close!();
  let maxDiff = 0, differ = 0;
  out.forEach((b, k) => {
    const e = getNumbers(b, "math_score"), p = getNumbers(projected[k]!, "math_score");
    for (let i = 0; i < e.length; i++) {
      const d = Math.abs(p[i]! - e[i]!);
      maxDiff = Math.max(maxDiff, d);
      if (d > 0) differ++;
      assert.equal(p[i]! >= 0.4, e[i]! >= 0.4, `decision at 0.4, batch ${k} row ${i}`);
    }
    assert.deepEqual(getNumbers(projected[k]!, "lang_score"), getNumbers(b, "lang_score"));
    assert.deepEqual(getStrings(projected[k]!, "lang"), getStrings(b, "lang"));
  });
  assert.ok(maxDiff <= 1e-5, `default (projected) path: max |diff| ${maxDiff}`);
  assert.ok(differ > 0, "the default path gave --exact-rows' bits: not projected");
  const h = createHash("sha256");
  let rows = 0;
  for (const b of out) {
    rows += b.numRows;
    h.update(Buffer.from(Float64Array.from(getNumbers(b, "math_score")).buffer));
    h.update(Buffer.from(Float64Array.from(getNumbers(b, "lang_score")).buffer));
    h.update(getStrings(b, "lang").join("\n") + "\n");
  }
  assert.equal(rows, texts.length);
  assert.ok(texts.length > 1500, `only ${texts.length} documents`);
  assert.equal(`${texts.length} docs ${h.digest("hex")}`, EXPECTED);
});
