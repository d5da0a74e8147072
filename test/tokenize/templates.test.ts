// Templates: web, QA, OpenR1-style long CoT and User:/Assistant: chat, with configurable columns and reported failures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeBatch, ColumnError } from "../../lib/arrow/batch.js";
import { renderBatch, formatTurns } from "../../lib/tokenizer/templates.js";

test("web passes the text column through; qa and cot follow the documented layouts", () => {
  const b = makeBatch({ id: ["1", "2"], text: ["hello", ""], problem: ["What is 2+2?", "x?"], sol: ["4", "y"], think: ["2+2 is 4.", "<think>already wrapped</think>"] });
  assert.deepEqual(renderBatch(b, { name: "web" }).texts, ["hello", ""]);
  assert.deepEqual(renderBatch(b, { name: "qa", columns: { question: "problem", answer: "sol" } }).texts,
    ["Question: What is 2+2?\nAnswer: 4", "Question: x?\nAnswer: y"]);
  assert.deepEqual(renderBatch(b, { name: "cot", columns: { question: "problem", reasoning: "think" } }).texts,
    ["What is 2+2?\n<think>\n2+2 is 4.\n</think>", "x?\n<think>already wrapped</think>"]);
  assert.deepEqual(renderBatch(b, { name: "cot", columns: { question: "problem", reasoning: "think", answer: "sol" } }).texts[0],
    "What is 2+2?\n<think>\n2+2 is 4.\n</think>\n4");
});

test("chat renders User:{}\\nAssistant:{} for single and multi-turn conversations", () => {
  const msgs = [
    JSON.stringify([{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello!" }]),
    JSON.stringify([{ from: "human", value: "a" }, { from: "gpt", value: "b" }, { from: "human", value: "c" }, { from: "gpt", value: "d" }]),
    JSON.stringify([{ role: "user", content: "no reply" }]),
    "not json",
  ];
  const r = renderBatch(makeBatch({ id: ["1", "2", "3", "4"], messages: msgs }), { name: "chat" });
  assert.deepEqual(r.texts.slice(0, 2), ["User:Hi\nAssistant:Hello!", "User:a\nAssistant:b\nUser:c\nAssistant:d"]);
  assert.deepEqual(r.failures.map((f) => [f.row, f.reason]), [[2, "template_bad_messages"], [3, "template_bad_messages"]]);
  const pr = renderBatch(makeBatch({ id: ["1"], instruction: ["Sum 1 and 2"], output: ["3"] }), { name: "chat", columns: { prompt: "instruction", response: "output" } });
  assert.deepEqual(pr.texts, ["User:Sum 1 and 2\nAssistant:3"]);
  assert.equal(formatTurns([{ role: "system", content: "Be brief." }, { role: "user", content: "q" }, { role: "assistant", content: "a" }]),
    "System:Be brief.\nUser:q\nAssistant:a");
});

test("missing values are failures with reasons; a missing column is a ColumnError", () => {
  const b = makeBatch({ id: ["1", "2"], question: ["q", null], answer: [null, "a"] });
  const r = renderBatch(b, { name: "qa" });
  assert.deepEqual(r.texts, [null, null]);
  assert.deepEqual(r.failures.map((f) => f.reason), ["template_missing_answer", "template_missing_question"]);
  assert.throws(() => renderBatch(makeBatch({ id: ["1"], text: ["x"] }), { name: "qa" }), ColumnError);
});

test("tokenize: a template column literally named \"text\" that is not the main column keeps its own data", async () => {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpDir } = await import("../helpers.js");
  const { tokenizeFiles } = await import("../../lib/tokenizer/tokenize-files.js");
  const { MegatronReader } = await import("../../lib/formats/megatron.js");
  const { loadTokenizer } = await import("../../lib/tokenizer/load.js");
  const dir = tmpDir();
  const input = join(dir, "q.jsonl");
  writeFileSync(input, JSON.stringify({ id: "a", question: "What is 1+1?", text: "It is 2." }) + "\n");
  await tokenizeFiles({ inputs: [input], outDir: join(dir, "out"), workers: 1, template: { name: "qa", columns: { answer: "text" } } });
  const r = new MegatronReader(join(dir, "out", "q"));
  const tok = loadTokenizer("llama3");
  try {
    assert.equal(tok.decode(r.document(0)), "<|begin_of_text|>Question: What is 1+1?\nAnswer: It is 2.<|end_of_text|>");
  } finally {
    r.close();
    tok.free();
  }
});
