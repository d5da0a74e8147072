// The Parquet footer is not trusted: row counts that disagree with the column chunks make a corrupt row group
// (an error naming file and row group, or under skip a counted failure with the real row count), never invented
// null rows or silently dropped rows. The lying files are real ones with a rewritten footer (footer-rewrite.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { FileMetaData } from "hyparquet";
import type { RecordBatch } from "apache-arrow";
import { readDocuments, writeDocuments, InputError } from "../../lib/io/index.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { tmpDir, repoRoot } from "../helpers.js";
import { rewriteFooter } from "./footer-rewrite.js";

async function rows(file: string, opts = {}): Promise<{ n: number; nullTexts: number }> {
  let n = 0;
  let nullTexts = 0;
  for await (const b of readDocuments(file, opts) as AsyncIterable<RecordBatch>) {
    n += b.numRows;
    nullTexts += b.getChild("text")!.nullCount;
  }
  return { n, nullTexts };
}

/** A 3-row-group file of 300 documents (100 per group). */
async function threeGroups(dir: string): Promise<Uint8Array> {
  const texts = Array.from({ length: 300 }, (_, i) => `document ${i} `.repeat(5));
  const [f] = await writeDocuments(join(dir, "good"), [makeBatch({ text: texts, id: texts.map((_, i) => `d${i}`) })], { rowGroupSize: 100 });
  return readFileSync(f);
}

function lie(dir: string, name: string, src: Uint8Array, edit: (m: FileMetaData) => void): string {
  const f = join(dir, name);
  writeFileSync(f, rewriteFooter(src, (m) => {
    edit(m);
    m.num_rows = m.row_groups.reduce((s, g) => s + g.num_rows, 0n); // keep the file total consistent with the groups
  }));
  return f;
}

const setRows = (g: number, rows: bigint, alsoValues = false) => (m: FileMetaData) => {
  m.row_groups[g].num_rows = rows;
  if (alsoValues) for (const c of m.row_groups[g].columns) c.meta_data!.num_values = rows;
};

test("footer rewrite helper keeps a file readable when nothing is changed", async () => {
  const dir = tmpDir();
  const f = lie(dir, "same.parquet", await threeGroups(dir), () => {});
  assert.deepEqual(await rows(f), { n: 300, nullTexts: 0 });
});

test("a footer claiming more rows than stored: corrupt row group named, no invented null documents", async () => {
  const dir = tmpDir();
  const f = lie(dir, "more.parquet", await threeGroups(dir), setRows(1, 1000n));
  await assert.rejects(rows(f), (e: unknown) => e instanceof InputError && e.reason === "corrupt_parquet" &&
    e.message.includes(f) && /row group 1 is corrupt: the footer says 1000 rows but column "text" stores 100/.test(e.message));
  const stats = new StageStats("read");
  assert.deepEqual(await rows(f, { onError: "skip", stats }), { n: 200, nullTexts: 0 });
  assert.equal(stats.failed.corrupt_parquet, 100, "the real row count of the group is counted, not the footer's");
});

test("a footer claiming fewer rows than stored: no silently dropped documents", async () => {
  const dir = tmpDir();
  const f = lie(dir, "less.parquet", await threeGroups(dir), setRows(0, 33n));
  await assert.rejects(rows(f), /less\.parquet#0: row group 0 is corrupt: the footer says 33 rows but column "text" stores 100/);
  const stats = new StageStats("read");
  assert.deepEqual(await rows(f, { onError: "skip", stats }), { n: 200, nullTexts: 0 });
  assert.equal(stats.failed.corrupt_parquet, 100);
});

test("row and value counts both lying: the decoded pages are the truth", async () => {
  const dir = tmpDir();
  const src = await threeGroups(dir);
  const more = lie(dir, "more2.parquet", src, setRows(2, 500n, true));
  await assert.rejects(rows(more), /more2\.parquet#200: row group 2 is corrupt: the footer says 500 rows but column "\w+" decodes to 100/);
  const stats = new StageStats("read");
  assert.deepEqual(await rows(more, { onError: "skip", stats }), { n: 200, nullTexts: 0 });
  assert.equal(stats.failed.corrupt_parquet, 100);
  // Fewer: the page holding row 40 also holds rows 40-99, so the cut shows.
  const less = lie(dir, "less2.parquet", src, setRows(0, 40n, true));
  await assert.rejects(rows(less), /less2\.parquet#0: row group 0 is corrupt: the footer says 40 rows but column "\w+" decodes to 100/);
});

test("num_rows = 2e8 on a small real file fails at once", async () => {
  const dir = tmpDir();
  const real = readFileSync(join(repoRoot, "fixtures/demo/sources/dclm-baseline.parquet"));
  const f = lie(dir, "huge.parquet", real, setRows(0, 200_000_000n));
  const t = process.hrtime.bigint();
  await assert.rejects(rows(f), /huge\.parquet#0: row group 0 is corrupt: the footer says 200000000 rows/);
  const stats = new StageStats("read");
  assert.deepEqual(await rows(f, { onError: "skip", stats }), { n: 0, nullTexts: 0 });
  assert.ok(stats.failed.corrupt_parquet < 10_000, `counted ${stats.failed.corrupt_parquet}, not the footer's 2e8`);
  assert.ok(Number(process.hrtime.bigint() - t) / 1e9 < 5, "took more than 5 s");
});

test("the row-count checks accept every real Parquet file we have", async () => {
  const files = [join(repoRoot, "fixtures/demo"), join(repoRoot, "fixtures/demo/sources")]
    .flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".parquet")).map((f) => join(d, f)));
  assert.ok(files.length >= 10);
  for (const f of files) {
    // Every file has a string `id`; reading it as the text column keeps the test independent of text names,
    // while every column (the nested chat `messages` included) still goes through the checks.
    const { n, nullTexts } = await rows(f, { textKey: "id", idKey: "none" });
    assert.ok(n > 0 && nullTexts === 0, f);
  }
});
