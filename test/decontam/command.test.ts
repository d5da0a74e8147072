// `megamath decontaminate` end to end on Parquet: removal reasons name the benchmark, the report lists doc id,
// benchmark, item id and n-gram, 1 and 2 workers give identical bytes, a rerun resumes, docs in = out + removed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tmpDir } from "../helpers.js";
import { main } from "../../cli/main.js";
import { writeDocuments, readDocuments } from "../../lib/io/index.js";
import { makeBatch, batchRows } from "../../lib/arrow/batch.js";
import { benchmarks, cleanDocs, plant, reformat, rng } from "./corpus.js";

const dir = tmpDir("decont-cmd-");

async function cli(...args: string[]): Promise<void> {
  const code = await main([...args, "--quiet"]);
  assert.equal(code, 0, `megamath ${args.join(" ")} exited ${code}`);
}

async function readAll(folder: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const f of readdirSync(folder).filter((x) => x.endsWith(".parquet")).sort()) {
    for await (const b of readDocuments(join(folder, f))) rows.push(...batchRows(b));
  }
  return rows;
}

/** Two Parquet files of clean documents with 6 planted GSM8K / MATH / MMLU-STEM items; `score` passes through. */
async function corpus(): Promise<{ files: string[]; planted: Map<string, string> }> {
  const r = rng(99);
  const clean = cleanDocs().slice(0, 400);
  const bs = Object.fromEntries(benchmarks().map((b) => [b.name, b]));
  const planted = new Map<string, string>();
  const files: string[] = [];
  for (let f = 0; f < 2; f++) {
    const docs = clean.slice(f * 200, (f + 1) * 200).map((d) => ({ ...d }));
    for (const [k, name] of (["gsm8k", "math", "mmlu_stem"] as const).entries()) {
      const item = bs[name].items[17 + f * 3 + k];
      const d = docs[20 + k * 50];
      d.text = plant(d.text, f ? reformat(item.texts[0], r) : item.texts[0], r);
      planted.set(d.id, name);
    }
    const batch = makeBatch({ id: docs.map((d) => d.id), text: docs.map((d) => d.text), score: Float64Array.from(docs, (_, i) => i / 10) });
    files.push(...(await writeDocuments(join(dir, "in", `part-${f}`), [batch], { format: "parquet" })));
  }
  return { files, planted };
}

test("decontaminate on Parquet: removes exactly the planted documents, names the benchmark, writes the report", async () => {
  const { planted } = await corpus();
  const out = join(dir, "w1");
  await cli("decontaminate", "-i", join(dir, "in", "*.parquet"), "-o", out, "--report", join(dir, "r1.jsonl"), "--workers", "0");
  const kept = await readAll(out);
  assert.equal(kept.length, 400 - planted.size);
  for (const row of kept) assert.ok(!planted.has(String(row.id)), `planted doc kept: ${row.id}`);
  assert.ok(kept.every((r) => typeof r.score === "number"), "other columns pass through");
  const stats = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
  const st = stats.stages.find((s: { name: string }) => s.name === "decontaminate");
  assert.deepEqual(st.removed, { "contaminated:gsm8k": 2, "contaminated:math": 2, "contaminated:mmlu_stem": 2 });
  assert.equal(st.docsIn, st.docsOut + 6);
  const report = readFileSync(join(dir, "r1.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const docIds = new Set(report.map((r) => r.doc_id));
  assert.deepEqual([...docIds].sort(), [...planted.keys()].sort());
  for (const r of report) {
    assert.equal(r.benchmark, planted.get(r.doc_id));
    assert.ok(typeof r.item_id === "string" && r.ngram.split(" ").length >= 8, JSON.stringify(r));
  }
});

test("2 workers give byte-identical output and report; a rerun resumes and keeps the report complete", async () => {
  const out = join(dir, "w2");
  await cli("decontaminate", "-i", join(dir, "in", "*.parquet"), "-o", out, "--report", join(dir, "r2.jsonl"), "--workers", "2");
  for (const f of readdirSync(join(dir, "w1")).filter((x) => x.endsWith(".parquet"))) {
    assert.ok(readFileSync(join(dir, "w1", f)).equals(readFileSync(join(out, f))), f);
  }
  assert.equal(readFileSync(join(dir, "r2.jsonl"), "utf8"), readFileSync(join(dir, "r1.jsonl"), "utf8"));
  // Rerun: both files are already done (markers), the report is rebuilt from the sidecars.
  await cli("decontaminate", "-i", join(dir, "in", "*.parquet"), "-o", out, "--report", join(dir, "r3.jsonl"));
  assert.equal(readFileSync(join(dir, "r3.jsonl"), "utf8"), readFileSync(join(dir, "r1.jsonl"), "utf8"));
});

test("--extra-benchmark adds a user benchmark; --build-index writes a loadable index", async () => {
  const extra = join(dir, "house.jsonl");
  const text = "Our in-house olympiad asks how many lattice points lie strictly inside the triangle with vertices at the origin";
  const { writeFileSync } = await import("node:fs");
  writeFileSync(extra, JSON.stringify({ id: "h1", problem: text, solution: "It is 12." }) + "\n");
  const input = await writeDocuments(join(dir, "x", "docs"), [makeBatch({ id: ["a", "b"], text: ["Nothing to see here.", `Blog: ${text}.`] })], { format: "jsonl" });
  await cli("decontaminate", "-i", ...input, "-o", join(dir, "x-out"), "--extra-benchmark", `house=${extra}`,
    "--extra-fields", "problem,solution", "--format", "jsonl", "--report", join(dir, "x.jsonl"));
  const rep = readFileSync(join(dir, "x.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(rep.map((r) => [r.doc_id, r.benchmark, r.item_id]), [["b", "house", "h1"]]);
  const idx = join(dir, "house.idx");
  await cli("decontaminate", "--build-index", idx, "--extra-benchmark", `house=${extra}`, "--extra-fields", "problem,solution");
  await cli("decontaminate", "-i", ...input, "-o", join(dir, "x-out2"), "--index", idx, "--format", "jsonl");
  const stats = JSON.parse(readFileSync(join(dir, "x-out2", "stats.json"), "utf8"));
  assert.deepEqual(stats.stages.find((s: { name: string }) => s.name === "decontaminate").removed, { "contaminated:house": 1 });
});

test("bad usage exits 2", async () => {
  assert.equal(await main(["decontaminate", "--build-index", join(dir, "z.idx"), "--quiet"]), 2);
  assert.equal(await main(["decontaminate", "-i", "x", "-o", join(dir, "z"), "--benchmarks", "d", "--quiet"]), 2);
});
