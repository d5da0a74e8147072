// MegaMath preprocessing must equal the Python reference (nltk wordpunct_tokenize etc.) byte for byte.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { preprocessForFastText, MAX_LINE_TOKENS } from "../../lib/classify/preprocess.js";
import { tricky, bigLine, realDocuments } from "../../fixtures/classifiers/preprocess-inputs.js";

const expected = JSON.parse(readFileSync(new URL("../../fixtures/classifiers/preprocess-expected.json", import.meta.url), "utf8"));
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

for (const name of Object.keys(tricky)) {
  test(`preprocess matches the Python reference: ${name}`, () => {
    assert.equal(expected.cases[name].text, tricky[name], "fixture input drifted; regenerate the expected file");
    assert.equal(preprocessForFastText(tricky[name]), expected.cases[name].out);
  });
}

test("preprocess: a 1 MB single-line document matches the reference and gets <EOS> every 1024 tokens", () => {
  const out = preprocessForFastText(bigLine());
  assert.equal(out.length, expected.bigLine.length);
  assert.equal(sha(out), expected.bigLine.sha256);
  const parts = out.split(" <EOS> ");
  assert.ok(parts.length > 10);
  for (const p of parts.slice(0, -1)) assert.equal(p.split(" ").length, MAX_LINE_TOKENS);
});

test("preprocess matches the reference on real documents from ../shared/data", () => {
  const docs = realDocuments();
  assert.equal(docs.length, expected.real.length);
  docs.forEach((d, i) => {
    assert.equal(`${d.file}#${d.row}`, `${expected.real[i].file}#${expected.real[i].row}`);
    assert.equal(sha(preprocessForFastText(d.text)), expected.real[i].sha256, `${d.file} row ${d.row}`);
  });
});

test("preprocess rules spelled out", () => {
  assert.equal(preprocessForFastText("Hello, World! 42 apples"), "hello world <NUM> apples");
  // newlines are plain spaces (the source's newline -> <EOS> replace never fires)
  assert.equal(preprocessForFastText("line one\nline two"), "line one line two");
  // "<" and ">" survive the strip, "-"/"_" split, non-ASCII letters vanish inside a word
  assert.equal(preprocessForFastText("a<b well-known x_y café"), "a < b well known x y caf");
  // combining marks are not \w in Python, so they split tokens
  assert.equal(preprocessForFastText("e\u0332x"), "e x");
  assert.equal(preprocessForFastText(""), "");
});
