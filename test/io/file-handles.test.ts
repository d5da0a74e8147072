// Readers close their input file whatever happens: after a decode error mid-file and when the caller stops early.
// (pipe() and Arrow's reader leave the file stream open — paused, holding its fd — in both cases; a run over many
// bad files under --on-error skip ran out of fds, and a close still pending when a test removed its folder is the
// kind of late async activity that fails CI.) Checked through /proc/self/fd, so Linux only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tableToIPC, Table, type RecordBatch } from "apache-arrow";
import { readDocuments, zstdCompress, ensureZstd } from "../../lib/io/index.js";
import { readLines } from "../../lib/io/jsonl-read.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { fdsOn, noProcFds, tmpDir, sharedJsonl } from "../helpers.js";

/** Open file descriptors of this process that point at `path`. */

async function drain(it: AsyncIterable<RecordBatch>): Promise<void> {
  for await (const _ of it);
}

/** Several MB of real text (Stack Exchange answers, repeated with a counter): big enough that the file stream is
 * still reading when the decoder fails or the caller stops. */
function documents(): string[] {
  const se = sharedJsonl("math-qa", "se_math_33votes.jsonl.gz").map((r) => `${r.input}\n\n${r.output}`);
  return Array.from({ length: 3 * se.length }, (_, i) => `${i}: ${se[i % se.length]}`);
}

test("JSONL readers close the file after a corrupt .gz and after an early stop (.gz, .zst, plain)", { skip: noProcFds }, async () => {
  await ensureZstd();
  const dir = tmpDir();
  const jsonl = Buffer.from(documents().map((text) => JSON.stringify({ text }) + "\n").join(""));
  const plain = join(dir, "docs.jsonl");
  writeFileSync(plain, jsonl);
  const gz = join(dir, "docs.jsonl.gz");
  writeFileSync(gz, execFileSync("gzip", ["-c"], { input: jsonl, maxBuffer: 1 << 28 }));
  const badGz = join(dir, "bad.jsonl.gz");
  const b = readFileSync(gz);
  b.fill(0x55, 4096, 8192); // corrupt deflate data near the start
  writeFileSync(badGz, b);
  const zst = join(dir, "docs.jsonl.zst");
  writeFileSync(zst, zstdCompress(jsonl));

  const stats = new StageStats("read");
  await drain(readDocuments(badGz, { onError: "skip", stats }));
  assert.equal(stats.failed.corrupt_file, 1);
  assert.equal(fdsOn(badGz), 0, "corrupt .gz left open");

  for (const f of [gz, zst, plain]) {
    for await (const l of readLines(f)) {
      if (l.line === 3) break;
    }
    assert.equal(fdsOn(f), 0, `${f} left open after an early stop`);
  }
});

test("the Arrow reader closes the file after a bad header and after an early stop", { skip: noProcFds }, async () => {
  const dir = tmpDir();
  const texts = documents();
  const batches: RecordBatch[] = [];
  for (let i = 0; i < texts.length; i += 200) batches.push(makeBatch({ text: texts.slice(i, i + 200) }));
  const good = join(dir, "docs.arrow");
  writeFileSync(good, tableToIPC(new Table(batches), "stream"));
  const bad = join(dir, "bad.arrow");
  writeFileSync(bad, randomBytes(4 << 20));

  const stats = new StageStats("read");
  await drain(readDocuments(bad, { onError: "skip", stats }));
  assert.equal(stats.failed.corrupt_arrow, 1);
  assert.equal(fdsOn(bad), 0, "unreadable .arrow left open");

  for await (const _ of readDocuments(good, { batchSize: 50 })) break;
  assert.equal(fdsOn(good), 0, ".arrow left open after an early stop");
});
