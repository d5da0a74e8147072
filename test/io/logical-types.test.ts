// Parquet TIMESTAMP, DATE and DECIMAL columns keep their logical type and exact values through a stage:
// Parquet (written by hyparquet-writer) → readDocuments → writeDocuments → Parquet with the same annotations.
// Before, they came back as strings (timestamps, dates) and doubles (decimals, losing digits beyond 2^53).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { parquetMetadata, parquetReadObjects, type SchemaElement } from "hyparquet";
import { DataType, type RecordBatch } from "apache-arrow";
import { readDocuments, writeDocuments } from "../../lib/io/index.js";
import { batchToJsonLines } from "../../lib/io/jsonl-write.js";
import { parquetDecompressors } from "../../lib/io/parquet-codecs.js";
import { tmpDir } from "../helpers.js";

const opt = { repetition_type: "OPTIONAL" as const };
const schema: SchemaElement[] = [
  { name: "root", num_children: 6 },
  { name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" }, ...opt },
  { name: "ts_us", type: "INT64", converted_type: "TIMESTAMP_MICROS", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" }, ...opt },
  { name: "ts_local_ns", type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: "NANOS" }, ...opt },
  { name: "day", type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" }, ...opt },
  { name: "price", type: "INT64", converted_type: "DECIMAL", precision: 12, scale: 2, logical_type: { type: "DECIMAL", precision: 12, scale: 2 }, ...opt },
  { name: "big", type: "FIXED_LEN_BYTE_ARRAY", type_length: 16, converted_type: "DECIMAL", precision: 38, scale: 10, logical_type: { type: "DECIMAL", precision: 38, scale: 10 }, ...opt },
];
const big = [12345678901234567890123456789n, -1n, null]; // unscaled; beyond a double's 53 bits

function source(dir: string): string {
  const buf = parquetWriteBuffer({
    schema,
    columnData: [
      { name: "text", data: ["a", "b", "c"] },
      { name: "ts_us", data: [1700000000123456n, -5n, null] },
      { name: "ts_local_ns", data: [1700000000123456789n, 0n, 7n] },
      { name: "day", data: [19000, -1, null] },
      { name: "price", data: [12345n, -99n, null] },
      { name: "big", data: big },
    ],
  } as never);
  const f = join(dir, "typed.parquet");
  writeFileSync(f, new Uint8Array(buf));
  return f;
}

async function collect(file: string): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of readDocuments(file)) out.push(b);
  return out;
}

function annotations(file: string): Record<string, unknown> {
  const b = readFileSync(file);
  const m = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  return Object.fromEntries(m.schema.slice(1).filter((e) => e.name !== "id")
    .map((e) => [e.name, { type: e.type, logical: e.logical_type, precision: e.precision, scale: e.scale }]));
}

test("TIMESTAMP, DATE and DECIMAL are read as Arrow Timestamp, DateDay and Decimal128", async () => {
  const dir = tmpDir();
  const [b] = await collect(source(dir));
  const type = (n: string) => b.schema.fields.find((f) => f.name === n)!.type;
  assert.equal(String(type("ts_us")), "Timestamp<MICROSECOND, UTC>");
  assert.equal(String(type("ts_local_ns")), "Timestamp<NANOSECOND>");
  assert.ok(DataType.isDate(type("day")));
  for (const [n, precision, scale] of [["price", 12, 2], ["big", 38, 10]] as const) {
    const t = type(n);
    assert.ok(DataType.isDecimal(t) && t.precision === precision && t.scale === scale && t.bitWidth === 128, `${n}: ${t}`);
  }
  // Exact values, as JSONL shows them.
  const rows = batchToJsonLines(b).map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => r.price), ["123.45", "-0.99", null]);
  assert.deepEqual(rows.map((r) => r.big), ["1234567890123456789.0123456789", "-0.0000000001", null]);
  assert.deepEqual(rows.map((r) => r.day), ["2022-01-08", "1969-12-31", null]);
  assert.deepEqual(rows.map((r) => r.ts_local_ns), ["2023-11-14T22:13:20.123456789", "1970-01-01T00:00:00.000000000", "1970-01-01T00:00:00.000000007"]);
  assert.deepEqual(rows.map((r) => r.ts_us), ["2023-11-14T22:13:20.123456Z", "1969-12-31T23:59:59.999995Z", null]);
});

test("a stage's round trip Parquet → Arrow → Parquet keeps the logical types and the exact stored values", async () => {
  const dir = tmpDir();
  const src = source(dir);
  const [out] = await writeDocuments(join(dir, "out"), await collect(src));
  assert.deepEqual(annotations(out), annotations(src));
  const read = async (f: string) => {
    const b = readFileSync(f);
    return parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.length), columns: ["ts_us", "ts_local_ns", "day", "price", "big"],
      compressors: parquetDecompressors });
  };
  assert.deepEqual(await read(out), await read(src));
  // And once more through our reader: the same Arrow values.
  const again = await collect(out);
  const first = await collect(src);
  for (const name of ["ts_us", "ts_local_ns", "day", "price", "big"]) {
    assert.deepEqual(JSON.stringify([...again[0].getChild(name)!]), JSON.stringify([...first[0].getChild(name)!]), name);
  }
});

// MAP columns (e.g. a `meta` map<string, int64> or map<int32, list<string>>): before, they came back as JSON text.
test("MAP columns keep their type and entries through `megamath filter` (Parquet → stage → Parquet)", async () => {
  const dir = tmpDir();
  const mapSchema: SchemaElement[] = [
    { name: "root", num_children: 4 },
    { name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" }, ...opt },
    { name: "n", type: "INT32", ...opt },
    { name: "meta", converted_type: "MAP", logical_type: { type: "MAP" }, num_children: 1, ...opt },
    { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
    { name: "key", type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" }, repetition_type: "REQUIRED" },
    { name: "value", type: "INT64", ...opt },
    { name: "tags", converted_type: "MAP", logical_type: { type: "MAP" }, num_children: 1, ...opt },
    { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
    { name: "key", type: "INT64", repetition_type: "REQUIRED" },
    { name: "value", converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1, ...opt },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" }, ...opt },
  ];
  const meta = [{ year: 2023n, tokens: 9007199254740993n }, {}, null];
  const tags = [[{ key: 12345678901234567n, value: ["algebra", "proof"] }, { key: -1n, value: null }], null, [{ key: 0n, value: [] }]];
  const src = join(dir, "maps.parquet");
  writeFileSync(src, new Uint8Array(parquetWriteBuffer({ schema: mapSchema, columnData: [
    { name: "text", data: ["a", "b", "c"] },
    { name: "n", data: [1, 2, 3] },
    { name: "meta", data: meta },
    { name: "tags", data: tags },
  ] } as never)));
  const [b] = await collect(src);
  const type = (n: string) => b.schema.fields.find((f) => f.name === n)!.type;
  assert.equal(String(type("meta")), "Map<{key:Utf8, value:Int64}>");
  assert.equal(String(type("tags")), "Map<{key:Int64, value:List<Utf8>}>");
  const { main } = await import("../../cli/main.js");
  const out = join(dir, "out");
  assert.equal(await main(["filter", "-i", src, "-o", out, "--min", "n=0", "--quiet", "--workers", "1"]), 0);
  const written = join(out, "maps.parquet");
  const ann = annotations(written);
  for (const n of ["meta", "tags"]) assert.deepEqual((ann[n] as { logical: unknown }).logical, { type: "MAP" }, n);
  const m = (() => {
    const buf = readFileSync(written);
    return parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  })();
  const el = (path: string[]) => {
    let i = m.schema.findIndex((e) => e.name === path[0]);
    for (const p of path.slice(1)) i = m.schema.findIndex((e, j) => j > i && e.name === p);
    return m.schema[i];
  };
  assert.equal(el(["tags", "key_value", "key"]).type, "INT64");
  assert.equal(el(["tags", "key_value", "key"]).repetition_type, "REQUIRED");
  const buf = readFileSync(written);
  const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), columns: ["meta", "tags"],
    compressors: parquetDecompressors });
  assert.deepEqual(rows.map((r) => r.meta), meta.map((x) => x ?? undefined));
  assert.deepEqual(rows.map((r) => r.tags), [{ "12345678901234567": ["algebra", "proof"], "-1": null }, undefined, { 0: [] }]);
  const [again] = await collect(written);
  for (const n of ["meta", "tags"]) {
    assert.equal(String(again.schema.fields.find((f) => f.name === n)!.type), String(type(n)));
    assert.equal(JSON.stringify([...again.getChild(n)!], (_, v) => (typeof v === "bigint" ? String(v) : v)),
      JSON.stringify([...b.getChild(n)!], (_, v) => (typeof v === "bigint" ? String(v) : v)), n);
  }
});
