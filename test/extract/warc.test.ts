import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { readWarc, isProblem, WarcParser, type WarcRecord, type WarcProblem } from "../../lib/extract/warc.js";
import { parseHttpResponse } from "../../lib/extract/http.js";
import { decodeHtml } from "../../lib/extract/charset.js";
import { sharedData, tmpDir } from "../helpers.js";
import { warcRecord, httpBlock, gzipMembers } from "./warc-helpers.js";

async function collect(path: string) {
  const recs: WarcRecord[] = [];
  const probs: WarcProblem[] = [];
  for await (const r of readWarc(path)) (isProblem(r) ? probs : recs).push(r as never);
  return { recs, probs };
}

test("real WARC files: record counts by type match their PROVENANCE", async () => {
  const expect: Record<string, Record<string, number>> = {
    "commoncrawl_CC-MAIN-2020-34_excerpt.warc.gz": { warcinfo: 1, request: 17, response: 16, metadata: 16 },
    "clueweb-quirk.warc.gz": { warcinfo: 1, response: 29 },
    "dolma_sample-0000.warc.gz": { warcinfo: 1, request: 22, response: 22, metadata: 1, resource: 2 },
    "warcio_example.warc.gz": { warcinfo: 2, response: 1, request: 2, revisit: 1 },
  };
  for (const [f, want] of Object.entries(expect)) {
    const { recs, probs } = await collect(sharedData("warc", f));
    const got: Record<string, number> = {};
    for (const r of recs) got[r.type] = (got[r.type] ?? 0) + 1;
    assert.deepEqual(got, want, f);
    assert.deepEqual(probs, [], f);
  }
});

test("plain (uncompressed) WARC reads the same records as the gzip one", async () => {
  const dir = tmpDir();
  const plain = join(dir, "x.warc");
  writeFileSync(plain, gunzipSync(readFileSync(sharedData("warc", "commoncrawl_CC-MAIN-2020-34_excerpt.warc.gz"))));
  const a = await collect(plain);
  const b = await collect(sharedData("warc", "commoncrawl_CC-MAIN-2020-34_excerpt.warc.gz"));
  assert.equal(a.recs.length, b.recs.length);
  assert.deepEqual(a.recs.map((r) => r.headers.get("warc-record-id")), b.recs.map((r) => r.headers.get("warc-record-id")));
  assert.ok(a.recs.every((r, i) => Buffer.compare(Buffer.from(r.block), Buffer.from(b.recs[i].block)) === 0));
});

test("parser gives the same records whatever the chunk size (1 byte to whole file)", () => {
  const bytes = gunzipSync(readFileSync(sharedData("warc", "dolma_sample-0000.warc.gz")));
  const ids = (size: number) => {
    const p = new WarcParser();
    const out: WarcRecord[] = [];
    const probs: WarcProblem[] = [];
    for (let i = 0; i < bytes.length; i += size) p.push(bytes.subarray(i, i + size), out, probs);
    p.end(probs);
    assert.deepEqual(probs, []);
    return out.map((r) => `${r.headers.get("warc-record-id")}:${r.block.length}`);
  };
  const whole = ids(bytes.length);
  assert.equal(whole.length, 48);
  assert.deepEqual(ids(7), whole);
  assert.deepEqual(ids(4093), whole);
});

test("truncated gzip member: records before it are read, then one truncated_record problem", async () => {
  const full = readFileSync(sharedData("warc", "commoncrawl_CC-MAIN-2020-34_excerpt.warc.gz"));
  const dir = tmpDir();
  const cut = join(dir, "cut.warc.gz");
  writeFileSync(cut, full.subarray(0, full.length - 3000));
  const { recs, probs } = await collect(cut);
  assert.ok(recs.length > 40 && recs.length < 50, `${recs.length} records`);
  assert.equal(probs.length, 1);
  assert.equal(probs[0].reason, "truncated_record");
});

test("lying Content-Length: too long is cut at the next record, too short skips garbage; the next record survives", async () => {
  const a = warcRecord("http://a.example/", httpBlock("<p>A</p>"), { id: "a", lengthDelta: 40 });
  const b = warcRecord("http://b.example/", httpBlock("<p>B</p>"), { id: "b" });
  const c = warcRecord("http://c.example/", httpBlock("<p>C page with more text</p>"), { id: "c", lengthDelta: -10 });
  const d = warcRecord("http://d.example/", httpBlock("<p>D</p>"), { id: "d" });
  const dir = tmpDir();
  const f = join(dir, "lie.warc.gz");
  writeFileSync(f, gzipMembers([a, b, c, d]));
  const { recs, probs } = await collect(f);
  assert.deepEqual(recs.map((r) => r.headers.get("warc-record-id")), ["<urn:uuid:a>", "<urn:uuid:b>", "<urn:uuid:c>", "<urn:uuid:d>"]);
  assert.deepEqual(probs.map((p) => p.reason).sort(), ["bad_content_length", "garbage_between_records"]);
  assert.match(Buffer.from(recs[0].block).toString(), /<p>A<\/p>$/);
});

test("a record over maxRecordBytes is skipped unbuffered and counted", async () => {
  const big = warcRecord("http://big.example/", httpBlock("x".repeat(200_000)), { id: "big" });
  const ok = warcRecord("http://ok.example/", httpBlock("<p>ok</p>"), { id: "ok" });
  const dir = tmpDir();
  const f = join(dir, "big.warc");
  writeFileSync(f, Buffer.concat([big, ok]));
  const recs: WarcRecord[] = [];
  const probs: WarcProblem[] = [];
  for await (const r of readWarc(f, { maxRecordBytes: 100_000, chunkBytes: 8192 })) (isProblem(r) ? probs : recs).push(r as never);
  assert.deepEqual(recs.map((r) => r.headers.get("warc-record-id")), ["<urn:uuid:ok>"]);
  assert.deepEqual(probs.map((p) => p.reason), ["record_too_large"]);
});

test("HTTP parsing: status, content type, charset, chunked and gzip payloads", async () => {
  const { gzipSync } = await import("node:zlib");
  const r = parseHttpResponse(Buffer.from("HTTP/1.1 404 Not Found\r\nContent-Type: Text/HTML; Charset=\"ISO-8859-1\"\r\n\r\nbody"))!;
  assert.deepEqual([r.status, r.mime, r.charset, Buffer.from(r.payload).toString()], [404, "text/html", "iso-8859-1", "body"]);
  const ch = parseHttpResponse(Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"))!;
  assert.equal(Buffer.from(ch.payload).toString(), "Wikipedia");
  const gz = parseHttpResponse(Buffer.concat([Buffer.from("HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n"), gzipSync("<p>zipped</p>")]))!;
  assert.equal(Buffer.from(gz.payload).toString(), "<p>zipped</p>");
  const bad = parseHttpResponse(Buffer.concat([Buffer.from("HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n"), Buffer.from([0x1f, 0x8b, 1, 2, 3])]))!;
  assert.ok(bad.problem);
  assert.equal(parseHttpResponse(Buffer.from("not http at all")), null);
});

test("charset: HTTP label, meta sniffing, invalid labels, wrong UTF-8 claims, legacy encodings", () => {
  const cp1251 = Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]); // "Привет" in windows-1251
  assert.equal(decodeHtml(cp1251, "windows-1251").text, "Привет");
  const withMeta = Buffer.concat([Buffer.from('<meta charset="windows-1251">'), cp1251]);
  const m = decodeHtml(withMeta, "");
  assert.deepEqual([m.charset, m.source, m.text.endsWith("Привет")], ["windows-1251", "meta", true]);
  const invalid = decodeHtml(withMeta, "no-such-charset");
  assert.deepEqual([invalid.charset, invalid.source], ["windows-1251", "meta"]);
  // Declared UTF-8 but really Latin-1: falls back to windows-1252 rather than U+FFFD everywhere.
  const latin = decodeHtml(Buffer.from([0x63, 0x61, 0x66, 0xe9]), "utf-8");
  assert.deepEqual([latin.text, latin.charset], ["café", "windows-1252"]);
  // UTF-16 in a meta tag cannot be right (we read the tag as ASCII): ignored.
  assert.equal(decodeHtml(Buffer.from('<meta charset="utf-16"><p>é</p>'), "").charset, "utf-8");
  const gbk = decodeHtml(Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), "gbk");
  assert.equal(gbk.text, "你好");
});
