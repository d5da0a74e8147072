// Byte columns written straight from the Arrow buffers (lib/io/parquet-pages.ts, parquet-dictionary.ts) give the
// same file, byte for byte, as hyparquet-writer given the same batches and settings (byteColumns:
// "hyparquet-writer", the reference): real documents with every column type we write, every codec, row groups
// and pages cut small so they span batches, sliced batches, and bad input (a value larger than a page, all-null
// and all-empty columns, empty batches, one row, near-identical values). The files read back with our reader.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Binary, Float32, Int8, Int64, LargeUtf8, Uint32, Utf8, type RecordBatch } from "apache-arrow";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { SchemaElement } from "hyparquet";
import { readDocuments, writeDocuments } from "../../lib/io/index.js";
import type { WriterOptions } from "../../lib/io/writer.js";
import { plainIsCertain, longValues } from "../../lib/io/parquet-pages.js";
import { byteDictionary } from "../../lib/io/parquet-dictionary.js";
import { batchRows, makeBatch } from "../../lib/arrow/batch.js";
import { sharedJsonl, tmpDir } from "../helpers.js";
import { dpoRecords, listOfStruct } from "./chat-parquet.js";

/** Write the batches through both paths; assert the files are identical; return the direct path's files. */
async function sameBytes(what: string, batches: RecordBatch[], opts: WriterOptions): Promise<string[]> {
  const dir = tmpDir("pq-pages-");
  const direct = await writeDocuments(join(dir, "direct"), batches, { ...opts, byteColumns: "direct" });
  const reference = await writeDocuments(join(dir, "reference"), batches, { ...opts, byteColumns: "hyparquet-writer" });
  assert.equal(direct.length, reference.length, `${what}: number of parts`);
  for (let i = 0; i < direct.length; i++) {
    const a = readFileSync(direct[i]!);
    const b = readFileSync(reference[i]!);
    const at = a.findIndex((x, k) => x !== b[k]);
    assert.ok(a.equals(b), `${what}: part ${i} differs (${a.length} vs ${b.length} bytes, first difference at ${at})`);
  }
  return direct;
}

async function rowsOf(files: string[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const f of files) for await (const b of readDocuments(f)) out.push(...batchRows(b));
  return out;
}

/** Real documents (C4 and math.stackexchange: long distinct texts, some repeated) with a column of every type
 * we write: short repeated labels, nulls, Binary, LargeUtf8, empty strings, numbers, booleans. */
function realBatch(): RecordBatch {
  const c4 = sharedJsonl("web-nonmath", "c4_demo.jsonl.gz").map((r) => String(r.text));
  const se = sharedJsonl("math-qa", "se_math_33votes.jsonl.gz").slice(0, 200).map((r) => String(r.input));
  const texts = [...c4, ...se, ...c4.slice(0, 40)]; // exact duplicates: the direct path must still decide as hyparquet-writer
  const n = texts.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  return makeBatch(
    {
      text: texts,
      id: idx.map((i) => `doc-${i}`),
      source: idx.map((i) => (i < 300 ? "c4" : i < 500 ? "math.stackexchange" : "c4-again")),
      maybe: idx.map((i) => (i % 7 === 0 ? null : texts[i]!.slice(0, 200 + (i % 50)))),
      label: idx.map((i) => (i % 11 === 0 ? null : ["math", "not-math", ""][i % 3]!)),
      raw: idx.map((i) => (i % 5 === 0 ? null : Buffer.from(texts[i]!))) as never,
      large: idx.map((i) => texts[i]!.slice(0, 100)),
      empty: idx.map(() => ""),
      score: idx.map((i) => (i % 9 === 0 ? null : i / 7)),
      f32: new Float32Array(idx.map((i) => i / 3)),
      n8: idx.map((i) => i % 100),
      n64: idx.map((i) => (i % 13 === 0 ? null : BigInt(i) * 3_000_000_000n)) as never,
      u32: idx.map((i) => i * 1000),
      ok: idx.map((i) => (i % 4 === 0 ? null : i % 2 === 0)),
    },
    { raw: new Binary(), large: new LargeUtf8(), n8: new Int8(), n64: new Int64(), u32: new Uint32(), f32: new Float32() },
  );
}

/** The batch cut into pieces of `size` rows (Arrow slices: offsets into shared buffers). */
function pieces(b: RecordBatch, size: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let i = 0; i < b.numRows; i += size) out.push(b.slice(i, Math.min(b.numRows, i + size)));
  return out;
}

test("real documents with every column type: the direct path writes hyparquet-writer's bytes, for every codec", async () => {
  const batch = realBatch();
  for (const codec of ["zstd", "snappy", "gzip", "none"] as const) {
    // Row groups of 150 rows over batches of 97 (groups span batches), pages of 16 KiB (several per group).
    const files = await sameBytes(`${codec}, small groups and pages`, pieces(batch, 97), { codec, rowGroupSize: 150, pageBytes: 16 * 1024 });
    if (codec === "zstd") {
      const back = await rowsOf(files);
      assert.deepEqual(back.map((r) => r.text), batchRows(batch).map((r) => r.text));
      assert.deepEqual(back.map((r) => r.maybe), batchRows(batch).map((r) => r.maybe));
      assert.deepEqual(back.map((r) => r.label), batchRows(batch).map((r) => r.label));
    }
  }
  // The defaults (10,000-row groups, 1 MiB pages, zstd level 1), one batch; and level 3.
  await sameBytes("defaults", [batch], {});
  await sameBytes("zstd level 3, groups closed by bytes", pieces(batch, 64), { level: 3, rowGroupBytes: 200_000 });
  // Pages so small that every value is a page, and dictionary index pages of 16 values.
  await sameBytes("64-byte pages", pieces(batch, 200), { codec: "snappy", pageBytes: 64 });
  // Part files rolled at a size.
  const parts = await sameBytes("rolled parts", pieces(batch, 50), { rowGroupSize: 100, maxFileBytes: 150_000 });
  assert.ok(parts.length > 1);
});

test("nested, timestamp, date and decimal columns read from a file go through hyparquet-writer beside direct text columns: same bytes", async () => {
  const dir = tmpDir("pq-pages-typed-");
  const recs = dpoRecords(60);
  const opt = { repetition_type: "OPTIONAL" as const };
  const schema: SchemaElement[] = [
    { name: "root", num_children: 6 },
    { name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", ...opt },
    ...listOfStruct("messages", ["from", "value"]),
    { name: "ts", type: "INT64", converted_type: "TIMESTAMP_MICROS", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" }, ...opt },
    { name: "day", type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" }, ...opt },
    { name: "price", type: "INT64", converted_type: "DECIMAL", precision: 12, scale: 2, logical_type: { type: "DECIMAL", precision: 12, scale: 2 }, ...opt },
    { name: "kind", type: "BYTE_ARRAY", converted_type: "UTF8", ...opt },
  ] as SchemaElement[];
  const buf = parquetWriteBuffer({
    schema,
    columnData: [
      { name: "text", data: recs.map((r) => r.chosen.value) },
      { name: "messages", data: recs.map((r, i) => (i % 9 === 4 ? null : r.conversations)) },
      { name: "ts", data: recs.map((_, i) => (i % 5 ? 1700000000123456n + BigInt(i) : null)) },
      { name: "day", data: recs.map((_, i) => 19000 + i) },
      { name: "price", data: recs.map((_, i) => BigInt(i * 1234)) },
      { name: "kind", data: recs.map((_, i) => (i % 2 ? "pair" : null)) },
    ],
  } as never);
  const src = join(dir, "typed.parquet");
  writeFileSync(src, new Uint8Array(buf));
  const batches: RecordBatch[] = [];
  for await (const b of readDocuments(src, { batchSize: 25 })) batches.push(b);
  const files = await sameBytes("typed", batches, { rowGroupSize: 40, pageBytes: 4096 });
  const back = await rowsOf(files);
  assert.equal(back.length, 60);
  assert.deepEqual(back.map((r) => r.text), recs.map((r) => r.chosen.value));
});

test("bad input: a value larger than a page, all-null and all-empty columns, empty batches, one row, near twins: same bytes", async () => {
  const huge = "x".repeat(3 * 1024 * 1024) + "∑"; // 3 MiB: one value makes its own page, past pageBytes
  const c4 = sharedJsonl("web-nonmath", "c4_demo.jsonl.gz").slice(0, 120).map((r) => String(r.text));
  const twins = c4.map((t) => "A".repeat(32) + t.slice(0, 40) + "-".repeat(2000) + "Z".repeat(32)); // same edges, not the same values
  twins[5] = twins[5]!.slice(0, 1000) + "q" + twins[5]!.slice(1001);
  const make = (texts: (string | null)[]) => makeBatch({
    text: texts,
    id: texts.map((_, i) => `r${i}`),
    nulls: texts.map(() => null) as (string | null)[],
    blank: texts.map(() => ""),
  }, { nulls: new LargeUtf8() });
  const withHuge = make([c4[0]!, huge, null, c4[1]!, ...c4.slice(2, 30)]);
  await sameBytes("huge value", [withHuge], { pageBytes: 64 * 1024 });
  await sameBytes("huge value, uncompressed", [withHuge], { codec: "none", pageBytes: 64 * 1024 });
  await sameBytes("all-null Utf8", [makeBatch({ text: c4.slice(0, 20), gone: c4.slice(0, 20).map(() => null) as (string | null)[] }, {})], {});
  await sameBytes("empty batches between", [make([]), make(c4.slice(0, 10)), make([]), make(c4.slice(10, 25)), make([])], { rowGroupSize: 7 });
  await sameBytes("one row", [make(["only one"])], {});
  await sameBytes("one null row", [make([null])], {});
  await sameBytes("near twins", [make(twins)], { rowGroupSize: 50 });
  await sameBytes("one long text repeated", [make(c4.map(() => c4[3]!))], {});
  await sameBytes("nulls on page edges", pieces(make(c4.map((t, i) => (i % 3 === 0 ? null : t))), 17), { pageBytes: 8000, rowGroupSize: 60 });
  // 100-byte values and 1000-byte pages: the value bytes reach the page size exactly (the cut is at >=).
  const exact = Array.from({ length: 35 }, (_, i) => `${i}`.padEnd(100, "."));
  await sameBytes("pages filled exactly", [make(exact)], { pageBytes: 1000 });
  await sameBytes("pages filled exactly, labels", [make(exact.map((_, i) => (i % 4 ? "label-" + (i % 3) : null)))], { pageBytes: 8 });
  const empty = await sameBytes("no rows at all", [make([])], {});
  assert.equal((await rowsOf(empty)).length, 0);
  const back = await rowsOf(await sameBytes("huge, read back", [withHuge], {}));
  assert.equal(back[1]!.text, huge);
  assert.equal(back[2]!.text, null);
});

test("plainIsCertain: true only where no dictionary can win; near twins and repeats go to the full decision", () => {
  const c4 = sharedJsonl("web-nonmath", "c4_demo.jsonl.gz").slice(0, 200).map((r) => String(r.text));
  const runsOf = (values: (string | null)[]) => {
    const data = makeBatch({ v: values }, { v: new Utf8() }).getChild("v")!.data[0]!;
    return [{ data, from: 0, to: values.length }];
  };
  assert.equal(plainIsCertain(runsOf(c4)), true);
  assert.equal(longValues(runsOf(c4)), true);
  assert.equal(plainIsCertain(runsOf([...c4, ...c4])), false, "every value twice");
  assert.equal(plainIsCertain(runsOf([...c4, c4[0]!])), true, "one duplicate among 201: a dictionary still cannot halve the bytes");
  // One ASCII character changed away from the 32 bytes the key reads (start, end).
  const v = c4[7]!;
  let at = 60;
  while (v.charCodeAt(at) > 127) at++;
  const twin = v.slice(0, at) + (v[at] === "q" ? "r" : "q") + v.slice(at + 1);
  assert.ok(v.length > 400);
  assert.equal(plainIsCertain(runsOf([v, twin])), false, "same length and edges: not told apart, so not certain");
  assert.equal(byteDictionary(runsOf([v, twin])), undefined, "the full decision: PLAIN");
  assert.equal(plainIsCertain(runsOf([null, null])), false);
  assert.equal(plainIsCertain(runsOf([])), false);
  assert.equal(longValues(runsOf(["a", "b"])), false);
  const labels = Array.from({ length: 500 }, (_, i) => ["math", "physics", null][i % 3]!);
  assert.ok(byteDictionary(runsOf(labels)), "short repeated labels get a dictionary");
  assert.equal(byteDictionary(runsOf(c4)), undefined);
});
