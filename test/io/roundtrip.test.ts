// Readers and writers on real data and on typed columns: what goes in comes back, in order, with its types.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, readdirSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tableToIPC, Table, Int64, Float32, Int32 } from "apache-arrow";
import { readDocuments, writeDocuments, openWriter, expandInputs, detectFormat } from "../../lib/io/index.js";
import { makeBatch, batchRows, getTexts, getStrings } from "../../lib/arrow/batch.js";
import { describeFile, formatDescription } from "../../lib/io/inspect.js";
import { sharedData, tmpDir, readGzJsonl } from "../helpers.js";
import type { RecordBatch } from "apache-arrow";

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}
const rowsOf = async (file: string, opts = {}) => (await collect(readDocuments(file, opts))).flatMap(batchRows);

const C4 = sharedData("web-nonmath", "c4_demo.jsonl.gz");

function c4Lines(): Record<string, unknown>[] {
  return readGzJsonl(C4);
}

test("JSONL.gz from shared/data: every document, text intact, positional ids, bounded batches", async () => {
  const src = c4Lines();
  const batches = await collect(readDocuments(C4, { batchSize: 64 }));
  assert.ok(batches.every((b) => b.numRows <= 64));
  assert.deepEqual(batches[0].schema.fields.slice(0, 2).map((f) => f.name), ["text", "id"]);
  const texts = batches.flatMap((b) => getTexts(b));
  assert.deepEqual(texts, src.map((r) => r.text));
  assert.equal(getStrings(batches[0], "id")[3], "c4_demo.jsonl.gz/3");
});

test("byte-bounded batches: no batch over batchBytes unless it holds a single document", async () => {
  const batches = await collect(readDocuments(C4, { batchBytes: 5000 }));
  for (const b of batches) {
    const bytes = getTexts(b).reduce((s, t) => s + t.length, 0);
    assert.ok(b.numRows === 1 || bytes <= 5000, `batch of ${b.numRows} rows has ${bytes} chars`);
  }
  assert.equal(batches.reduce((s, b) => s + b.numRows, 0), c4Lines().length);
});

test("Parquet round trip keeps every column type and null, for zstd, snappy and gzip", async () => {
  const dir = tmpDir();
  const batch = makeBatch(
    {
      text: ["alpha ∑ x²", "", null, "δ"],
      id: ["a", "b", "c", "d"],
      score: [0.5, null, 1.25, -3],
      f32: new Float32Array([1.5, 2, 3, 4]),
      n32: new Int32Array([1, -2, 3, 2147483647]),
      n64: [1n, null, -5n, 9007199254740993n] as never,
      ok: [true, false, null, true],
      meta: ["{\"a\":1}", null, "x", "y"],
    },
    { n64: new Int64() },
  );
  for (const codec of ["zstd", "snappy", "gzip", "none"] as const) {
    const [file] = await writeDocuments(join(dir, `t-${codec}`), [batch], { codec });
    const back = await collect(readDocuments(file));
    assert.equal(back.length, 1);
    const b = back[0];
    assert.deepEqual(b.schema.fields.map((f) => `${f.name}:${f.type}`), batch.schema.fields.map((f) => `${f.name}:${f.type}`), codec);
    assert.deepEqual(batchRows(b), batchRows(batch), codec);
    const d = await describeFile(file, { rows: 2 });
    assert.equal(d.rows, 4);
    assert.deepEqual(d.parquet!.codecs, [codec === "none" ? "UNCOMPRESSED" : codec.toUpperCase()]);
    assert.match(formatDescription(d), /n64 +INT64/);
  }
});

test("JSONL and JSONL.gz writers round trip; textKey/idKey are renamed to text/id; projection keeps only asked columns", async () => {
  const dir = tmpDir();
  const src = join(dir, "in.jsonl");
  writeFileSync(src, [
    JSON.stringify({ body: "first doc", uid: 7, lang: "en", extra: { k: [1, 2] } }),
    "",
    JSON.stringify({ body: "second\ndoc", uid: 8, lang: "de", extra: null }),
  ].join("\n") + "\n");
  const rows = await rowsOf(src, { textKey: "body", idKey: "uid" });
  assert.deepEqual(rows, [
    { text: "first doc", id: "7", lang: "en", extra: "{\"k\":[1,2]}" },
    { text: "second\ndoc", id: "8", lang: "de", extra: null },
  ]);
  const proj = await rowsOf(src, { textKey: "body", columns: ["lang"] });
  assert.deepEqual(proj.map((r) => Object.keys(r)), [["text", "id", "lang"], ["text", "id", "lang"]]);
  assert.equal(proj[1].id, "in.jsonl/2", "default id is the 0-based line number");
  for (const format of ["jsonl", "jsonl.gz"] as const) {
    const [out] = await writeDocuments(join(dir, `o-${format}`), readDocuments(src, { textKey: "body", idKey: "uid" }), { format });
    assert.equal(detectFormat(out).format, "jsonl");
    assert.deepEqual(await rowsOf(out), rows, format);
  }
});

test("Arrow IPC (file and stream format) reads with text/id first and other columns untouched", async () => {
  const dir = tmpDir();
  const table = new Table(makeBatch({ content: ["x", "yy", "zzz"], n: new Int32Array([1, 2, 3]) }));
  for (const fmt of ["file", "stream"] as const) {
    const p = join(dir, `t-${fmt}.arrow`);
    writeFileSync(p, tableToIPC(table, fmt));
    const rows = await rowsOf(p, { textKey: "content", batchSize: 2 });
    assert.deepEqual(rows, [
      { text: "x", id: `t-${fmt}.arrow/0`, n: 1 },
      { text: "yy", id: `t-${fmt}.arrow/1`, n: 2 },
      { text: "zzz", id: `t-${fmt}.arrow/2`, n: 3 },
    ]);
  }
});

test("Parquet writer: row groups of the asked size, rolling parts at maxFileBytes, new part on schema change, deterministic bytes", async () => {
  const dir = tmpDir();
  const src = c4Lines();
  const batches = () => readDocuments(C4, { batchSize: 50 });
  const files = await writeDocuments(join(dir, "roll"), batches(), { rowGroupSize: 40, maxFileBytes: 100_000 });
  assert.ok(files.length > 1, `expected several parts, got ${files.length}`);
  assert.deepEqual(files.map((f) => f.split("/").pop()), files.map((_, i) => `roll-${String(i).padStart(5, "0")}.parquet`));
  const texts: string[] = [];
  for (const f of files) {
    const d = await describeFile(f, { rows: 0 });
    assert.ok(d.parquet!.rowGroups.every((g) => g.rows <= 40));
    for (const b of await collect(readDocuments(f))) texts.push(...getTexts(b));
  }
  assert.deepEqual(texts, src.map((r) => r.text));
  // Same input ⇒ same bytes.
  const again = await writeDocuments(join(dir, "again"), batches(), { rowGroupSize: 40, maxFileBytes: 100_000 });
  assert.deepEqual(again.map((f) => readFileSync(f)), files.map((f) => readFileSync(f)));
  // Schema change mid-stream: a second part with the new schema, nothing lost.
  const w = openWriter(join(dir, "schema"));
  await w.write(makeBatch({ text: ["a"], id: ["1"] }));
  await w.write(makeBatch({ text: ["b"], id: ["2"], score: [0.5] }));
  const parts = await w.close();
  assert.equal(parts.length, 2);
  assert.deepEqual((await rowsOf(parts[1])), [{ text: "b", id: "2", score: 0.5 }]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".tmp-")), []);
});

test("expandInputs: globs sorted and de-duplicated, folders expand to data files", async () => {
  const dir = tmpDir();
  mkdirSync(join(dir, "a", "b"), { recursive: true });
  for (const f of ["z.jsonl", "a/m.parquet", "a/b/c.jsonl.gz", "a/notes.txt", ".tmp-x.parquet"]) writeFileSync(join(dir, f), "");
  const all = await expandInputs([join(dir, "**/*.{jsonl,jsonl.gz,parquet}"), join(dir, "z.jsonl")]);
  assert.deepEqual(all, [join(dir, "a/b/c.jsonl.gz"), join(dir, "a/m.parquet"), join(dir, "z.jsonl")]);
  assert.deepEqual(await expandInputs([join(dir, "a")]), [join(dir, "a/b/c.jsonl.gz"), join(dir, "a/m.parquet")]);
  assert.deepEqual(await expandInputs([join(dir, "?.jsonl")]), [join(dir, "z.jsonl")]);
});
