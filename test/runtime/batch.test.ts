// Record-batch helpers on column types the readers pass through untouched (e.g. dictionary-encoded strings from an
// Arrow IPC file written by pandas/pyarrow with categorical columns).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tableToIPC, vectorFromArray, Dictionary, Utf8, Int32, Table } from "apache-arrow";
import { readDocuments } from "../../lib/io/index.js";
import { makeBatch, getStrings, takeRows } from "../../lib/arrow/batch.js";
import { tmpDir } from "../helpers.js";

test("getStrings reads a dictionary-encoded string column row for row", async () => {
  const lang = ["en", "fr", "de", "en", "fr"];
  const dict = vectorFromArray(lang, new Dictionary(new Utf8(), new Int32()));
  const b = makeBatch({ text: ["a", "b", "c", "d", "e"], lang: dict });
  assert.deepEqual(getStrings(b, "lang"), lang);
  assert.deepEqual(getStrings(takeRows(b, [4, 0]), "lang"), ["fr", "en"]);
  // The same column arriving through the Arrow IPC reader (passed through as a dictionary column).
  const file = join(tmpDir(), "dict.arrow");
  const t = new Table({ text: vectorFromArray(["a", "b", "c", "d", "e"], new Utf8()), lang: dict });
  writeFileSync(file, tableToIPC(t, "file"));
  const got: (string | null)[] = [];
  for await (const batch of readDocuments(file)) got.push(...getStrings(batch, "lang"));
  assert.deepEqual(got, lang);
});
