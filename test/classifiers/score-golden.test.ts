// The scored columns of a fixed real-data corpus must not change by a single bit when the score path is made
// faster. The digest below was recorded with the score stage as it was before the byte-level changes (string
// decode + re-encode for both models, one document at a time through both models), so it pins today's code to
// those exact float64 values; the native-tool comparisons in score.test.ts only check 6 printed digits.
// Inputs: real documents from ../shared/data (math Q&A, web, and the non-English Common Crawl pages as text
// paragraphs), the real lid.176.ftz, and a math model trained by the native fastText tool with one thread and a
// fixed seed (deterministic). If fastText's own tool or the shared data change, re-record the digest with the
// code of a known-good commit, never with the code under test.
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

test("score: the scored columns of a real corpus are bit-identical to the recorded digest (2 workers, math + langid)", { skip: needs("fasttext") }, async () => {
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
  const stage = scoreStage({ modelPath: join(dir, "math.bin"), langid: true, workers: 2 });
  const { out } = await runStage(stage, batches);
  await stage.close!();
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
