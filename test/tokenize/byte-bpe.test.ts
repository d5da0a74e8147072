// The JS byte-level BPE (byte-bpe.ts) that encodes the piece cache's misses must give tiktoken's ids exactly: every
// document of real data sets the reference test does not read (math Q&A, multilingual raw HTML with scripts, data
// URLs and CJK), for Llama-3 and for tiktoken's own encodings, plus the merge rule's corner cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { Tiktoken } from "tiktoken";
import { sharedData } from "../helpers.js";
import { loadTokenizer, llama3TokenizerJsonPath } from "../../lib/tokenizer/load.js";
import { bpeFromTokenizerJson } from "../../lib/tokenizer/ranks.js";
import { ByteBpe, utf8 } from "../../lib/tokenizer/byte-bpe.js";
import { bpeTablesBuilt } from "../../lib/tokenizer/bpe.js";
import { BatchTokenizer } from "../../lib/tokenizer/batch-tokenizer.js";
import { writeFileSync } from "node:fs";
import { tmpDir } from "../helpers.js";

function jsonlTexts(file: string): string[] {
  const docs: string[] = [];
  for (const line of gunzipSync(readFileSync(sharedData(file))).toString("utf8").split("\n")) {
    if (!line) continue;
    const o = JSON.parse(line);
    if (typeof o.input === "string") docs.push(`${o.input}\n\n${o.output}`);
    else if (typeof o.question === "string") docs.push(`${o.question}\n${o.answer ?? (Array.isArray(o.answers) ? o.answers[0] : "")}`);
    else if (typeof o.text === "string") docs.push(o.text);
  }
  return docs;
}

/** Raw HTML pages (many languages, inline scripts and styles, base64 data URLs): the first 1.5 MB of the readability
 * test pages in name order, and every non-English Common Crawl page. */
function htmlPages(): string[] {
  const pages: string[] = [];
  const cc = sharedData("html", "non-english-cc");
  for (const f of readdirSync(cc).filter((n) => n.endsWith(".html.gz")).sort()) pages.push(gunzipSync(readFileSync(join(cc, f))).toString("utf8"));
  const rt = sharedData("html", "readability-test-pages");
  let bytes = 0;
  for (const d of readdirSync(rt).sort()) {
    const f = join(rt, d, "source.html.gz");
    if (!existsSync(f) || bytes > 1.5e6) continue;
    const page = gunzipSync(readFileSync(f)).toString("utf8");
    bytes += page.length;
    pages.push(page);
  }
  return pages;
}

let llama3Ref: Tiktoken | undefined;
function llama3Tiktoken(): Tiktoken {
  if (llama3Ref) return llama3Ref;
  const def = bpeFromTokenizerJson(JSON.parse(readFileSync(llama3TokenizerJsonPath(), "utf8")), "llama3");
  return (llama3Ref = new Tiktoken(def.ranks, def.specials, def.pattern));
}

function assertSameIds(name: string, docs: string[], ours: (s: string) => number[], ref: (s: string) => Uint32Array): number {
  let tokens = 0;
  for (let i = 0; i < docs.length; i++) {
    const a = ours(docs[i]);
    const b = ref(docs[i]);
    tokens += a.length;
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) {
      const k = a.findIndex((x, j) => x !== b[j]);
      assert.fail(`${name}: document ${i} differs from tiktoken at id ${k} (ours ${a.length} ids, tiktoken ${b.length}): ${JSON.stringify(docs[i].slice(0, 100))}`);
    }
  }
  return tokens;
}

test("Llama-3 ids equal tiktoken's on every document of two StackExchange sets and of raw HTML pages", () => {
  const docs = [...jsonlTexts("math-qa/se_cstheory_10votes.jsonl.gz"), ...jsonlTexts("math-qa/se_proofassistants_7votes.jsonl.gz"), ...htmlPages()];
  assert.ok(docs.length > 300, `expected > 300 documents, got ${docs.length}`);
  const ours = loadTokenizer("llama3");
  const ref = llama3Tiktoken();
  const tokens = assertSameIds("llama3", docs, (s) => ours.encode(s), (s) => ref.encode_ordinary(s));
  assert.ok(tokens > 500_000, `test set too small: ${tokens} tokens`);
  ours.free();
});

test("tiktoken's own encodings (cl100k_base, o200k_base, gpt2) give tiktoken's ids on real documents", () => {
  const docs = [...jsonlTexts("math-qa/se_proofassistants_7votes.jsonl.gz"), ...htmlPages().slice(0, 12)];
  const require = createRequire(import.meta.url);
  for (const name of ["cl100k_base", "o200k_base", "gpt2"]) {
    const enc = require(`tiktoken/encoders/${name}.json`) as { pat_str: string; special_tokens: Record<string, number>; bpe_ranks: string };
    const ref = new Tiktoken(enc.bpe_ranks, enc.special_tokens, enc.pat_str);
    const ours = loadTokenizer(name);
    assertSameIds(name, docs, (s) => ours.encode(s), (s) => ref.encode_ordinary(s));
    ref.free();
    ours.free();
  }
});

test("merge corner cases equal tiktoken: repeated bytes (leftmost pair on ties), long uncached pieces, lone surrogates", () => {
  const ours = loadTokenizer("llama3");
  const ref = llama3Tiktoken();
  const cases = [
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "!!!!!!!!!!!!!!!!!!!!!!", "================",
    "ababababababababab abababab", "\u{1F600}\u{1F600}\u{1F600}", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    "a\ud800b \udc00 x\ud83d", "Ǆǅǆ ﬁﬂ ﷽ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "-".repeat(300) + "\n".repeat(50), " ".repeat(200) + "x",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  ];
  for (const c of cases) assert.deepEqual(ours.encode(c), Array.from(ref.encode_ordinary(c)), JSON.stringify(c.slice(0, 40)));
  ours.free();
});

test("UTF-8 of a piece matches TextEncoder, lone surrogates included", () => {
  const out = new Uint8Array(64);
  for (const s of ["héllo", "日本", "\u{1F600}x", "a\ud800", "\udc00b", "\ud83d\ud83d\ude00", "\u07ff\u0800\uffff"]) {
    const n = utf8(s, 0, s.length, out);
    assert.deepEqual(Array.from(out.subarray(0, n)), Array.from(new TextEncoder().encode(s)), JSON.stringify(s));
  }
});

test("a bad ranks table is refused with a clear error; decode refuses ids with no token", () => {
  const bytes = Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString("base64")} ${b}`);
  const ok = new ByteBpe(bytes.join("\n") + `\n${Buffer.from("ab").toString("base64")} 300\n`, { "<eot>": 301 }, "t");
  const ids = new Uint32Array(8);
  const n = ok.encodeBytes(Uint8Array.from([97, 98, 97]), 3, ids, 0);
  assert.deepEqual(Array.from(ids.subarray(0, n)), [300, 97]);
  assert.equal(Buffer.from(ok.decodeBytes([300, 301])).toString(), "ab<eot>");
  assert.throws(() => ok.decodeBytes([299]), /token id 299 has no token/);
  assert.throws(() => new ByteBpe(bytes.slice(1).join("\n"), {}, "t"), /t: no token for the single byte 0/);
  assert.throws(() => new ByteBpe(bytes.join("\n") + "\nnot-a-line\n", {}, "t"), /t: ranks line "not-a-line" is not "base64 rank"/);
  assert.throws(() => new ByteBpe(bytes.join("\n") + "\nYQ== 7\n", {}, "t"), /t: rank 7 appears twice/);
  assert.throws(() => new ByteBpe(bytes.join("\n") + "\nYQ== 400\n", {}, "t"), /t: two ranks for the bytes of rank 400/);
});

test("a tokenizer builds its BPE table on first use: not for its facts, not when worker threads tokenize", async () => {
  // A small vocabulary of its own (single bytes + "ab"), so no earlier test of this file built its table.
  const file = join(tmpDir("megamath-lazy-bpe-"), "small.tiktoken");
  const lines = Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString("base64")} ${b}`);
  writeFileSync(file, [...lines, `${Buffer.from("ab").toString("base64")} 256`].join("\n") + "\n");
  const before = bpeTablesBuilt();
  const t = loadTokenizer(file);
  assert.equal(t.vocabSize, 257);
  assert.match(t.fingerprint, /^[0-9a-f]{16}$/);
  const pooled = new BatchTokenizer(file, { workers: 1 });
  try {
    const framed = await pooled.tokenize(["abab", "ba"]);
    assert.deepEqual(Array.from(framed.ids), [256, 256, 98, 97]);
  } finally {
    await pooled.close();
  }
  assert.equal(bpeTablesBuilt(), before, "a table was built on this thread though nothing was encoded here");
  assert.deepEqual(t.encode("abab"), [256, 256]);
  assert.equal(bpeTablesBuilt(), before + 1);
  // Shared by every later tokenizer of the same vocabulary on this thread.
  assert.deepEqual(loadTokenizer(file).encode("ab"), [256]);
  assert.equal(bpeTablesBuilt(), before + 1);
});
