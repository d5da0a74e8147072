// zstd on every backend (Node 22's zlib, Node 20's WASM codec and fzstd): frames made by the zstd CLI and by us
// decode, and a truncated frame is an error — Node's zlib decoder alone returns a short result without one
// (nodejs/node#64592). CI runs this file under Node 20 and Node 22, so each backend is checked by real runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { RecordBatch } from "apache-arrow";
import { readDocuments, InputError, zstdCompress, zstdDecompress, ensureZstd, zstdBackend } from "../../lib/io/index.js";
import { ZstdFrameWalker, zstdFrameEnds } from "../../lib/io/zstd-frames.js";
import { getTexts } from "../../lib/arrow/batch.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { tmpDir, sharedJsonl } from "../helpers.js";
import { needs } from "../oracles.js";

const noCli = needs("zstd");

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/** Real documents as JSONL bytes: Stack Exchange questions and answers, then C4 pages. */
function realJsonl(): Buffer {
  const se = sharedJsonl("math-qa", "se_math_33votes.jsonl.gz").map((r, i) => ({ id: `se-${i}`, text: `${r.input}\n\n${r.output}` }));
  const c4 = sharedJsonl("web-nonmath", "c4_demo.jsonl.gz").map((r, i) => ({ id: `c4-${i}`, text: r.text }));
  return Buffer.from([...se, ...c4].map((r) => JSON.stringify(r) + "\n").join(""));
}

/** Compress with the zstd CLI. From a pipe it writes no content size unless told the size (`sized`). */
function cliCompress(data: Uint8Array, args: string[], sized = true): Buffer {
  const size = sized ? [`--stream-size=${data.length}`] : [];
  return execFileSync("zstd", ["-q", "-c", ...size, ...args], { input: data, maxBuffer: 1 << 28 });
}

/** The same frame with a dictionary id field of `bytes` (1, 2 or 4) in its header: only the layout matters to
 * the walker (nothing can decode it without the dictionary). */
function withDictId(frame: Buffer, bytes: 1 | 2 | 4): Buffer {
  const fhd = frame[4];
  const flag = { 1: 1, 2: 2, 4: 3 }[bytes];
  const at = 5 + ((fhd >> 5) & 1 ? 0 : 1); // after the window descriptor, when there is one
  assert.equal(fhd & 3, 0);
  return Buffer.concat([frame.subarray(0, 4), Buffer.from([fhd | flag]), frame.subarray(5, at), Buffer.alloc(bytes, 7), frame.subarray(at)]);
}

/** A skippable frame (RFC 8878 §3.1.2) holding `n` bytes of user data. */
function skippable(n: number): Buffer {
  const b = Buffer.alloc(8 + n, 0x5a);
  b.writeUInt32LE(0x184d2a53, 0);
  b.writeUInt32LE(n, 4);
  return b;
}

test("the frame walker finds exactly the frame ends, in CLI-made frames of every block kind and skippable frames", { skip: noCli }, async () => {
  await ensureZstd();
  const text = realJsonl().subarray(0, 600_000);
  const frames = [
    cliCompress(text, ["-3", "--check"]),                  // compressed blocks, checksum, 4-byte content size
    cliCompress(text.subarray(0, 5000), ["-19", "--no-check"]), // single segment, 2-byte content size
    skippable(13),
    cliCompress(randomBytes(300_000), ["-1"]),            // incompressible: raw blocks
    cliCompress(Buffer.alloc(400_000, 0x61), ["-3"]),      // one repeated byte: RLE blocks
    skippable(0),
    Buffer.from(zstdCompress(text.subarray(100_000, 300_000))), // our own encoder (zlib or WASM)
    cliCompress(Buffer.alloc(0), []),                      // an empty frame
    cliCompress(text.subarray(0, 200), []),                // single segment, 1-byte content size
    cliCompress(text.subarray(0, 200_000), [], false),     // as from a pipe: window descriptor, no content size
  ];
  const decodable = Buffer.concat(frames);
  frames.push(withDictId(frames[1], 1), withDictId(frames[9], 2), withDictId(frames[0], 4));
  const all = Buffer.concat(frames);
  const ends = new Set<number>([0]);
  let at = 0;
  for (const f of frames) ends.add((at += f.length));

  const byteWise = new ZstdFrameWalker();
  const seen = new Set<number>([0]);
  for (let i = 0; i < all.length; i++) {
    byteWise.push(all.subarray(i, i + 1));
    if (byteWise.atFrameBoundary) seen.add(i + 1);
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), [...ends].sort((a, b) => a - b));

  // Chunks of varied sizes agree with the byte-wise walk at every chunk end.
  const chunked = new ZstdFrameWalker();
  let pos = 0;
  for (let k = 1; pos < all.length; k++) {
    const n = (k * 7919) % 70_000 + 1;
    chunked.push(all.subarray(pos, pos + n));
    pos = Math.min(all.length, pos + n);
    assert.equal(chunked.atFrameBoundary, ends.has(pos), `after ${pos} bytes`);
  }
  // The frames made without a dictionary decode as one input, in order.
  const expected = Buffer.concat([text, text.subarray(0, 5000)]);
  assert.ok(Buffer.from(zstdDecompress(decodable)).subarray(0, expected.length).equals(expected));
});

test("the frame walker refuses bytes that are not zstd and reserved values", async () => {
  assert.throws(() => zstdFrameEnds(Buffer.from('{"text": "not compressed"}\n')), /not a zstd frame \(magic number 0x6574227b\)/);
  await ensureZstd();
  const f = Buffer.from(zstdCompress(Buffer.from("x".repeat(1000))));
  const reserved = Buffer.from(f);
  reserved[4] |= 0x08; // frame header descriptor: reserved bit
  assert.throws(() => zstdFrameEnds(reserved), /reserved bit/);
  assert.deepEqual(zstdFrameEnds(new Uint8Array(0)), { ends: [], whole: true });
});

test(`zstdDecompress (${zstdBackend}) fails on a truncated page instead of returning its first part`, async () => {
  await ensureZstd();
  const text = realJsonl().subarray(0, 200_000);
  const whole = zstdCompress(text);
  assert.ok(Buffer.from(zstdDecompress(whole, text.length)).equals(text));
  assert.ok(Buffer.from(zstdDecompress(whole)).equals(text));
  for (const cut of [1, 9, 100, whole.length >> 1, whole.length - 4, whole.length - 1]) {
    const part = whole.subarray(0, cut);
    assert.throws(() => zstdDecompress(part, text.length), Error, `${cut} of ${whole.length} bytes, size known`);
    assert.throws(() => zstdDecompress(part), Error, `${cut} of ${whole.length} bytes, size unknown`);
  }
});

test("a .jsonl.zst made by the zstd CLI (several frames) reads like its .jsonl; a truncated one is a corrupt_file error", { skip: noCli }, async () => {
  const dir = tmpDir();
  const jsonl = realJsonl();
  const plain = join(dir, "docs.jsonl");
  writeFileSync(plain, jsonl);
  const half = jsonl.indexOf(0x0a, jsonl.length >> 1) + 1;
  const zst = Buffer.concat([cliCompress(jsonl.subarray(0, half), ["--check"]), cliCompress(jsonl.subarray(half), ["-9"])]);
  const good = join(dir, "docs.jsonl.zst");
  writeFileSync(good, zst);
  const want = (await collect(readDocuments(plain))).flatMap((b) => getTexts(b));
  assert.ok(want.length > 1000);
  assert.deepEqual((await collect(readDocuments(good))).flatMap((b) => getTexts(b)), want);

  for (const keep of [0.3, 0.999]) {
    const cut = join(dir, `cut-${keep}.jsonl.zst`);
    writeFileSync(cut, zst.subarray(0, Math.floor(zst.length * keep)));
    await assert.rejects(collect(readDocuments(cut)), (e: unknown) =>
      e instanceof InputError && e.reason === "corrupt_file" && e.message.includes(cut));
    const stats = new StageStats("read");
    const got = (await collect(readDocuments(cut, { onError: "skip", stats }))).flatMap((b) => getTexts(b));
    assert.equal(stats.failed.corrupt_file, 1);
    assert.ok(got.length < want.length, `${got.length} of ${want.length} documents from a cut file`);
    assert.deepEqual(got, want.slice(0, got.length));
  }
});
