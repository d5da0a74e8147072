// batchToJsonBytes (the JSONL writer's byte path) must give exactly the bytes of batchToJsonLines (JSON.stringify
// of one object per row): real documents of every JSONL file in ../shared/data, and the cases where the two could
// part: every escape, invalid UTF-8, nulls, keys an object reorders or drops, values that stringify to nothing,
// sliced batches.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Field, Int32, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray, Int64, List, Float64 } from "apache-arrow";
import { readDocuments } from "../../lib/io/index.js";
import { batchToJsonBytes, batchToJsonLines } from "../../lib/io/jsonl-write.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { utf8FromValues, valueAsString } from "../../lib/io/columns.js";

function same(b: RecordBatch, what: string): void {
  const lines = batchToJsonLines(b);
  const want = Buffer.from(lines.join(""));
  const { bytes, ends } = batchToJsonBytes(b);
  assert.equal(Buffer.compare(Buffer.from(bytes), want), 0, `${what}: bytes differ\n got ${Buffer.from(bytes).toString().slice(0, 300)}\nwant ${want.toString().slice(0, 300)}`);
  let pos = 0;
  assert.deepEqual([...ends], lines.map((l) => (pos += Buffer.byteLength(l))), `${what}: line ends`);
}

/** A one-column Utf8 batch holding these raw byte strings (valid UTF-8 or not). */
function rawUtf8(values: (Uint8Array | null)[], name = "text"): RecordBatch {
  const offsets = new Int32Array(values.length + 1);
  values.forEach((v, i) => (offsets[i + 1] = offsets[i] + (v?.length ?? 0)));
  const data = new Uint8Array(offsets[values.length]);
  values.forEach((v, i) => v && data.set(v, offsets[i]));
  const valid = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => v && (valid[i >> 3] |= 1 << (i & 7)));
  const col = makeData({ type: new Utf8(), length: values.length, valueOffsets: offsets, data, nullBitmap: valid,
    nullCount: values.filter((v) => !v).length });
  const schema = new Schema([new Field(name, new Utf8(), true)]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: values.length, nullCount: 0, children: [col] }));
}

test("every JSONL file of ../shared/data: byte path = JSON.stringify path, whole batches and slices", async (t) => {
  const root = join(import.meta.dirname, "../../../shared/data");
  if (!existsSync(root)) return t.skip("../shared/data not present");
  let files = 0, docs = 0;
  for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of readdirSync(join(root, dir.name)).filter((x) => /\.jsonl(\.gz)?$/.test(x))) {
      files++;
      for await (const b of readDocuments(join(root, dir.name, f), { onError: "skip" })) {
        same(b, f);
        if (b.numRows > 3) same(b.slice(1, b.numRows - 1), `${f} sliced`);
        docs += b.numRows;
      }
    }
  }
  assert.ok(files >= 20 && docs >= 1000, `${files} files, ${docs} documents`);
});

test("escapes: every control character, quotes, backslashes, DEL, U+2028, non-BMP, lone surrogates", () => {
  const all = Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)).join("");
  const texts = [all, '"\\"\\\\', "a\u007fb\u2028c\u2029", "π ∑ 😀 \u{10FFFF}", "\ud800 lone \udfff", "", "plain", null, "x\n".repeat(1000)];
  same(makeBatch({ id: texts.map((_, i) => `d${i}`), text: texts }), "escapes");
  // One long escape-heavy value: the buffer must grow inside a value.
  same(makeBatch({ text: ["\u0001".repeat(100_000), "\"".repeat(70_000)] }), "growth");
});

test("invalid UTF-8 bytes come out as JSON.stringify of the decoded text (U+FFFD), valid neighbours untouched", () => {
  const b = rawUtf8([
    Uint8Array.from([0x61, 0xff, 0x62]), Uint8Array.from([0xed, 0xa0, 0x80]), Uint8Array.from([0xe2, 0x82]),
    Buffer.from("ok \"q\""), null, Uint8Array.from([0xc0, 0xaf, 0x0a]),
    // Valid alone only together: a value ending in a lead byte, the next starting with its continuation.
    Uint8Array.from([0x41, 0xc3]), Uint8Array.from([0xa9, 0x42]),
  ]);
  same(b, "invalid");
});

test("keys an object would reorder or drop, and values that stringify to nothing, take the JSON.stringify path", () => {
  same(makeBatch({ text: ["a", "b"], "1": ["x", "y"], id: ["i", "j"] }), "array-index key");
  same(makeBatch({ text: ["a"], "01": ["x"], "4294967295": ["z"] }), "keys that look numeric but are not indexes");
  const dupSchema = new Schema([new Field("text", new Utf8(), true), new Field("text", new Utf8(), true)]);
  const kids = [makeBatch({ t: ["a", "b"] }).getChild("t")!.data[0], makeBatch({ t: ["c", "d"] }).getChild("t")!.data[0]];
  same(new RecordBatch(dupSchema, makeData({ type: new Struct(dupSchema.fields), length: 2, nullCount: 0, children: kids })), "duplicate names");
  const protoSchema = new Schema([new Field("text", new Utf8(), true), new Field("__proto__", new Utf8(), true)]);
  same(new RecordBatch(protoSchema, makeData({ type: new Struct(protoSchema.fields), length: 2, nullCount: 0, children: kids })), "__proto__");
});

test("other column types: numbers, NaN, bigints, lists, structs, nulls everywhere", () => {
  same(makeBatch({
    text: ["a", null, "c"], n: new Float64Array([1.5, NaN, -0]), i: new Int32Array([1, 2, 3]),
    big: [2n ** 60n, null, 5n] as never, flag: [true, null, false],
  }, { big: new Int64() }), "scalars");
  const list = vectorFromArray([[1, 2], null, []], new List(new Field("item", new Float64(), true)));
  same(makeBatch({ text: ["x", "y", "z"], l: list }), "list");
  const st = vectorFromArray([{ a: 1, b: "x\n" }, null, { a: null, b: "z" }],
    new Struct([new Field("a", new Float64(), true), new Field("b", new Utf8(), true)]));
  same(makeBatch({ text: ["x", "y", "z"], meta: st }), "struct");
});

test("the reader's Utf8 columns (utf8FromValues) hold TextEncoder's bytes: short, long, non-ASCII, lone surrogates, nulls, non-strings", () => {
  const values = ["", "a", "plain ascii", "é", "\ud800", "x\udfffy", "😀".repeat(40), "a".repeat(100) + "π", null, 12.5, { k: "v" }, "\u0000"];
  const d = utf8FromValues(values, 1, values.length);
  const enc = new TextEncoder();
  const want = values.slice(1).map((v) => (v == null ? null : enc.encode(typeof v === "string" ? v : valueAsString(v))));
  const offs = d.valueOffsets as Int32Array;
  want.forEach((w, i) => {
    assert.equal(d.getValid(i), w !== null, `valid ${i}`);
    assert.deepEqual(Buffer.from((d.values as Uint8Array).subarray(offs[i], offs[i + 1])), Buffer.from(w ?? []), `value ${i}`);
  });
  assert.equal(offs[want.length], (d.values as Uint8Array).length);
});
