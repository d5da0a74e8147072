import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { RequestJournal } from "../../lib/llm/journal.js";
import { repoRoot, tmpDir } from "../helpers.js";
import { startServer, type Action } from "./server.js";

const SECRET = "sk-resume-secret-77e1";
const child = join(repoRoot, "test", "llm", "resume-child.ts");

function scoreFor(doc: string): Action {
  const n = createHash("sha256").update(doc).digest()[0] % 6;
  return { answer: `Reasoning about the extract.\nFinal score: ${n}` };
}

function runChild(url: string, out: string) {
  const p = spawn(process.execPath, ["--import", "tsx", child, url, out], {
    cwd: repoRoot, env: { ...process.env, TEST_LLM_KEY: SECRET }, stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  p.stderr.on("data", (d) => (stderr += d));
  const exit = new Promise<number | null>((r) => p.on("exit", (code) => r(code)));
  return { p, exit, stderr: () => stderr };
}

function journalLines(out: string): number {
  const dir = join(out, ".llm-journal", "annotate");
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, f) => n + readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean).length, 0);
}

test("kill -9 mid-run, resume: each request answered once, output byte-identical, no key on disk", async () => {
  // Reference: an uninterrupted run.
  const ref = await startServer((r) => scoreFor(r.doc));
  const outRef = tmpDir();
  const c0 = runChild(ref.url, outRef);
  assert.equal(await c0.exit, 0, c0.stderr());
  await ref.close();

  // Interrupted run: the server answers 25 requests, then holds every further one; the child is killed once the
  // 25 answers are in its journal.
  let answering = 25;
  const srv = await startServer((r) => (answering-- > 0 ? scoreFor(r.doc) : { hold: true }));
  const out = tmpDir();
  const c1 = runChild(srv.url, out);
  for (let i = 0; i < 600 && journalLines(out) < 25; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(journalLines(out), 25);
  c1.p.kill("SIGKILL");
  await c1.exit;
  assert.ok(!existsSync(join(out, "out.jsonl")));
  const sentBefore = srv.requests.length;
  assert.ok(sentBefore > 25 && sentBefore <= 25 + 8, `in-flight bound: ${sentBefore}`);

  // Resume against a server that answers everything.
  answering = Infinity;
  const c2 = runChild(srv.url, out);
  assert.equal(await c2.exit, 0, c2.stderr());
  await srv.close();
  assert.equal(srv.requests.length - sentBefore, 60 - 25, "the resumed run sends only the unanswered requests");
  assert.equal(srv.answered.size, 60);
  assert.ok([...srv.answered.values()].every((n) => n === 1), "no request answered twice");
  assert.equal(readFileSync(join(out, "out.jsonl"), "utf8"), readFileSync(join(outRef, "out.jsonl"), "utf8"));
  const st = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
  assert.equal(st.counters.llm_journal_hits, 25);
  for (const dir of [out, outRef]) {
    for (const f of walk(dir)) assert.ok(!readFileSync(f, "utf8").includes(SECRET), `${f} holds the key`);
  }
});

test("journal: a torn last line is cut off on reopen; a corrupt middle line is an error", async () => {
  const dir = tmpDir();
  const path = join(dir, "j.jsonl");
  const j = await RequestJournal.open(path, { chunkRecords: 2 });
  j.record("k1", { text: "a", finishReason: "stop", promptTokens: 1, completionTokens: 1 });
  j.record("k2", { text: "b\nc", finishReason: null, promptTokens: 1, completionTokens: 1 });
  await j.close();
  appendFileSync(path, '{"k":"k3","text":"par');
  const j2 = await RequestJournal.open(path);
  assert.equal(j2.size, 2);
  assert.equal(j2.get("k2")!.text, "b\nc");
  assert.ok(j2.repairedBytes > 0);
  j2.record("k3", { text: "whole", finishReason: "stop", promptTokens: 1, completionTokens: 1 });
  await j2.close();
  const j3 = await RequestJournal.open(path);
  assert.equal(j3.get("k3")!.text, "whole");
  await j3.close();
  writeFileSync(path, '{"k":"x"\n{"k":"k1","text":"a","finish":null,"pt":0,"ct":0}\n');
  await assert.rejects(RequestJournal.open(path), /line 1 is corrupt/);
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);
}
