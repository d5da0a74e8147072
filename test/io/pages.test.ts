// Parquet pages are not trusted either: a page header claiming a huge decompressed size is refused before it is
// allocated, and a page the codec rejects is reported as "decompression of FILE failed" with the codec's reason
// (never the WASM zstd build's "Failed to compress").
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parquetMetadata } from "hyparquet";
import type { RecordBatch } from "apache-arrow";
import { readDocuments, writeDocuments, InputError, type ParquetCodec } from "../../lib/io/index.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { tmpDir } from "../helpers.js";
import { rewriteFooter } from "./footer-rewrite.js";

async function count(file: string, opts = {}): Promise<number> {
  let n = 0;
  for await (const b of readDocuments(file, opts) as AsyncIterable<RecordBatch>) n += b.numRows;
  return n;
}

async function textOnly(dir: string, codec: ParquetCodec): Promise<{ bytes: Buffer; pageAt: number; pageEnd: number }> {
  const texts = Array.from({ length: 200 }, (_, i) => `page text ${i} `.repeat(30));
  const [f] = await writeDocuments(join(dir, `t-${codec}`), [makeBatch({ text: texts })], { codec });
  const bytes = readFileSync(f);
  const m = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  assert.equal(m.row_groups.length, 1);
  assert.equal(m.row_groups[0].columns.length, 1);
  const md = m.row_groups[0].columns[0].meta_data!;
  const pageAt = Number(md.dictionary_page_offset ?? md.data_page_offset);
  return { bytes, pageAt, pageEnd: pageAt + Number(md.total_compressed_size) };
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

test("a page header claiming 1 GiB decompressed is refused at once (every codec)", async () => {
  const dir = tmpDir();
  for (const codec of ["zstd", "snappy", "gzip"] as ParquetCodec[]) {
    const { bytes, pageAt } = await textOnly(dir, codec);
    // PageHeader (thrift compact): field 1 type (0x15, zigzag varint), field 2 uncompressed_page_size (0x15, varint).
    assert.equal(bytes[pageAt], 0x15);
    let i = pageAt + 1;
    while (bytes[i] & 0x80) i++;
    i++;
    assert.equal(bytes[i], 0x15);
    const sizeAt = i + 1;
    let end = sizeAt;
    while (bytes[end] & 0x80) end++;
    end++;
    const claim = Buffer.from(varint(2 ** 30 * 2)); // zigzag of 1 GiB
    const delta = claim.length - (end - sizeAt);
    const edited = Buffer.concat([bytes.subarray(0, sizeAt), claim, bytes.subarray(end)]);
    const f = join(dir, `claim-${codec}.parquet`);
    writeFileSync(f, rewriteFooter(edited, (m) => {
      const md = m.row_groups[0].columns[0].meta_data!;
      md.total_compressed_size += BigInt(delta);
      md.total_uncompressed_size += BigInt(delta);
    }));
    const t = process.hrtime.bigint();
    await assert.rejects(count(f), (e: unknown) => e instanceof InputError && e.reason === "corrupt_parquet" &&
      e.message.includes(`decompression of ${f} failed in row group 0`) && /claims 10737418\d\d bytes decompressed, over the 256 MiB page bound/.test(e.message));
    assert.ok(Number(process.hrtime.bigint() - t) / 1e9 < 2, codec);
    const stats = new StageStats("read");
    assert.equal(await count(f, { onError: "skip", stats }), 0);
    assert.equal(stats.failed.corrupt_parquet, 200);
  }
});

test("a corrupt zstd page: 'decompression of FILE failed' with the codec's reason, not 'Failed to compress'", async () => {
  const dir = tmpDir();
  const { bytes, pageAt, pageEnd } = await textOnly(dir, "zstd");
  const bad = Buffer.from(bytes);
  bad.fill(0xa5, pageAt + 40, pageEnd - 8); // keep the page header, scramble the compressed data
  const f = join(dir, "scrambled.parquet");
  writeFileSync(f, bad);
  await assert.rejects(count(f), (e: unknown) => {
    const m = (e as Error).message;
    return e instanceof InputError && m.includes(`decompression of ${f} failed in row group 0`) && /ZSTD page: /.test(m) &&
      !/Failed to compress/.test(m);
  });
});
