// The n-gram index: deterministic build equal to the shipped file, binary round trip, clear errors on damaged or
// incompatible files, user benchmark files, short items matched whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { tmpDir } from "../helpers.js";
import { loadExtraBenchmark } from "../../lib/decontam/benchmarks.js";
import { NgramIndex, FORMAT_VERSION } from "../../lib/decontam/ngram-index.js";
import { indexSetBenchmarks, loadIndexSet, shippedIndexPath } from "../../lib/decontam/index-set.js";
import { Matcher } from "../../lib/decontam/matcher.js";
import { benchmarks } from "./corpus.js";

const dir = tmpDir("decont-index-");

test("building from ../shared/data/decontamination gives the shipped index byte for byte", () => {
  const built = NgramIndex.build(benchmarks()).serialize();
  const shipped = readFileSync(shippedIndexPath());
  assert.equal(built.length, shipped.length);
  assert.ok(Buffer.from(built).equals(shipped), "rebuild differs from fixtures/decontam/benchmarks-13gram.idx");
  const ix = NgramIndex.parse(shipped);
  assert.deepEqual(ix.benchmarks.map((b) => b.name), ["asdiv", "gsm8k", "math", "mathqa", "mawps", "mmlu_stem", "ocw", "sat", "svamp", "aime24", "aime25", "amc"]);
  assert.equal(ix.size, 1028781);
  assert.equal(ix.benchmarks.reduce((a, b) => a + b.itemsWithoutNgrams, 0), 72);
  // Expected accidental 64-bit matches over a 264B-token corpus (one n-gram per token): U / 2^64 per n-gram.
  const distinct = new Set<string>();
  for (let i = 0; i < ix.size; i++) distinct.add(`${ix.hiAt(i)}:${ix.loAt(i)}`);
  const expected = (264e9 * distinct.size) / 2 ** 64;
  assert.ok(expected < 0.02, `expected accidental hits ${expected}`);
});

test("round trip: parse(serialize(x)) finds the same entries; item ids survive", () => {
  const b = loadExtraBenchmark(`mine=${writeExtra("rt.jsonl", [
    { id: "q-1", question: "A train leaves the station at noon travelling at sixty miles per hour towards the coast", answer: "3" },
    { id: "q-2", question: "Alice has twelve red marbles and gives four of them to her younger brother Bob", answer: "8" },
  ])}`);
  const ix = NgramIndex.build([b]);
  const back = NgramIndex.parse(ix.serialize());
  assert.equal(back.size, ix.size);
  assert.deepEqual(Array.from(back.keys), Array.from(ix.keys));
  assert.deepEqual(Array.from(back.ref), Array.from(ix.ref));
  const m = new Matcher([back]).match("Intro. Alice has twelve red marbles and gives four of them to her younger brother, right?");
  assert.deepEqual(m.map((x) => [x.benchmark, x.itemId]), [["mine", "q-2"]]);
});

test("damaged or incompatible index files are refused with a message naming the file", () => {
  const good = NgramIndex.build([loadExtraBenchmark(writeExtra("d.jsonl", [{ question: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen", answer: "x" }]))]).serialize();
  const cases: [string, Uint8Array, RegExp][] = [
    ["magic.idx", Uint8Array.from(good).fill(0, 0, 8), /not a megamath decontamination index/],
    ["trunc.idx", good.subarray(0, good.length - 5), /corrupt or truncated/],
    ["version.idx", withVersion(good, FORMAT_VERSION + 1), /index format 2/],
    ["norm.idx", withHeader(good, (h) => ({ ...h, normalization: "datatrove-default" })), /built with normalization datatrove-default/],
  ];
  for (const [name, bytes, re] of cases) {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    assert.throws(() => NgramIndex.load(p), (e: Error) => re.test(e.message) && e.message.includes(p), name);
  }
  assert.throws(() => NgramIndex.load(join(dir, "absent.idx")), /cannot read decontamination index .*absent\.idx: ENOENT/);
});

test("the benchmarks of an index set from its file's header alone: the same list as the loaded set, the same refusals", () => {
  const p = writeExtra("house.jsonl", [{ question: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen", answer: "x" }]);
  const names = (o: Parameters<typeof loadIndexSet>[0]) => loadIndexSet(o).indexes.flatMap((ix) => ix.benchmarks.map((b) => [b.name, b.items]));
  for (const o of [{}, { extraBenchmarks: [`house=${p}`] }, { index: null, extraBenchmarks: [p] }]) {
    assert.deepEqual(indexSetBenchmarks(o).map((b) => [b.name, b.items]), names(o));
  }
  // Only the header is read: a body cut short still names the benchmarks (the matcher's load refuses it).
  const shipped = readFileSync(shippedIndexPath());
  const cut = join(dir, "cut.idx");
  writeFileSync(cut, shipped.subarray(0, shipped.length - 100));
  assert.equal(indexSetBenchmarks({ index: cut }).length, 12);
  assert.throws(() => loadIndexSet({ index: cut }), /corrupt or truncated/);
  const wrong = join(dir, "wrong.idx");
  writeFileSync(wrong, withHeader(shipped, (h) => ({ ...h, hash: "other" })));
  assert.throws(() => indexSetBenchmarks({ index: wrong }), /built with normalization .* hash other/);
  assert.throws(() => indexSetBenchmarks({ index: null }), /no decontamination index/);
});

test("user benchmarks: configurable fields and id key; a row without the fields is an error naming file and line", () => {
  const p = writeExtra("custom.jsonl.gz", [
    { uid: "u7", prompt: "Three friends share a pizza cut into twelve equal slices and each of them eats", solution: "four slices" },
  ]);
  const set = loadIndexSet({ index: null, extraBenchmarks: [`house=${p}`], extra: { fields: ["prompt", "solution"], idKey: "uid" } });
  const m = new Matcher(set.indexes).match("three friends share a pizza cut into twelve equal slices and each of them eats four slices!");
  assert.deepEqual(m.map((x) => [x.benchmark, x.itemId]), [["house", "u7"]]);
  const bad = writeExtra("bad.jsonl", [{ question: "fine", answer: "1" }, { other: "field" }]);
  assert.throws(() => loadExtraBenchmark(bad), new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: line 2 has none of the fields question, answer`));
  const broken = join(dir, "broken.jsonl");
  writeFileSync(broken, '{"question": "ok", "answer": 1}\n{"question": \n');
  assert.throws(() => loadExtraBenchmark(broken), /broken\.jsonl: line 2 is not valid JSON/);
});

test("items shorter than 13 tokens are matched whole (>= 8 tokens with 3 prose words, or >= 6 with their numbers) and skipped below that", () => {
  const p = writeExtra("short.jsonl", [
    { id: "s1", question: "Each ticket costs $9.00. How much do 4 tickets cost?", answer: "36" }, // 12 tokens
    { id: "s2", question: "Simplify $\\frac{8}{22}$.", answer: "4/11" }, // 6 tokens, 1 prose word, 4 distinct numbers
    { id: "s3", question: "What is 2+3?", answer: "5" }, // 5 tokens: too generic
    { id: "s4", question: "Sum 1 + 1 + 1 + 1.", answer: "4" }, // 6 tokens but 1 prose word + 2 distinct numbers: not specific
  ]);
  const ix = NgramIndex.build([loadExtraBenchmark(p)]);
  assert.equal(ix.size, 0);
  assert.equal(ix.benchmarks[0].shortIndexed, 2);
  assert.equal(ix.benchmarks[0].notationWhole, 1);
  assert.equal(ix.benchmarks[0].shortSkipped, 2);
  const m = new Matcher([ix]);
  assert.deepEqual(m.match("Quiz: each ticket costs $9.00 -- how much do 4 tickets cost? 36. Next.").map((x) => x.itemId), ["s1"]);
  assert.deepEqual(m.match("each ticket costs $9.00. How much do 5 tickets cost? 45"), []);
  // Matched whole with its numbers: the question and its answer together, not the question alone.
  assert.deepEqual(m.match("Exercise: Simplify $\\frac{8}{22}$ = 4/11. Next.").map((x) => x.itemId), ["s2"]);
  assert.deepEqual(m.match("Simplify $\\frac{8}{22}$. Then the next one."), []);
  assert.deepEqual(m.match("Simplify $\\frac{8}{22}$. 5/11"), []);
  assert.deepEqual(m.match("What is 2+3? 5"), []);
});

function writeExtra(name: string, rows: Record<string, unknown>[]): string {
  const p = join(dir, name);
  const body = rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
  writeFileSync(p, name.endsWith(".gz") ? gzipSync(body) : body);
  return p;
}

function withVersion(buf: Uint8Array, v: number): Uint8Array {
  const out = Uint8Array.from(buf);
  new DataView(out.buffer).setUint32(8, v, true);
  return out;
}

function withHeader(buf: Uint8Array, f: (h: Record<string, unknown>) => Record<string, unknown>): Uint8Array {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = dv.getUint32(12, true);
  const header = new TextEncoder().encode(JSON.stringify(f(JSON.parse(new TextDecoder().decode(buf.subarray(16, 16 + hlen))))));
  const out = new Uint8Array(16 + header.length + buf.length - 16 - hlen);
  out.set(buf.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, header.length, true);
  out.set(header, 16);
  out.set(buf.subarray(16 + hlen), 16 + header.length);
  return out;
}
