// Bad input and failing outputs: each gets a clear error naming file and row/line, or under onError "skip" is
// counted as failed with its reason; nothing is ever left half-written under a final name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, readdirSync, mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { tableToIPC, Table, type RecordBatch } from "apache-arrow";
import { readDocuments, writeDocuments, openWriter, expandInputs, InputError, OutputError, zstdCompress, ensureZstd } from "../../lib/io/index.js";
import { makeBatch, getTexts, batchRows } from "../../lib/arrow/batch.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { tmpDir, mountTinyTmpfs } from "../helpers.js";

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}
const count = (bs: RecordBatch[]) => bs.reduce((s, b) => s + b.numRows, 0);

async function goodParquet(dir: string, rows = 50): Promise<string> {
  const texts = Array.from({ length: rows }, (_, i) => `document ${i} `.repeat(20));
  const [f] = await writeDocuments(join(dir, "good"), [makeBatch({ text: texts, id: texts.map((_, i) => `d${i}`) })], { rowGroupSize: 10 });
  return f;
}

test("truncated Parquet: error names the file; under skip it is counted, not thrown", async () => {
  const dir = tmpDir();
  const good = readFileSync(await goodParquet(dir));
  const bad = join(dir, "truncated.parquet");
  writeFileSync(bad, good.subarray(0, Math.floor(good.length * 0.6)));
  await assert.rejects(collect(readDocuments(bad)), (e: unknown) =>
    e instanceof InputError && e.message.includes(bad) && e.reason === "corrupt_parquet");
  const stats = new StageStats("read");
  assert.equal(count(await collect(readDocuments(bad, { onError: "skip", stats }))), 0);
  assert.equal(stats.failed.corrupt_parquet, 1);
  assert.equal(stats.examples[0].where, bad);
});

test("corrupt footer (garbage metadata, bad magic) and a corrupt page: named errors; a bad row group is skipped whole", async () => {
  const dir = tmpDir();
  const good = readFileSync(await goodParquet(dir));
  // Footer bytes overwritten (metadata length and thrift body) — keeps the PAR1 magic so the parser gets further.
  const footer = Buffer.from(good);
  const metaLen = footer.readUInt32LE(footer.length - 8);
  footer.fill(0xee, footer.length - 8 - metaLen, footer.length - 8);
  const f1 = join(dir, "footer.parquet");
  writeFileSync(f1, footer);
  await assert.rejects(collect(readDocuments(f1)), (e: unknown) => e instanceof InputError && e.message.includes(f1));
  const magic = Buffer.from(good);
  magic.write("XXXX", magic.length - 4);
  const f2 = join(dir, "magic.parquet");
  writeFileSync(f2, magic);
  await assert.rejects(collect(readDocuments(f2)), /magic\.parquet: not a readable Parquet file/);
  // Scramble the middle of the first row group's data: that group's 10 rows fail, the other 40 are read.
  const page = Buffer.from(good);
  page.fill(0x55, 40, 200);
  const f3 = join(dir, "page.parquet");
  writeFileSync(f3, page);
  await assert.rejects(collect(readDocuments(f3)), (e: unknown) => e instanceof InputError && e.where === `${f3}#0`);
  const stats = new StageStats("read");
  const got = await collect(readDocuments(f3, { onError: "skip", stats }));
  assert.equal(count(got) + stats.failedTotal, 50, "every row is either read or counted as failed");
  // The scrambled bytes may span more than one 10-row group; whole groups fail, never part of one.
  assert.ok(stats.failed.corrupt_parquet >= 10 && stats.failed.corrupt_parquet % 10 === 0, String(stats.failed.corrupt_parquet));
});

test("no text column, and a text column of the wrong type (Parquet, JSONL, Arrow)", async () => {
  const dir = tmpDir();
  const [noText] = await writeDocuments(join(dir, "notext"), [makeBatch({ body: ["a", "b"], id: ["1", "2"] })]);
  await assert.rejects(collect(readDocuments(noText)), /notext\.parquet#0: no text column "text" \(columns: body, id\)/);
  const stats = new StageStats("read");
  await collect(readDocuments(noText, { onError: "skip", stats }));
  assert.equal(stats.failed.missing_text_column, 2);
  const [numText] = await writeDocuments(join(dir, "numtext"), [makeBatch({ text: [1.5, 2.5], id: ["1", "2"] })]);
  await assert.rejects(collect(readDocuments(numText)), /numtext\.parquet#0: text column "text" holds float64 values/);
  const arrowFile = join(dir, "numtext.arrow");
  writeFileSync(arrowFile, tableToIPC(new Table(makeBatch({ text: new Int32Array([1, 2]) })), "file"));
  await assert.rejects(collect(readDocuments(arrowFile)), /numtext\.arrow#0: text column "text" has type Int32, expected Utf8/);
  const jl = join(dir, "types.jsonl");
  writeFileSync(jl, ['{"text":"ok"}', '{"text":42}', '{"body":"x"}', '{"text":["a"]}'].join("\n"));
  await assert.rejects(collect(readDocuments(jl)), /types\.jsonl:2: "text" is a number, expected a string/);
  const s2 = new StageStats("read");
  const got = await collect(readDocuments(jl, { onError: "skip", stats: s2 }));
  assert.deepEqual(got.flatMap((b) => getTexts(b)), ["ok"]);
  assert.deepEqual(s2.failed, { text_not_string: 2, missing_text: 1 });
  assert.deepEqual(s2.examples.map((e) => e.where), [`${jl}:2`, `${jl}:3`, `${jl}:4`]);
});

test("JSONL with an invalid line and with invalid UTF-8: error names file:line; skip counts and keeps the rest", async () => {
  const dir = tmpDir();
  const f = join(dir, "bad.jsonl");
  const lines = [
    Buffer.from('{"text":"one"}\n'),
    Buffer.from('{"text": "two", oops}\n'),
    Buffer.concat([Buffer.from('{"text":"thr'), Buffer.from([0xff, 0xfe]), Buffer.from('ee"}\n')]),
    Buffer.from('{"text":"four"}\n'),
  ];
  writeFileSync(f, Buffer.concat(lines));
  await assert.rejects(collect(readDocuments(f)), (e: unknown) =>
    e instanceof InputError && e.where === `${f}:2` && /invalid JSON/.test(e.message));
  const stats = new StageStats("read");
  const got = await collect(readDocuments(f, { onError: "skip", stats }));
  assert.deepEqual(got.flatMap((b) => getTexts(b)), ["one", "four"]);
  assert.deepEqual(stats.failed, { invalid_json: 1, invalid_utf8: 1 });
  assert.deepEqual(stats.examples.map((e) => e.where), [`${f}:2`, `${f}:3`]);
  // Invalid UTF-8 alone, under fail:
  const u = join(dir, "utf8.jsonl");
  writeFileSync(u, Buffer.concat([lines[0], lines[2]]));
  await assert.rejects(collect(readDocuments(u)), /utf8\.jsonl:2: line is not valid UTF-8/);
});

test("an empty document is a document; a .jsonl.zst file reads", async () => {
  const dir = tmpDir();
  const f = join(dir, "empty.jsonl");
  writeFileSync(f, '{"text":""}\n{"text":"x"}\n');
  const rows = (await collect(readDocuments(f))).flatMap(batchRows);
  assert.deepEqual(rows.map((r) => r.text), ["", "x"]);
  const [p] = await writeDocuments(join(dir, "empty"), readDocuments(f));
  assert.deepEqual((await collect(readDocuments(p))).flatMap((b) => getTexts(b)), ["", "x"]);
  await ensureZstd();
  const z = join(dir, "empty.jsonl.zst");
  writeFileSync(z, zstdCompress(readFileSync(f)));
  assert.deepEqual((await collect(readDocuments(z))).flatMap((b) => getTexts(b)), ["", "x"]);
});

test("a 50 MB document survives JSONL → Parquet → JSONL.gz → read, in a batch of its own", async () => {
  const dir = tmpDir();
  const big = "∫ x dx = x²/2 + C. ".repeat(2_500_000).slice(0, 50_000_000);
  const f = join(dir, "big.jsonl");
  writeFileSync(f, JSON.stringify({ text: "small" }) + "\n" + JSON.stringify({ text: big }) + "\n" + JSON.stringify({ text: "tail" }) + "\n");
  const batches = await collect(readDocuments(f, { batchBytes: 1 << 20 }));
  assert.deepEqual(batches.map((b) => b.numRows), [1, 1, 1]);
  const [p] = await writeDocuments(join(dir, "big"), batches);
  const [g] = await writeDocuments(join(dir, "big2"), readDocuments(p), { format: "jsonl.gz" });
  const texts = (await collect(readDocuments(g))).flatMap((b) => getTexts(b));
  assert.equal(texts.length, 3);
  assert.equal(texts[1].length, big.length);
  assert.ok(texts[1] === big);
});

test("an empty input glob is an error naming the pattern", async () => {
  const dir = tmpDir();
  await assert.rejects(expandInputs([join(dir, "*.parquet")]), /no input files match ".*\*\.parquet"/);
  await assert.rejects(expandInputs([join(dir, "missing", "x.jsonl")]), /no input files match/);
});

test("a named input file that does not exist is an error even when other inputs match", async () => {
  const dir = tmpDir();
  const real = join(dir, "real.jsonl");
  writeFileSync(real, JSON.stringify({ text: "a" }) + "\n");
  const typo = join(dir, "raal.jsonl");
  await assert.rejects(expandInputs([real, typo]), (e: unknown) =>
    e instanceof Error && e.message.includes(JSON.stringify(typo)) && !e.message.includes(JSON.stringify(real)));
  // A glob that matches nothing next to one that does stays allowed (e.g. "*.jsonl" and "*.parquet").
  assert.deepEqual(await expandInputs([real, join(dir, "*.parquet")]), [real]);
});

test("an unwritable output folder: a clear OutputError naming the output, no files left", async () => {
  const dir = tmpDir();
  writeFileSync(join(dir, "afile"), "");
  const w = openWriter(join(dir, "afile", "out"));
  await assert.rejects(w.write(makeBatch({ text: ["a"], id: ["1"] })), (e: unknown) =>
    e instanceof OutputError && e.message.includes(join(dir, "afile", "out")));
  // A read-only folder. Root ignores permission bits, so as root use a read-only tmpfs instead.
  const ro = join(dir, "ro");
  mkdirSync(ro);
  let readOnly = false;
  if (process.getuid?.() === 0) {
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro], { stdio: "ignore" });
      readOnly = true;
    } catch { /* no mount rights in this sandbox */ }
  } else {
    execFileSync("chmod", ["555", ro]);
    readOnly = true;
  }
  if (!readOnly) return;
  try {
    await assert.rejects(writeDocuments(join(ro, "out"), [makeBatch({ text: ["a"], id: ["1"] })]), (e: unknown) =>
      e instanceof OutputError && /ro\/out\.parquet: cannot write: .*(EROFS|EACCES)/.test(e.message));
  } finally {
    if (process.getuid?.() === 0) execFileSync("umount", [ro]);
  }
});

test("disk full while writing (a 256 KiB tmpfs): OutputError, temp files removed, nothing under a final name", async (t) => {
  const fs = mountTinyTmpfs("256k");
  if ("skip" in fs) return t.skip(fs.skip);
  const mnt = fs.path;
  try {
    // ~4 MB of incompressible-ish text: far more than fits.
    let seed = 1;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % 26;
    const texts = Array.from({ length: 400 }, () => Array.from({ length: 10_000 }, () => String.fromCharCode(97 + rnd())).join(""));
    const batch = makeBatch({ text: texts, id: texts.map((_, i) => String(i)) });
    for (const format of ["parquet", "jsonl", "jsonl.gz"] as const) {
      await assert.rejects(writeDocuments(join(mnt, "out"), [batch, batch], { format, rowGroupSize: 50 }), (e: unknown) =>
        e instanceof OutputError && /ENOSPC/.test(e.message) && e.message.includes(join(mnt, "out")), format);
      assert.deepEqual(readdirSync(mnt), [], `${format}: nothing left behind`);
    }
    // abort() also removes what was written so far.
    const w = openWriter(join(mnt, "aborted"), { rowGroupSize: 2 });
    await w.write(makeBatch({ text: ["a", "b", "c"], id: ["1", "2", "3"] }));
    assert.equal(readdirSync(mnt).length, 1);
    await w.abort();
    assert.deepEqual(readdirSync(mnt), []);
    assert.equal(existsSync(join(mnt, "aborted.parquet")), false);
  } finally {
    fs.unmount();
  }
});
