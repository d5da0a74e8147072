import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { trainClassifier } from "../../lib/classify/train-classifier.js";
import { tmpDir } from "../helpers.js";

function jsonl(path: string, rows: Record<string, unknown>[]): string {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return path;
}

test("train-classifier: a label column of the wrong type is reported with the file it is in", async () => {
  const dir = tmpDir();
  const ok = jsonl(join(dir, "a.jsonl"), [{ id: "a", text: "one two", score: 4, lab: "math" }]);
  const bad = jsonl(join(dir, "b.jsonl"), [{ id: "b", text: "three four", score: "4", lab: "web" }]);
  const fasttext = { dim: 4, bucket: 100 };
  await assert.rejects(trainClassifier({ inputs: [ok, bad], outDir: join(dir, "o1"), fasttext,
    rule: { kind: "score", column: "score", threshold: 3 } }), /b\.jsonl: column "score" has type Utf8, expected a numeric column/);
  await assert.rejects(trainClassifier({ inputs: [ok], outDir: join(dir, "o2"), fasttext,
    rule: { kind: "label", column: "lab" } }), /a\.jsonl: label column "lab" holds strings/);
});
