import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FINEMATH_PROMPT, PROMAX_REFINE_PROMPT, WEBPRO_REFINE_PROMPT, loadPrompt, promptId, renderPrompt, truncateDoc }
  from "../../lib/llm/prompts.js";
import { parseFinalScore, cleanRefined } from "../../lib/llm/parse.js";
import { repoRoot, tmpDir } from "../helpers.js";

test("prompt texts are the ASSEMBLED blocks of ../shared/spec/prompts.md (§1c, §2, §3a)", () => {
  const spec = readFileSync(join(repoRoot, "..", "shared", "spec", "prompts.md"), "utf8");
  const blocks = [...spec.matchAll(/```text\n([\s\S]*?)\n```/g)].map((m) => m[1]);
  const after = (heading: string) => blocks[[...spec.matchAll(/```text\n/g)].findIndex((m) => m.index! > spec.indexOf(heading))];
  assert.equal(FINEMATH_PROMPT.template, after("### 1c. ASSEMBLED"));
  assert.equal(WEBPRO_REFINE_PROMPT.template, after("## 2. MegaMath-Web-Pro refinement prompt"));
  assert.equal(PROMAX_REFINE_PROMPT.template, after("### 3a. ASSEMBLED"));
  // §1c: "16 lines and 1,602 bytes" (counting a final newline, which the template leaves out: unknown in the source).
  assert.equal(FINEMATH_PROMPT.template.split("\n").length, 16);
  assert.equal(Buffer.byteLength(FINEMATH_PROMPT.template + "\n"), 1602);
  assert.ok(FINEMATH_PROMPT.template.endsWith("- Conclude with the score using the format: Final score: <total points>."));
  assert.equal(PROMAX_REFINE_PROMPT.template.split("\n").length, WEBPRO_REFINE_PROMPT.template.split("\n").length + 1);
  assert.ok(PROMAX_REFINE_PROMPT.template.includes("- Refine multiple choice questions and answers if any.\n\nText:\n<EXAMPLE>\n"));
  assert.ok(/^[\x20-\x7e\n]*$/.test(PROMAX_REFINE_PROMPT.template)); // pure ASCII, as in the PDF text layer
});

test("renderPrompt without a fence is the paper's prompt with the document in place of <EXAMPLE>", () => {
  const p = renderPrompt(PROMAX_REFINE_PROMPT, "DOC $& text", "none");
  assert.equal(p, PROMAX_REFINE_PROMPT.template.replace("<EXAMPLE>", () => "DOC $& text"));
});

test("a changed prompt changes its id; user prompt files need the placeholder exactly once", () => {
  const dir = tmpDir();
  const f = join(dir, "p.txt");
  writeFileSync(f, "Rate this:\n<EXAMPLE>\nFinal score: N");
  const a = loadPrompt(f);
  writeFileSync(f, "Rate this, please:\n<EXAMPLE>\nFinal score: N");
  assert.notEqual(promptId(loadPrompt(f)), promptId(a));
  writeFileSync(f, "no placeholder");
  assert.throws(() => loadPrompt(f), /exactly once, found 0/);
  assert.throws(() => loadPrompt(join(dir, "missing.txt")), /cannot read prompt file .*missing\.txt: ENOENT/);
  assert.equal(loadPrompt("finemath"), FINEMATH_PROMPT);
});

test("Final score parsing: last match wins, 0..5 only, no silent default", () => {
  assert.equal(parseFinalScore("Final score: 3"), 3);
  assert.equal(parseFinalScore("final score:0"), 0);
  assert.equal(parseFinalScore("Format is Final score: <total points>. Final score: 2\n...\n**Final Score:** 4"), 4);
  assert.equal(parseFinalScore("Final score: *5*."), 5);
  assert.equal(parseFinalScore("Final score: 6"), null);
  assert.equal(parseFinalScore("Final score: 3.5"), null);
  assert.equal(parseFinalScore("Score: 3"), null);
  assert.equal(parseFinalScore(""), null);
});

test("refined-answer cleanup strips a lead-in line only", () => {
  assert.deepEqual(cleanRefined("Here is the refined text:\nA = B."), { text: "A = B.", preamble: true, fence: false });
  assert.deepEqual(cleanRefined("Sure! Here's the refined version of the text:\n\nx"), { text: "x", preamble: true, fence: false });
  assert.equal(cleanRefined("Here is a proof that the text below: holds\nx").preamble, false);
  assert.deepEqual(cleanRefined("Theorem: every here is fine.\nx"), { text: "Theorem: every here is fine.\nx", preamble: false, fence: false });
  assert.deepEqual(cleanRefined("Lemma 1.\nHere is the refined text:\nx").preamble, false);
});

test("truncateDoc cuts at a word boundary and never splits a surrogate pair", () => {
  assert.deepEqual(truncateDoc("short", 10), { text: "short", truncated: false });
  const cut = truncateDoc("word ".repeat(100), 252);
  assert.equal(cut.text, "word ".repeat(50).trimEnd());
  assert.equal(cut.truncated, true);
  const emoji = "x".repeat(9) + "😀" + "y";
  assert.equal(truncateDoc(emoji, 10).text, "x".repeat(9));
});
