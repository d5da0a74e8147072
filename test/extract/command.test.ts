import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { repoRoot, tmpDir, sharedData } from "../helpers.js";
import { readDocuments } from "../../lib/io/index.js";
import { warcRecord, httpBlock, gzipMembers, page } from "./warc-helpers.js";

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), ...args], { cwd: repoRoot, encoding: "utf8" });
}
async function rows(file: string) {
  const out: Record<string, unknown>[] = [];
  for await (const b of readDocuments(file)) for (const r of b.toArray()) out.push(r.toJSON());
  return out;
}

test("bad input in one WARC: every page counted by reason, nothing lost, nothing crashes", async () => {
  const dir = tmpDir();
  const cp1251 = Buffer.concat([Buffer.from("<html><body><p>"), Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]), Buffer.from("</p></body></html>")]);
  const binary = Buffer.alloc(4000);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) & 0xff;
  const recs = [
    warcRecord("http://ok.example/a", httpBlock(page("A", "<p>Let $x^2$ be <math><semantics><mi>y</mi><annotation encoding=\"application/x-tex\">y_1</annotation></semantics></math>.</p>")), { id: "ok" }),
    warcRecord("http://ru.example/", httpBlock(Buffer.concat([Buffer.from('<meta charset="windows-1251">'), cp1251]), "text/html; charset=bogus-42"), { id: "ru" }),
    warcRecord("http://bin.example/", httpBlock(binary, "text/html"), { id: "bin" }),
    warcRecord("http://png.example/", httpBlock(binary, "image/png"), { id: "png" }),
    warcRecord("http://gone.example/", httpBlock("<p>gone</p>", "text/html", 404), { id: "gone" }),
    warcRecord("http://big.example/", httpBlock("<p>" + "a".repeat(50 * 1024 * 1024) + "</p>"), { id: "big" }),
    warcRecord("http://deep.example/", httpBlock("<div>".repeat(100_000) + "deep" ), { id: "deep" }),
    warcRecord("http://mml.example/", httpBlock("<p>q <math><mfrac><mi>a</math><msup></math></p>"), { id: "mml" }),
    warcRecord("http://empty.example/", httpBlock("<script>x()</script>"), { id: "empty" }),
  ];
  writeFileSync(join(dir, "CC-MAIN-2021-10-bad.warc.gz"), gzipMembers(recs));
  const r = cli("extract", "-i", join(dir, "*.warc.gz"), "-o", join(dir, "out"), "--workers", "0", "-q");
  assert.equal(r.status, 0, r.stderr);
  const stats = JSON.parse(readFileSync(join(dir, "out", "stats.json"), "utf8"));
  const ex = stats.stages.find((s: { name: string }) => s.name === "extract");
  assert.deepEqual(ex.removed, { binary_body: 1, empty_text: 1, html_too_large: 1, http_status: 1, not_html: 1 });
  assert.equal(ex.docsIn, 9);
  const docs = await rows(join(dir, "out", "CC-MAIN-2021-10-bad.warc.gz.parquet"));
  const byId = Object.fromEntries(docs.map((d) => [d.id, d]));
  assert.deepEqual(Object.keys(byId).sort(), ["urn:uuid:deep", "urn:uuid:mml", "urn:uuid:ok", "urn:uuid:ru"]);
  assert.equal(byId["urn:uuid:ok"].text, "Let $x^2$ be $y_1$.");
  assert.deepEqual([byId["urn:uuid:ru"].text, byId["urn:uuid:ru"].charset], ["Привет", "windows-1251"]);
  assert.deepEqual([byId["urn:uuid:ok"].dump, byId["urn:uuid:ok"].year, byId["urn:uuid:ok"].url], ["CC-MAIN-2021-10", 2021, "http://ok.example/a"]);
  assert.equal(byId["urn:uuid:deep"].text, "deep");
});

test("truncated gzip member: a clear error by default, a counted failure under --on-error skip", () => {
  const dir = tmpDir();
  const full = readFileSync(sharedData("warc", "commoncrawl_CC-MAIN-2020-34_excerpt.warc.gz"));
  writeFileSync(join(dir, "cut.warc.gz"), full.subarray(0, full.length - 3000));
  const fail = cli("extract", "-i", join(dir, "cut.warc.gz"), "-o", join(dir, "o1"), "--workers", "1", "-q");
  assert.notEqual(fail.status, 0);
  assert.match(fail.stderr, /cut\.warc\.gz.*(gzip|truncated|end)/i);
  const skip = cli("extract", "-i", join(dir, "cut.warc.gz"), "-o", join(dir, "o2"), "--workers", "1", "-q", "--on-error", "skip");
  assert.equal(skip.status, 0, skip.stderr);
  const read = JSON.parse(readFileSync(join(dir, "o2", "stats.json"), "utf8")).stages[0];
  assert.deepEqual(read.failed, { truncated_record: 1 });
  assert.ok(read.docsOut >= 14);
});

test("the main thread (--workers 0) and 2 worker threads write byte-identical output on the real WARC files", () => {
  const dir = tmpDir();
  const a = cli("extract", "-i", sharedData("warc", "*.warc.gz"), "-o", join(dir, "w1"), "--workers", "0", "-q");
  const b = cli("extract", "-i", sharedData("warc", "*.warc.gz"), "-o", join(dir, "w2"), "--workers", "2", "-q");
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  for (const f of ["commoncrawl_CC-MAIN-2020-34_excerpt", "clueweb-quirk", "dolma_sample-0000", "warcio_example"]) {
    const n = `${f}.warc.gz.parquet`;
    assert.ok(readFileSync(join(dir, "w1", n)).equals(readFileSync(join(dir, "w2", n))), n);
  }
});
