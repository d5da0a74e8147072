// Dictionary-encoded strings in Arrow IPC files (apache-arrow JS's default for string vectors: tableFromArrays,
// vectorFromArray) are read as plain Utf8 — text, id and pass-through columns — and written on to Parquet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromArrays, tableToIPC, DataType, type RecordBatch } from "apache-arrow";
import { readDocuments, writeDocuments } from "../../lib/io/index.js";
import { getTexts } from "../../lib/arrow/batch.js";
import { tmpDir } from "../helpers.js";

async function collect(file: string): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of readDocuments(file)) out.push(b);
  return out;
}

test("dictionary-encoded Arrow strings are accepted and decoded to Utf8 (file and stream formats)", async () => {
  const dir = tmpDir();
  const table = tableFromArrays({
    text: ["a proof", "a lemma", "a proof", "x = 1"], id: ["d0", "d1", "d2", "d3"], lang: ["en", "en", "fr", "en"],
  });
  assert.ok(DataType.isDictionary(table.schema.fields[0].type), "apache-arrow's default for strings is a dictionary");
  for (const kind of ["file", "stream"] as const) {
    const f = join(dir, `dict-${kind}.arrow`);
    writeFileSync(f, tableToIPC(table, kind));
    const batches = await collect(f);
    assert.deepEqual(batches.flatMap((b) => getTexts(b)), ["a proof", "a lemma", "a proof", "x = 1"]);
    const b = batches[0];
    for (const name of ["text", "id", "lang"]) assert.ok(DataType.isUtf8(b.schema.fields.find((x) => x.name === name)!.type), `${name} is Utf8`);
    assert.deepEqual([...b.getChild("id")!], ["d0", "d1", "d2", "d3"]);
    assert.deepEqual([...b.getChild("lang")!], ["en", "en", "fr", "en"]);
    // And the batches go on to Parquet like any other.
    const [out] = await writeDocuments(join(dir, `out-${kind}`), batches);
    assert.deepEqual((await collect(out)).flatMap((x) => [...x.getChild("lang")!]), ["en", "en", "fr", "en"]);
  }
});
