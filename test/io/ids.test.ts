// Default document ids ("<basename>/<row>") stay unique when two inputs of a run share a file name in different
// folders, are the same on every shard, and are unchanged when all basenames differ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { runPipeline } from "../../lib/runtime/runner.js";
import { readDocuments, writeDocuments } from "../../lib/io/index.js";
import { idPrefixes } from "../../lib/io/documents.js";
import { makeBatch, getStrings } from "../../lib/arrow/batch.js";
import { tmpDir, sharedJsonl } from "../helpers.js";

async function ids(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of readDocuments(file)) out.push(...(getStrings(b, "id") as string[]));
  return out;
}

/** Real math.stackexchange answers as documents without an id column, spread over the given files. */
async function writeInputs(dir: string, names: string[], perFile: number): Promise<string[]> {
  const texts = sharedJsonl("math-qa", "se_math_33votes.jsonl.gz").map((r) => String(r.output));
  const files: string[] = [];
  for (const [k, name] of names.entries()) {
    const path = join(dir, name);
    mkdirSync(join(path, ".."), { recursive: true });
    const slice = texts.slice(k * perFile, (k + 1) * perFile);
    if (name.endsWith(".jsonl")) writeFileSync(path, slice.map((t) => JSON.stringify({ text: t }) + "\n").join(""));
    else await writeDocuments(path.replace(/\.parquet$/, ""), [makeBatch({ text: slice })], { format: "parquet" });
    files.push(path);
  }
  return files;
}

test("idPrefixes: basenames unless two inputs share one; then the path under the inputs' common folder", () => {
  assert.deepEqual([...idPrefixes(["/d/x/a.parquet", "/d/y/b.parquet"]).values()], ["a.parquet", "b.parquet"]);
  const m = idPrefixes(["/d/x/part-0.parquet", "/d/y/z/part-0.parquet", "/d/y/other.jsonl"]);
  assert.deepEqual([...m.values()], ["x/part-0.parquet", "y/z/part-0.parquet", "other.jsonl"]);
  // The same file named twice is one file, not a clash.
  assert.deepEqual([...idPrefixes(["/d/x/a.parquet", "/d/x/a.parquet"]).values()], ["a.parquet"]);
});

test("same file name in two folders: ids differ per file, every shard agrees, distinct names keep today's ids", async () => {
  const dir = tmpDir();
  const files = await writeInputs(dir, ["a/part-0.parquet", "b/part-0.parquet", "c/other.parquet"], 20);
  const one = await runPipeline({ inputs: files, outDir: join(dir, "one"), stages: [] });
  const all = (await Promise.all(one.outputs.map(ids))).flat();
  assert.equal(new Set(all).size, 60, "no two documents share an id");
  assert.deepEqual(all.filter((i) => i.startsWith("a/")).slice(0, 2), ["a/part-0.parquet/0", "a/part-0.parquet/1"]);
  assert.ok(all.includes("b/part-0.parquet/19"));
  assert.ok(all.includes("other.parquet/0"), "a file whose name is unique keeps <basename>/<row>");
  // Two shards compute the same ids as one run.
  const sharded: string[] = [];
  for (const index of [0, 1]) {
    const r = await runPipeline({ inputs: files, outDir: join(dir, "sh"), stages: [], shard: { index, count: 2 } });
    for (const o of r.outputs) sharded.push(...(await ids(o)));
  }
  assert.deepEqual([...new Set(sharded)].sort(), [...all].sort());
  // Reading one file alone (no run) keeps the basename ids, as before.
  assert.equal((await ids(files[0]))[0], "part-0.parquet/0");
  // All basenames distinct: the ids are exactly "<basename>/<row>" (shipped fixtures and outputs unchanged).
  const d2 = tmpDir();
  const distinct = await writeInputs(d2, ["x/p.parquet", "y/q.parquet"], 5);
  const r2 = await runPipeline({ inputs: distinct, outDir: join(d2, "out"), stages: [] });
  assert.deepEqual((await Promise.all(r2.outputs.map(ids))).flat(), [0, 1, 2, 3, 4].map((i) => `p.parquet/${i}`).concat([0, 1, 2, 3, 4].map((i) => `q.parquet/${i}`)));
});

test("JSONL and Arrow inputs sharing a name get folder-qualified ids too", async () => {
  const dir = tmpDir();
  const files = await writeInputs(dir, ["a/x.jsonl", "b/x.jsonl"], 3);
  const r = await runPipeline({ inputs: files, outDir: join(dir, "out"), stages: [] });
  assert.deepEqual((await Promise.all(r.outputs.map(ids))).flat(),
    ["a/x.jsonl/0", "a/x.jsonl/1", "a/x.jsonl/2", "b/x.jsonl/0", "b/x.jsonl/1", "b/x.jsonl/2"]);
  const { tableToIPC, Table, vectorFromArray, Utf8 } = await import("apache-arrow");
  const arrows = ["p/t.arrow", "q/t.arrow"].map((n) => join(dir, n));
  for (const f of arrows) {
    mkdirSync(join(f, ".."), { recursive: true });
    writeFileSync(f, tableToIPC(new Table({ text: vectorFromArray(["one", "two"], new Utf8()) }), "file"));
  }
  const ra = await runPipeline({ inputs: arrows, outDir: join(dir, "outa"), stages: [] });
  assert.deepEqual((await Promise.all(ra.outputs.map(ids))).flat(), ["p/t.arrow/0", "p/t.arrow/1", "q/t.arrow/0", "q/t.arrow/1"]);
});
