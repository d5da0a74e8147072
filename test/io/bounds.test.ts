// Bounded memory whatever the input: compressed streams decode only as fast as they are read, a line longer than
// maxDocBytes is an error ("line N of FILE is too long") or a counted skip, and decompression bombs stop at that
// bound. Bombs are made on the fly from repeated compressed members/frames: tiny on disk, GBs decompressed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import type { RecordBatch } from "apache-arrow";
import { readDocuments, InputError, zstdCompress, ensureZstd, DEFAULT_MAX_DOC_BYTES } from "../../lib/io/index.js";
import { getTexts } from "../../lib/arrow/batch.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { tmpDir, repoRoot } from "../helpers.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

async function collect(file: string, opts = {}): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of readDocuments(file, opts)) out.push(b);
  return out;
}

/** `copies` concatenated copies of one compressed member/frame (gzip and zstd both decode concatenations). */
function repeatFile(path: string, unit: Uint8Array, copies: number): string {
  const fd = openSync(path, "w");
  for (let i = 0; i < copies; i++) writeSync(fd, unit);
  closeSync(fd);
  return path;
}

function readInChild(file: string, opts: object = {}, stopAfter?: number):
  { rows: number; error: string | null; failed: Record<string, number>; maxRssMB: number; cpuS: number } {
  const args = ["--import", "tsx", join(repoRoot, "test/io/read-rss-child.ts"), file, JSON.stringify(opts)];
  if (stopAfter) args.push(String(stopAfter));
  return JSON.parse(execFileSync(process.execPath, args, { cwd: repoRoot, encoding: "utf8" }));
}

const jsonlLines = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => JSON.stringify({ text: `the same math text ${i % 10} `.repeat(20) })).join("\n") + "\n");

test("a long line: a clear error naming line and file, or a counted skip that keeps the other lines", async () => {
  const dir = tmpDir();
  const f = join(dir, "long.jsonl");
  const long = JSON.stringify({ text: "x".repeat(3 * MiB) });
  writeFileSync(f, [JSON.stringify({ text: "a" }), long, JSON.stringify({ text: "b" }), long].join("\n"));
  await assert.rejects(collect(f, { maxDocBytes: MiB }), (e: unknown) => e instanceof InputError &&
    e.reason === "line_too_long" && e.message.includes(`line 2 of ${f} is too long (> 1 MiB`));
  const stats = new StageStats("read");
  const got = await collect(f, { maxDocBytes: MiB, onError: "skip", stats });
  assert.deepEqual(got.flatMap((b) => getTexts(b)), ["a", "b"]);
  assert.deepEqual(got.flatMap((b) => b.getChild("id")!.toArray()), ["long.jsonl/0", "long.jsonl/2"], "ids keep their line numbers");
  assert.equal(stats.failed.line_too_long, 2, "the last line (no newline) is counted too");
  // Under the limit the same file reads whole.
  assert.equal((await collect(f, { maxDocBytes: 4 * MiB })).reduce((s, b) => s + b.numRows, 0), 4);
  assert.equal(DEFAULT_MAX_DOC_BYTES, 64 * MiB);
});

test("an over-long line in .gz and .zst gets the too-long message, not 'not valid UTF-8'", async () => {
  await ensureZstd();
  const dir = tmpDir();
  const body = Buffer.from(JSON.stringify({ text: "é".repeat(MiB) }) + "\n" + JSON.stringify({ text: "ok" }) + "\n");
  for (const [name, bytes] of [["l.jsonl.gz", gzipSync(body)], ["l.jsonl.zst", zstdCompress(body)]] as const) {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    await assert.rejects(collect(f, { maxDocBytes: MiB }), new RegExp(`line 1 of .*${name.replace(".", "\\.")} is too long`));
  }
});

test(".jsonl.zst decodes only as fast as it is read (1 GiB of repetitive JSONL in a small file)", async () => {
  await ensureZstd();
  const dir = tmpDir();
  // One frame of ~17 MB of whole lines (a few KB compressed), repeated to 1 GiB.
  const block = Buffer.concat(Array.from({ length: 16 }, () => jsonlLines(2_000)));
  const frame = zstdCompress(block, 3);
  const copies = Math.ceil(GiB / block.length);
  const f = repeatFile(join(dir, "rep.jsonl.zst"), frame, copies);
  const r = readInChild(f, { batchSize: 100 }, 3);
  assert.equal(r.error, null);
  assert.equal(r.rows, 300);
  assert.ok(r.maxRssMB < 400, `peak RSS ${r.maxRssMB} MB reading 3 batches of a ${copies}-frame file`);
});

test("decompression bombs (20 GB of zeros in .gz and .zst) stop at the line bound with bounded memory", async () => {
  await ensureZstd();
  const dir = tmpDir();
  const zeros = Buffer.alloc(8 * MiB);
  const units = { gz: gzipSync(zeros, { level: 9 }), zst: zstdCompress(zeros, 3) }; // ~8 KB and ~300 B
  const copies = Math.ceil(20e9 / zeros.length);
  for (const [ext, unit] of Object.entries(units)) {
    const f = repeatFile(join(dir, `bomb.jsonl.${ext}`), unit, copies);
    const r = readInChild(f);
    assert.match(r.error ?? "", /line 1 of .* is too long \(> 64 MiB/, ext);
    assert.ok(r.maxRssMB < 1024, `${ext}: peak RSS ${r.maxRssMB} MB`);
    // Decoding all 20 GB would take well over 10 CPU-seconds (gunzip runs at ~1 GB/s).
    assert.ok(r.cpuS < 10, `${ext}: ${r.cpuS} CPU-s, it did not stop at the bound`);
    console.log(`# bomb .${ext}: ${copies} x ${unit.length} B on disk, stopped at the bound, peak RSS ${r.maxRssMB} MB, ${r.cpuS} CPU-s`);
  }
});

test("under skip a bomb is one counted failure and the lines after it are read, in bounded memory", async () => {
  await ensureZstd();
  const dir = tmpDir();
  const zeros = Buffer.alloc(8 * MiB);
  const tail = Buffer.from("\n" + JSON.stringify({ text: "after the bomb" }) + "\n");
  for (const [ext, unit, end] of [["gz", gzipSync(zeros, { level: 9 }), gzipSync(tail)], ["zst", zstdCompress(zeros, 3), zstdCompress(tail)]] as const) {
    const f = repeatFile(join(dir, `bomb2.jsonl.${ext}`), unit, 16); // 128 MiB of zeros, twice the default bound
    writeFileSync(f, end, { flag: "a" });
    const r = readInChild(f, { onError: "skip" });
    assert.equal(r.error, null);
    assert.equal(r.rows, 1);
    assert.deepEqual(r.failed, { line_too_long: 1 });
    assert.ok(r.maxRssMB < 1024, `${ext}: peak RSS ${r.maxRssMB} MB`);
    console.log(`# bomb .${ext} under skip (128 MiB of zeros): peak RSS ${r.maxRssMB} MB`);
  }
});

test("a corrupt .jsonl.gz / .jsonl.zst: 'decompression of FILE failed' after the last good line", async () => {
  await ensureZstd();
  const dir = tmpDir();
  const body = jsonlLines(3000);
  for (const [name, packed] of [["c.jsonl.gz", gzipSync(body)], ["c.jsonl.zst", Buffer.from(zstdCompress(body))]] as const) {
    // gzip: a wrong CRC at the end ("incorrect data check"); zstd (no checksum by default): a truncated frame.
    let bad = Buffer.from(packed);
    if (name.endsWith(".gz")) bad.fill(0x5a, bad.length - 8, bad.length - 4);
    else bad = bad.subarray(0, bad.length - 100);
    const f = join(dir, name);
    writeFileSync(f, bad);
    await assert.rejects(collect(f), (e: unknown) => e instanceof InputError && e.reason === "corrupt_file" &&
      new RegExp(`(gzip|zstd) decompression of .*${name.replace(".", "\\.")} failed: .+ after line \\d+`).test(e.message), name);
  }
});

test("a .jsonl.zst frame header claiming a ~1.9 GiB window is refused before the decoder allocates it", () => {
  const dir = tmpDir();
  const f = join(dir, "window.jsonl.zst");
  // Frame: magic, descriptor 0 (window descriptor follows), window 2^30 * 1.875; one last RLE block of 128 KiB of "x".
  const blockHeader = 1 | (1 << 1) | ((128 * 1024) << 3);
  writeFileSync(f, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (20 << 3) | 7,
    blockHeader & 0xff, (blockHeader >> 8) & 0xff, (blockHeader >> 16) & 0xff, 0x78]));
  const r = readInChild(f);
  assert.match(r.error ?? "", /zstd decompression of .*window\.jsonl\.zst failed: zstd frame needs a 1920 MiB window, over the 256 MiB limit/);
  assert.ok(r.maxRssMB < 1024, `peak RSS ${r.maxRssMB} MB`);
});
