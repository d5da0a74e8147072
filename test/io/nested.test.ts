// Nested Parquet columns (how Hugging Face stores chat datasets: messages list<struct<…>>) are read as Arrow
// List<Struct> columns with the file's values, pass through stages untouched and are written back as the same
// nested Parquet columns. Files are built from real DPO / math.stackexchange records (test/io/chat-parquet.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataType, type RecordBatch } from "apache-arrow";
import { parquetMetadataAsync, parquetSchema } from "hyparquet";
import { readFileSync, writeFileSync } from "node:fs";
import { readDocuments, writeDocuments } from "../../lib/io/index.js";
import { runPipeline } from "../../lib/runtime/runner.js";
import { mapStage } from "../../lib/runtime/stage.js";
import { filterRows, batchRows } from "../../lib/arrow/batch.js";
import { tmpDir } from "../helpers.js";
import { dpoRecords, writeDpoChatParquet, writeParquet, listOfStruct } from "./chat-parquet.js";

async function readAll(file: string, opts = {}): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of readDocuments(file, opts)) out.push(b);
  return out;
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

test("a list<struct> messages column and struct columns read as Arrow List<Struct> / Struct holding the file's values", async () => {
  const dir = tmpDir();
  const recs = dpoRecords(120);
  const file = join(dir, "dpo.parquet");
  writeDpoChatParquet(file, recs);
  const batches = await readAll(file, { textKey: "messages", batchSize: 50 });
  // Main column "messages" is the text (JSON); read it again as a pass-through column with another main column.
  assert.equal(batches.reduce((a, b) => a + b.numRows, 0), 120);
  // Any nested main column is the document's text as JSON (a struct here).
  const structText = (await readAll(file, { textKey: "rejected" })).flatMap(batchRows);
  structText.forEach((r, i) => assert.deepEqual(JSON.parse(String(r.text)), recs[i].rejected));
  const tb = await readAll(file, { textKey: "messages" });
  const rows = tb.flatMap(batchRows);
  rows.forEach((r, i) => assert.deepEqual(JSON.parse(String(r.text)), [...recs[i].conversations, recs[i].chosen]));

  // With a string main column, the nested columns pass through typed.
  const f2 = join(dir, "with-text.parquet");
  writeParquet(f2, [
    { name: "text", schema: [{ name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }], data: recs.map((r) => r.chosen.value) },
    { name: "messages", schema: listOfStruct("messages", ["from", "value"]), data: recs.map((r) => r.conversations) },
  ]);
  const typed = await readAll(f2, { batchSize: 50 });
  const t = typed[0].schema.fields.find((f) => f.name === "messages")!.type;
  assert.ok(DataType.isList(t) && DataType.isStruct(t.children[0].type), `messages is ${t}`);
  assert.equal(String(t), "List<Struct<{from:Utf8, value:Utf8}>>");
  const got = typed.flatMap(batchRows);
  got.forEach((r, i) => assert.deepEqual(plain(r.messages), recs[i].conversations));
});

test("nested columns written back to Parquet keep their nested schema and values (not JSON strings)", async () => {
  const dir = tmpDir();
  const recs = dpoRecords(80);
  const src = join(dir, "dpo.parquet");
  writeDpoChatParquet(src, recs);
  const batches = await readAll(src, { textKey: "messages", batchSize: 30 });
  // messages became text; chosen/rejected are Struct columns.
  const chosen = batches[0].schema.fields.find((f) => f.name === "chosen")!;
  assert.ok(DataType.isStruct(chosen.type));
  const [out] = await writeDocuments(join(dir, "out"), batches, { format: "parquet" });
  const buf = readFileSync(out);
  const meta = await parquetMetadataAsync(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const top = parquetSchema(meta).children.map((c) => [c.element.name, c.children.map((k) => k.element.name)]);
  assert.deepEqual(top.find(([n]) => n === "chosen"), ["chosen", ["from", "value"]]);
  const again = (await readAll(out)).flatMap(batchRows);
  again.forEach((r, i) => {
    assert.deepEqual(plain(r.chosen), recs[i].chosen);
    assert.deepEqual(plain(r.rejected), recs[i].rejected);
  });
  // A List<Struct> pass-through column survives a write/read cycle too, nulls and empty lists included.
  const f2 = join(dir, "lists.parquet");
  const lists = [[{ from: "human", value: "a" }], [], null, [{ from: "gpt", value: null }]];
  writeParquet(f2, [
    { name: "text", schema: [{ name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }], data: ["x", "y", "z", "w"] },
    { name: "turns", schema: listOfStruct("turns", ["from", "value"]), data: lists },
  ]);
  const [o2] = await writeDocuments(join(dir, "out2"), await readAll(f2), { format: "parquet" });
  assert.deepEqual((await readAll(o2)).flatMap(batchRows).map((r) => plain(r.turns)), lists);
});

test("a nested column goes through a pipeline stage that drops rows and comes out nested with the kept rows", async () => {
  const dir = tmpDir();
  const recs = dpoRecords(90);
  const src = join(dir, "chat.parquet");
  writeParquet(src, [
    { name: "text", schema: [{ name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }], data: recs.map((r) => r.chosen.value) },
    { name: "messages", schema: listOfStruct("messages", ["from", "value"]), data: recs.map((r) => r.conversations) },
  ]);
  const evenRows = mapStage("even", (b, ctx) => {
    const ids = b.getChild("id")!.toArray() as string[];
    const keep = ids.map((id) => Number(id.split("/").pop()) % 2 === 0);
    ctx.stats.remove("odd_row", keep.filter((k) => !k).length);
    return filterRows(b, keep);
  });
  const res = await runPipeline({ inputs: [src], outDir: join(dir, "out"), stages: [evenRows], read: { batchSize: 16 } });
  const rows = (await readAll(res.outputs[0])).flatMap(batchRows);
  assert.equal(rows.length, 45);
  rows.forEach((r, k) => assert.deepEqual(plain(r.messages), recs[2 * k].conversations));
  const [first] = await readAll(res.outputs[0]);
  assert.equal(String(first.schema.fields.find((f) => f.name === "messages")!.type), "List<Struct<{from:Utf8, value:Utf8}>>");
});

test("a MAP column with text keys reads as an Arrow Map; one with binary keys (not mapped) still as JSON text", async () => {
  const dir = tmpDir();
  const f = join(dir, "map.parquet");
  const mapOf = (name: string, keyType: object) => [
    { name, repetition_type: "OPTIONAL", converted_type: "MAP", num_children: 1 },
    { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
    { name: "key", type: "BYTE_ARRAY", ...keyType, repetition_type: "REQUIRED" },
    { name: "value", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
  ];
  writeParquet(f, [
    { name: "text", schema: [{ name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }], data: ["a", "b"] },
    { name: "meta", data: [{ k: "v" }, null], schema: mapOf("meta", { converted_type: "UTF8" }) as never },
    { name: "raw", data: [{ k: "v" }, null], schema: mapOf("raw", {}) as never },
  ]);
  const [b] = await readAll(f);
  assert.equal(String(b.schema.fields.find((x) => x.name === "meta")!.type), "Map<{key:Utf8, value:Utf8}>");
  assert.deepEqual([...b.getChild("meta")!].map((v) => v?.toJSON() ?? null), [{ k: "v" }, null]);
  assert.ok(DataType.isUtf8(b.schema.fields.find((x) => x.name === "raw")!.type));
  assert.deepEqual(batchRows(b).map((r) => r.raw), [JSON.stringify({ k: "v" }), null]);
});

test("Arrow IPC: a List<Struct> main column is the document's text as JSON, like Parquet's", async () => {
  const dir = tmpDir();
  const recs = dpoRecords(10);
  const { tableToIPC, Table, vectorFromArray, List, Struct, Field, Utf8 } = await import("apache-arrow");
  const type = new List(new Field("element", new Struct([new Field("from", new Utf8(), true), new Field("value", new Utf8(), true)]), true));
  const messages = (vectorFromArray as unknown as (v: unknown[], t: unknown) => never)(recs.map((r) => r.conversations), type);
  const file = join(dir, "chat.arrow");
  writeFileSync(file, tableToIPC(new Table({ messages }), "file"));
  const rows = (await readAll(file, { textKey: "messages" })).flatMap(batchRows);
  rows.forEach((r, i) => assert.deepEqual(JSON.parse(String(r.text)), recs[i].conversations));
});

test("JSONL output of nested columns is real JSON (Int64 inside a list included); inspect shows the Arrow type", async () => {
  const dir = tmpDir();
  const f = join(dir, "gen.parquet");
  const lens = [[BigInt(12), BigInt(7)], [], null];
  writeParquet(f, [
    { name: "text", schema: [{ name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }], data: ["a", "b", "c"] },
    {
      name: "lengths", data: lens,
      schema: [
        { name: "lengths", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { name: "element", type: "INT64", repetition_type: "OPTIONAL" },
      ] as never,
    },
    { name: "turns", schema: listOfStruct("turns", ["from", "value"]), data: [[{ from: "human", value: "hi" }], null, []] },
  ]);
  const [out] = await writeDocuments(join(dir, "out"), await readAll(f), { format: "jsonl" });
  const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.lengths), [[12, 7], [], null]);
  assert.deepEqual(lines.map((l) => l.turns), [[{ from: "human", value: "hi" }], null, []]);
  const { describeFile, formatDescription } = await import("../../lib/io/inspect.js");
  const d = await describeFile(f);
  assert.equal(d.schema.find((c) => c.name === "turns")!.arrowType, "List<Struct<{from:Utf8, value:Utf8}>>");
  assert.match(formatDescription(d), /turns: null/);
});
