import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { makeBatch } from "../../lib/arrow/batch.js";
import { LlmClient } from "../../lib/llm/client.js";
import { annotateStage } from "../../lib/llm/annotate-stage.js";
import { tmpDir } from "../helpers.js";
import { startServer, type Action } from "./server.js";
import { realMathTexts, runStage } from "./util.js";

const SECRET = "sk-test-DO-NOT-LEAK-4f1c2a";

// One real document per scripted case; the script picks the actions for attempt 1, 2, 3 of that document.
const cases: { name: string; plan: Action[] }[] = [
  { name: "valid3", plan: [{ answer: "Clear worked example.\nFinal score: 3" }] },
  { name: "valid0", plan: [{ answer: "No mathematics here. Final score: 0" }] },
  { name: "lastWins", plan: [{ answer: "Format: Final score: <total points>. I'd say Final score: 2 ... no: **Final score:** 4" }] },
  { name: "unparseable", plan: [{ answer: "This extract is quite useful for students." }] },
  { name: "outOfRange", plan: [{ answer: "Final score: 7" }] },
  { name: "cutOff", plan: [{ answer: "The extract discusses matrices and", finish: "length" }] },
  { name: "slowOnce", plan: [{ hold: true }, { answer: "Final score: 5" }] },
  { name: "slowAlways", plan: [0, 1, 2].map(() => ({ hold: true as const })) },
  { name: "rateLimited", plan: [{ status: 429, headers: { "retry-after": "2" } }, { answer: "Final score: 2" }] },
  { name: "error500Once", plan: [{ status: 500 }, { answer: "Final score: 4" }] },
  { name: "error500Always", plan: [{ status: 500 }, { status: 502 }, { status: 500 }] },
  { name: "reset", plan: [{ reset: true }, { answer: "Final score: 3" }] },
  { name: "truncatedJson", plan: [{ truncated: true }, { answer: "Final score: 1" }] },
  { name: "badRequest", plan: [{ status: 400 }] },
];

test("annotate: scripted faults give exact kept/failed counts and retries; no API key written", async () => {
  const texts = realMathTexts(cases.length);
  const planByDoc = new Map(texts.map((t, i) => [t, cases[i].plan]));
  const srv = await startServer((r) => planByDoc.get(r.doc)![r.attempt - 1]);
  const sleeps: number[] = [];
  // Held requests time out; every other answer must arrive within the timeout even on a starved machine (at
  // 400 ms a loaded CI run timed out a plain answer, retried it, and the server had no scripted reply left).
  const client = new LlmClient({ baseUrl: srv.url, model: "llama", apiKey: SECRET, maxRetries: 2, timeoutMs: 3000,
    backoffBaseMs: 50, sleep: async (ms) => void sleeps.push(ms), params: { temperature: 0, max_tokens: 256 } });
  const out = tmpDir();
  const ids = cases.map((c) => `doc-${c.name}`);
  const batches = [makeBatch({ id: ids.slice(0, 7), text: texts.slice(0, 7) }), makeBatch({ id: ids.slice(7), text: texts.slice(7) })];
  const { rows, stats } = await runStage(annotateStage({ client, rawColumn: "finemath_raw" }), batches, { outDir: out });
  client.close();
  await srv.close();

  const got = Object.fromEntries(rows.map((r) => [r.id, r.finemath_score]));
  assert.deepEqual(got, {
    "doc-valid3": 3, "doc-valid0": 0, "doc-lastWins": 4, "doc-slowOnce": 5, "doc-rateLimited": 2,
    "doc-error500Once": 4, "doc-reset": 3, "doc-truncatedJson": 1,
  });
  assert.deepEqual(stats.failed, {
    unparseable_score: 2, unparseable_score_cut_off: 1, llm_timeout: 1, llm_http_5xx: 1, llm_http_4xx: 1,
  });
  assert.equal(stats.check(), null);
  // Attempts per document, as the server saw them.
  const attempts = (name: string) => srv.requests.filter((r) => r.doc === texts[cases.findIndex((c) => c.name === name)]).length;
  assert.equal(attempts("valid3"), 1);
  assert.equal(attempts("slowAlways"), 3);
  assert.equal(attempts("error500Always"), 3);
  assert.equal(attempts("badRequest"), 1);
  assert.equal(attempts("rateLimited"), 2);
  assert.ok(sleeps.includes(2000), `Retry-After honoured: ${sleeps}`);
  assert.equal(stats.counters.llm_retries, 2 + 2 + 1 + 1 + 1 + 1 + 1);
  assert.ok(srv.requests.every((r) => r.authorization === `Bearer ${SECRET}`));
  // The document sits fenced inside the FineMath prompt.
  assert.match(srv.requests[0].prompt, /^Evaluate the following text extract/);
  assert.match(srv.requests[0].prompt, /The text extract:\n<document>\n/);
  // Unparseable answers are kept, raw, in the failures sidecar.
  const sidecarDir = join(out, "failures", "annotate");
  const sidecar = readFileSync(join(sidecarDir, readdirSync(sidecarDir)[0]), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(sidecar.map((s) => s.id), ["doc-unparseable", "doc-outOfRange", "doc-cutOff"]);
  assert.equal(sidecar[0].answer, "This extract is quite useful for students.");
  // No file under the output folder contains the key.
  for (const f of walk(out)) assert.ok(!readFileSync(f, "utf8").includes(SECRET), `${f} contains the API key`);
  assert.ok(!JSON.stringify(stats.toJSON()).includes(SECRET));
  assert.ok(!JSON.stringify(stats.examples).includes(SECRET));
});

test("annotate: onError fail names file, row and id", async () => {
  const srv = await startServer(() => ({ status: 400 }));
  const client = new LlmClient({ baseUrl: srv.url, model: "m", maxRetries: 0 });
  const b = makeBatch({ id: ["a", "b"], text: ["x", "y"] });
  await assert.rejects(runStage(annotateStage({ client }), [b], { outDir: tmpDir(), onError: "fail", file: "in.jsonl" }),
    /annotate: in\.jsonl row 0 \(id a\): HTTP 400/);
  client.close();
  await srv.close();
});

test("annotate: long documents are cut to the budget at a word boundary", async () => {
  const srv = await startServer(() => ({ answer: "Final score: 1" }));
  const client = new LlmClient({ baseUrl: srv.url, model: "m" });
  const long = "word ".repeat(5000);
  const { rows, stats } = await runStage(annotateStage({ client, maxChars: 1000 }),
    [makeBatch({ id: ["a"], text: [long] })], { outDir: tmpDir() });
  assert.equal(rows.length, 1);
  assert.equal(stats.counters.annotate_truncated, 1);
  assert.ok(srv.requests[0].doc.length <= 1000 && srv.requests[0].doc.endsWith("word"));
  client.close();
  await srv.close();
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
