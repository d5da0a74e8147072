// Exact dedup (--exact): on the planted corpus (real text) it removes exactly one document of each planted exact
// pair (re-cased and re-punctuated copies included) and of each group of identical short texts, keeps every
// near-duplicate, names each removed document's survivor, and `megamath dedup --exact` equals the four sharded
// stages. The key function itself: normalization-equal texts share a key, others do not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { readGzJsonl, sharedData, tmpDir } from "../helpers.js";
import { main } from "../../cli/main.js";
import { baseDocuments, buildPlantedCorpus } from "./planted-corpus.js";
import { exactKey, exactKeyUtf8 } from "../../lib/dedup/exact.js";
import { normalizeForDedup } from "../../lib/dedup/normalize.js";
import { dedupPaths, type ClustersDone } from "../../lib/dedup/index.js";
import { readDocuments } from "../../lib/io/index.js";
import { batchRows } from "../../lib/arrow/batch.js";
import { mergeFolderStats } from "../../lib/runtime/runner.js";

const key = (t: string) => {
  const k = new Uint32Array(3);
  return exactKey(t, 11, k) ? [...k].join(":") : null;
};

test("exactKey: equal after normalization gives one key, a one-word or word-boundary change another", () => {
  assert.equal(key("The Sum of 2 and 3, is 5!"), key("the  sum of 7 and 9 is 1"));
  assert.equal(key("  Café  au lait "), key("cafe au lait"));
  assert.notEqual(key("the sum of two"), key("the sum of too"));
  assert.notEqual(key("ab c"), key("a bc"));
  assert.notEqual(key("abc"), key("ab c"));
  assert.equal(key(" ... "), null);
  assert.equal(key(""), null);
});

test("exactKeyUtf8 (from UTF-8 bytes) gives exactKey's key for every text, or hands it to the string path", () => {
  const enc = new TextEncoder();
  // Raw text (GSM8K: digits, decimals, thousands separators, upper case, punctuation) and normalized web text.
  const raw = readGzJsonl(sharedData("math-qa", "gsm8k_train.jsonl.gz")).slice(0, 400).map((r) => `${r.question}\n${r.answer}`);
  const texts = [...raw, ...baseDocuments().slice(0, 200).map((w) => w.join(" ")), "Pi is 3.14159, e is 2,718; 1.2.3 and 4,5,6.",
    "x=1.", "v1,a", "1,000.50 USD", "TEXT 42!", "\t\n", "", "a", "٣.٤ mixed ١", "1.٣", "Ünïcödé 12", "12٣", "a-b_c",
    "Straße ΣΊΣΥΦΟΣ ǅ İstanbul", "e\u0301 vs \u00e9", "𝔘𝔫𝔦 😀 ok"];
  let fast = 0;
  for (const t of texts) {
    const b = enc.encode(t), k = new Uint32Array(3);
    const r = exactKeyUtf8(b, 0, b.length, 11, k);
    if (r < 0) continue;
    fast++;
    assert.equal(r === 1 ? [...k].join(":") : null, key(t), JSON.stringify(t.slice(0, 60)));
  }
  assert.ok(fast >= 500, `${fast} texts took the byte path`);
  // Capital sigma lowercases by context: the string path decides (and gives the key of the decoded text).
  const sigma = enc.encode("ΟΔΟΣ 1");
  assert.equal(exactKeyUtf8(sigma, 0, sigma.length, 11, new Uint32Array(3)), -1);
});

function outputRows(dir: string): Record<string, unknown>[] {
  return readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").trim().split("\n").map((l) => JSON.parse(l)));
}

async function removedRows(out: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const f of readdirSync(join(out, "removed")).sort()) {
    for await (const b of readDocuments(join(out, "removed", f))) rows.push(...batchRows(b));
  }
  return rows;
}

test("--exact on the planted corpus removes exactly the planted exact copies, with provenance; sharded = one command", async () => {
  const dir = tmpDir("dedup-exact-");
  const c = buildPlantedCorpus(dir, 7, 3, 100);
  const ins = c.files.flatMap((f) => ["-i", f]);
  const common = ["--format", "jsonl", "--keep-removed", "--quiet"];
  const one = join(dir, "one");
  assert.equal(await main(["dedup", "--exact", ...ins, "-o", one, ...common]), 0);
  const docs = c.docs.flat();
  const byId = new Map(docs.map((d) => [d.id, d]));
  const kept = new Set(outputRows(one).map((r) => r.id as string));
  const removed = await removedRows(one);
  assert.equal(kept.size + removed.length, docs.length, "docs in = kept + removed");
  // Expected: one of each planted exact pair (the lower math_score; ties: the later by (file, row)) and 5 of the
  // 6 identical short texts; no near-duplicate (J <= 0.95) and no background document.
  const exactPairs = c.pairs.filter((p) => p.level === 1);
  assert.equal(removed.length, exactPairs.length + 5);
  const removedIds = new Set(removed.map((r) => r.id as string));
  for (const p of exactPairs) assert.equal(Number(removedIds.has(p.a)) + Number(removedIds.has(p.b)), 1, `pair ${p.a}`);
  for (const p of c.pairs.filter((p) => p.level < 1)) assert.ok(kept.has(p.a) && kept.has(p.b), `near pair ${p.a} kept whole`);
  assert.equal([...removedIds].filter((id) => id.startsWith("short")).length, 5);
  const at = new Map(c.files.map((f, i) => [f, c.docs[i]]));
  for (const r of removed) {
    const survivor = at.get(r.dup_of_file as string)![r.dup_of_row as number];
    assert.ok(kept.has(survivor.id), `${r.id}'s survivor ${survivor.id} is kept`);
    assert.equal(r.dup_of_id, survivor.id, "dup_of_id: the survivor's own id");
    const me = byId.get(r.id as string)!;
    assert.equal(normalizeForDedup(survivor.text), normalizeForDedup(me.text));
    assert.ok(survivor.score >= me.score, "the higher math_score survives");
    assert.ok(Number.isInteger(r.dup_band) && (r.dup_band as number) < 11, "dup_band: the hash partition");
  }
  const done = JSON.parse(readFileSync(dedupPaths.clustersDone(join(one, "dedup-work")), "utf8")) as ClustersDone;
  assert.equal(done.duplicates, removed.length);
  assert.equal(done.largestCluster, 6);
  // The four stages, sharded 2 ways, give the same bytes; stage 1 with other --rows/--ngram reuses the work folder.
  const work = join(dir, "work"), four = join(dir, "four");
  for (const s of ["0/2", "1/2"]) {
    assert.equal(await main(["dedup-signatures", "--exact", "--rows", s === "0/2" ? "10" : "3", ...ins, "--work-dir", work, "--shard", s, "--quiet"]), 0);
  }
  for (const s of ["0/2", "1/2"]) assert.equal(await main(["dedup-buckets", "--work-dir", work, "--shard", s, "--quiet"]), 0);
  // Stage 2 keeps the shared task loop's markers: `megamath stats WORK/pairs` merges both shards' (one per band).
  const pairStats = await mergeFolderStats(join(work, "pairs"));
  assert.equal(pairStats.markers, 11);
  assert.equal(pairStats.stages[0].counters.pairs, exactPairs.length + 5, "a group of k identical texts gives k-1 pairs");
  assert.equal(await main(["stats", join(work, "pairs"), "--quiet"]), 0);
  assert.equal(await main(["dedup-clusters", "--work-dir", work, "--clustering", "bucket", "--quiet"]), 0);
  const clusterStats = await mergeFolderStats(join(work, "clusters"));
  assert.equal(clusterStats.markers, 1);
  assert.equal(clusterStats.stages[0].counters.duplicates, exactPairs.length + 5);
  for (const s of ["0/2", "1/2"]) assert.equal(await main(["dedup-filter", ...ins, "-o", four, "--work-dir", work, "--shard", s, ...common]), 0);
  assert.deepEqual(outputRows(four), outputRows(one));
  assert.deepEqual(await removedRows(four), await removedRows(one));
  // A MinHash run into the exact work folder is refused (other params), not mixed in.
  assert.notEqual(await main(["dedup-signatures", ...ins, "--work-dir", work, "--quiet"]), 0);
  // --seeds needs MinHash.
  assert.equal(await main(["dedup", "--exact", "--clustering", "bucket", "--seeds", "2", ...ins, "-o", join(dir, "x"), "--quiet"]), 2);
});

test("dup_of_id is the survivor's id as stage 4 writes it, also for documents without an id column (FILE/ROW)", async () => {
  const dir = tmpDir("dedup-exact-ids-");
  const text = "the same words in the same order, twice over";
  writeFileSync(join(dir, "a.jsonl"), [{ text: "unrelated one" }, { text, math_score: 0.9 }].map((r) => JSON.stringify(r)).join("\n") + "\n");
  writeFileSync(join(dir, "b.jsonl"), [{ text: text.toUpperCase() + "!", math_score: 0.1 }, { text: "unrelated two" }].map((r) => JSON.stringify(r)).join("\n") + "\n");
  const out = join(dir, "out");
  assert.equal(await main(["dedup", "--exact", "-i", join(dir, "*.jsonl"), "-o", out, "--format", "jsonl", "--keep-removed", "--quiet"]), 0);
  const kept = outputRows(out);
  const removed = await removedRows(out);
  assert.equal(removed.length, 1);
  const survivor = kept.find((r) => r.text === text)!;
  assert.ok(typeof survivor.id === "string" && (survivor.id as string).endsWith("/1"), String(survivor.id));
  assert.equal(removed[0].dup_of_id, survivor.id);
});

test("--compression-level sets stage 4's gzip level (same rows, other bytes); out of range is a usage error", async () => {
  const dir = tmpDir("dedup-level-");
  // (Digits normalize to 0: the documents differ by a letter word, 300 distinct texts.)
  const word = (k: number) => String.fromCharCode(97 + (k % 26), 97 + Math.floor(k / 26));
  const rows = Array.from({ length: 400 }, (_, i) => ({ id: `d${i}`, text: `document ${word(i % 300)} says ${"words ".repeat(20)}` }));
  writeFileSync(join(dir, "in.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const size: Record<string, number> = {};
  const text: Record<string, string> = {};
  for (const level of ["1", "9"]) {
    const out = join(dir, `out${level}`);
    assert.equal(await main(["dedup", "--exact", "-i", join(dir, "in.jsonl"), "-o", out, "--format", "jsonl.gz", "--compression-level", level, "--quiet"]), 0);
    const gz = readFileSync(join(out, "in.jsonl.gz"));
    size[level] = gz.length;
    text[level] = gunzipSync(gz).toString("utf8");
  }
  assert.equal(text["1"], text["9"]);
  assert.equal(text["1"].trim().split("\n").length, 300);
  assert.ok(size["1"] > size["9"], `level 1 ${size["1"]} bytes > level 9 ${size["9"]}`);
  assert.equal(await main(["dedup", "--exact", "-i", join(dir, "in.jsonl"), "-o", join(dir, "bad"), "--format", "jsonl.gz", "--compression-level", "12", "--quiet"]), 2);
});
