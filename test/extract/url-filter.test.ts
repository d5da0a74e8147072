import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { loadUrlLists, urlRemovalReason, hostPath } from "../../lib/extract/url-filter.js";
import { sharedData, tmpDir } from "../helpers.js";

const uf = (...p: string[]) => sharedData("url-filter", ...p);

test("real lists: UT1 categories, curated prefixes, whitelist, datatrove words; a reason per list", async () => {
  const l = await loadUrlLists({
    blocklistDirs: [uf("ut1-blocklist")], curatedFiles: [uf("megamath", "curated_domains.txt.gz")],
    whitelistFiles: [uf("megamath", "whitelist_domains.txt.gz")], bannedWordFiles: [uf("datatrove", "banned_words.txt.gz")],
    softBannedWordFiles: [uf("datatrove", "soft_banned_words.txt.gz")], bannedSubwordFiles: [uf("datatrove", "banned_subwords.txt.gz")],
  });
  assert.equal(l.blockDomains.size, 9);
  assert.equal(l.blockDomains.get("gambling")!.has("000-online-casino.com"), true);
  const cases: [string, string | null][] = [
    ["http://000-online-casino.com/x", "blocklist:gambling"],
    ["https://www.sub.000-online-casino.com/", "blocklist:gambling"],
    ["https://en.wikipedia.org/wiki/Hermitian_matrix", "curated"],
    ["https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1/", "curated"],
    ["https://www.ncbi.nlm.nih.gov/books/NBK1/", null], // only the /pmc prefix is curated
    ["https://math.stackexchange.com/questions/1", "curated"],
    ["https://blog.site.test/some-autoerotic-story", "banned_word"],
    ["https://blog.site.test/some-asshole-story", null], // one soft-banned word is not enough
    ["https://blog.site.test/babes/anus", "soft_banned_words"],
    ["https://blog.site.test/2-girls-1-cup", "banned_subword"],
    ["https://mathworld.wolfram.com/HermitianMatrix.html", null],
    ["https://blog.site.test/analysis/class-of-functions", null], // no word inside a word
    ["not a url", "bad_url"],
  ];
  for (const [u, want] of cases) assert.equal(urlRemovalReason(u, l), want, u);
  // The whitelist bypasses the word lists.
  assert.ok(l.whitelist.has("telegra.ph"));
  assert.equal(urlRemovalReason("https://telegra.ph/autoerotic-story", l), null);
});

test("UT1 folder format: <category>/domains and <category>/urls (gzip or plain); an empty folder is an error", async () => {
  const dir = tmpDir();
  mkdirSync(join(dir, "ut1", "dating"), { recursive: true });
  writeFileSync(join(dir, "ut1", "dating", "domains"), "date.example\n# comment\n");
  writeFileSync(join(dir, "ut1", "dating", "urls.gz"), gzipSync("www.host.example/personals\n"));
  mkdirSync(join(dir, "empty"));
  const l = await loadUrlLists({ blocklistDirs: [join(dir, "ut1")] });
  assert.equal(urlRemovalReason("http://x.date.example/", l), "blocklist:dating");
  assert.equal(urlRemovalReason("http://host.example/personals/123", l), "blocklist_url:dating");
  assert.equal(urlRemovalReason("http://host.example/personalsX", l), null);
  await assert.rejects(loadUrlLists({ blocklistDirs: [join(dir, "empty")] }), /no blocklist found/);
  assert.deepEqual(hostPath("HTTP://User@WWW.Example.COM:8080/a/b?q#f"), { host: "example.com", path: "/a/b" });
});

test("www prefixes come off hosts and entries, but never down to a bare suffix (www39115.com is a domain)", async () => {
  const dir = tmpDir();
  writeFileSync(join(dir, "phishing.domains.txt"), "www39115.com\nwww.bad.example\n");
  const l = await loadUrlLists({ blocklistDirs: [dir] });
  assert.equal(urlRemovalReason("https://mathworld.wolfram.com/", l), null);
  assert.equal(urlRemovalReason("http://www39115.com/x", l), "blocklist:phishing");
  assert.equal(urlRemovalReason("http://bad.example/", l), "blocklist:phishing");
  assert.deepEqual(hostPath("http://www2.site.test/a"), { host: "site.test", path: "/a" });
  assert.deepEqual(hostPath("http://www7.com/a"), { host: "www7.com", path: "/a" });
});
