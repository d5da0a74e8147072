// --on-error skip never hides a failure (issue 12 item 7): a file that fails whole is named in a warning and in
// stats.json, has no completion marker, and the run exits 1; --max-failed-share sets how many failed documents make
// a file fail; an LLM step whose every answer is unusable exits 1 even without skip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { megamath } from "./main-inprocess.js";
import { tmpDir, sharedJsonl } from "../helpers.js";
import { startServer } from "../llm/server.js";
import { realMathTexts } from "../llm/util.js";


function gsm(dir: string, name: string, n: number, broken = 0): string {
  const rows = sharedJsonl("math-qa", "gsm8k_train.jsonl.gz").slice(0, n);
  const lines = rows.map((r, i) => (i < broken ? `{"id": "g${i}", "text": ` : JSON.stringify({ id: `g${i}`, text: `${r.question}\n${r.answer}`, label: 1 })));
  const p = join(dir, name);
  writeFileSync(p, lines.join("\n") + "\n");
  return p;
}

test("repro: under --on-error skip an unreadable file is named, has no marker, and the run exits 1", async () => {
  const src = tmpDir("megamath-safety-fail-");
  const good = gsm(src, "good.jsonl", 20);
  const bad = join(src, "bad.parquet");
  writeFileSync(bad, "PAR1 this is not a parquet file PAR1");
  const out = tmpDir("megamath-safety-fail-out-");
  const r = await megamath(["filter", "-i", join(src, "*"), "-o", out, "--min", "label=0", "--on-error", "skip", "--workers", "1"]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /bad\.parquet: all 1 document\(s\) failed/);
  assert.match(r.err, /1 of 2 input file\(s\) of this shard failed/);
  const stats = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
  assert.deepEqual(stats.filesFailed.map((f: { file: string }) => f.file), [bad]);
  assert.deepEqual(readdirSync(join(out, ".done")).sort(), ["good.json"]);
  assert.ok(good);
});

test("--max-failed-share: a file with 30% bad lines fails at 0.1 and passes by default (its failures counted)", async () => {
  const src = tmpDir("megamath-safety-share-");
  gsm(src, "part.jsonl", 10, 3);
  const strict = await megamath(["filter", "-i", join(src, "part.jsonl"), "-o", tmpDir(), "--min", "label=0", "--on-error", "skip", "--max-failed-share", "0.1", "--workers", "1"]);
  assert.equal(strict.code, 1, strict.err);
  assert.match(strict.err, /3 of 10 documents failed \(30\.0% > --max-failed-share 0\.1; read:invalid_json=3\)/);
  const out = tmpDir();
  const lax = await megamath(["filter", "-i", join(src, "part.jsonl"), "-o", out, "--min", "label=0", "--on-error", "skip", "--workers", "1"]);
  assert.equal(lax.code, 0, lax.err);
  assert.equal(JSON.parse(readFileSync(join(out, "stats.json"), "utf8")).stages[0].failed.invalid_json, 3);
  const bad = await megamath(["filter", "-i", join(src, "part.jsonl"), "-o", tmpDir(), "--max-failed-share", "2"]);
  assert.equal(bad.code, 2);
});

test("repro: annotate with 40 of 40 unparseable answers exits 1, with and without --on-error skip", async () => {
  const server = await startServer(() => ({ answer: "A fine extract. I will not give a number." }), { record: false });
  try {
    const src = tmpDir("megamath-safety-llm-");
    const input = join(src, "docs.jsonl");
    writeFileSync(input, realMathTexts(40).map((t, i) => JSON.stringify({ id: `d${i}`, text: t })).join("\n") + "\n");
    for (const extra of [[], ["--on-error", "skip"]]) {
      const out = tmpDir("megamath-safety-llm-out-");
      const r = await megamath(["annotate", "-i", input, "-o", out, "--base-url", server.url, "--model", "m", "--max-retries", "0", ...extra]);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /all 40 document\(s\) failed \(annotate:unparseable_score=40\)/);
      assert.deepEqual(readdirSync(join(out, ".done")).filter((n) => n.endsWith(".json")), []);
    }
  } finally {
    await server.close();
  }
});

test("repro: refine with 40 of 40 empty answers exits 1; a few unusable answers among many are counted as failed", async () => {
  const texts = realMathTexts(40);
  const bad = new Set([texts[3], texts[17], texts[29]]);
  let allEmpty = true;
  const server = await startServer((r) => ({ answer: allEmpty || bad.has(r.doc) ? "  \n" : r.doc }), { record: false });
  try {
    const src = tmpDir("megamath-safety-refine-");
    const input = join(src, "docs.jsonl");
    writeFileSync(input, texts.map((t, i) => JSON.stringify({ id: `d${i}`, text: t })).join("\n") + "\n");
    const refine = (out: string, extra: string[] = []) => megamath(["refine", "-i", input, "-o", out, "--base-url", server.url,
      "--model", "m", "--max-retries", "0", "--workers", "1", ...extra]);
    for (const extra of [[], ["--on-error", "skip"]]) {
      const out = tmpDir("megamath-safety-refine-out-");
      const r = await refine(out, extra);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /all 40 document\(s\) failed \(refine:refine_empty_answer=40\)/);
      assert.deepEqual(readdirSync(join(out, ".done")).filter((n) => n.endsWith(".json")), []);
      if (extra.length === 0) continue; // without skip the run stops at the file, before stats.json
      const stats = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
      assert.deepEqual(stats.filesFailed.map((f: { file: string }) => f.file), [input]);
    }
    allEmpty = false;
    const out = tmpDir("megamath-safety-refine-out-");
    const r = await refine(out);
    assert.equal(r.code, 0, r.err);
    const stats = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
    const st = stats.stages.find((s: { name: string }) => s.name === "refine");
    assert.deepEqual(st.failed, { refine_empty_answer: 3 });
    assert.equal(st.docsOut, 37);
    assert.deepEqual(stats.filesFailed ?? [], []);
  } finally {
    await server.close();
  }
});

test("--max-doc-mb: a 2 MB line is 'too long' at 1, a counted failure under skip, and fine by default", async () => {
  const src = tmpDir("megamath-safety-maxdoc-");
  const p = gsm(src, "part.jsonl", 6);
  const big = sharedJsonl("math-qa", "gsm8k_train.jsonl.gz").slice(0, 2000).map((r) => `${r.question}\n${r.answer}`).join("\n\n");
  const text = big.repeat(Math.ceil(2e6 / big.length)).slice(0, 2e6);
  writeFileSync(p, readFileSync(p, "utf8") + JSON.stringify({ id: "big", text, label: 1 }) + "\n");
  const args = (out: string) => ["filter", "-i", p, "-o", out, "--min", "label=0", "--workers", "1"];
  const strict = await megamath([...args(tmpDir()), "--max-doc-mb", "1"]);
  assert.notEqual(strict.code, 0);
  assert.match(strict.err, /line 7 of .*part\.jsonl is too long \(> 1 MiB; .*--max-doc-mb\)/);
  const out = tmpDir();
  const skip = await megamath([...args(out), "--max-doc-mb", "1", "--on-error", "skip"]);
  assert.equal(skip.code, 0, skip.err);
  const read = JSON.parse(readFileSync(join(out, "stats.json"), "utf8")).stages[0];
  assert.deepEqual([read.docsIn, read.docsOut, read.failed], [7, 6, { line_too_long: 1 }]);
  const dflt = tmpDir();
  assert.equal((await megamath(args(dflt))).code, 0);
  assert.equal(JSON.parse(readFileSync(join(dflt, "stats.json"), "utf8")).stages[0].docsOut, 7);
  assert.equal((await megamath([...args(tmpDir()), "--max-doc-mb", "0"])).code, 2);
});
