// Dedup against an existing corpus: a reference index built once (sharded or not, same index), then a new corpus
// deduplicated against it loses exactly its planted copies of reference documents (exact, re-cased, and near copies
// at Jaccard ~0.95), each naming the reference document it copies; the reference itself is never deduplicated;
// the new corpus's own duplicates are removed apart; overlap.json counts the shared documents and words, and the
// four sharded stages write the same overlap.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpDir } from "../helpers.js";
import { main } from "../../cli/main.js";
import { baseDocuments, nearCopy } from "./planted-corpus.js";
import { mulberry32 } from "../../lib/random.js";
import { dedupPaths, type ClustersDone } from "../../lib/dedup/index.js";
import { readDocuments as read } from "../../lib/io/index.js";
import { batchRows } from "../../lib/arrow/batch.js";

interface Doc { id: string; text: string; math_score: number; copies?: string }

function writeFiles(dir: string, name: string, docs: Doc[], n: number): string[] {
  return Array.from({ length: n }, (_, f) => {
    const path = join(dir, `${name}-${f}.jsonl`);
    writeFileSync(path, docs.filter((_, i) => i % n === f).map((d) => JSON.stringify({ id: d.id, text: d.text, math_score: d.math_score })).join("\n") + "\n");
    return path;
  });
}

function corpora(dir: string) {
  const rnd = mulberry32(5);
  const bases = baseDocuments().filter((w) => w.length >= 120);
  const ref: Doc[] = bases.slice(0, 120).map((w, i) => ({ id: `ref${i}`, text: w.join(" "), math_score: rnd() }));
  ref.push({ id: "ref-twin", text: ref[3].text, math_score: 0.5 }); // the reference's own duplicate: stays in the index
  const fresh: Doc[] = bases.slice(120, 200).map((w, i) => ({ id: `new${i}`, text: w.join(" "), math_score: rnd() }));
  const planted: Doc[] = [];
  for (let i = 0; i < 15; i++) {
    const src = ref[i * 2];
    const text = i % 3 === 1 ? src.text.toUpperCase().replaceAll(" ", " ,  ") : src.text;
    planted.push({ id: `copy${i}`, text, math_score: 2, copies: src.id }); // outranks any reference score
  }
  for (let i = 0, k = 40; i < 15; k++) {
    const c = nearCopy(bases[k], 0.95, rnd);
    if (!c) continue;
    planted.push({ id: `near${i++}`, text: c.words.join(" "), math_score: rnd(), copies: ref[k].id });
  }
  planted.push({ id: "copy-again", text: ref[0].text, math_score: 0.1, copies: ref[0].id }); // a second copy of ref0
  planted.push({ id: "copy-twin", text: ref[3].text, math_score: 0.1, copies: ref[3].id }); // ref3 = ref-twin
  const ownText = bases[200].join(" ");
  const own: Doc[] = [{ id: "own-a", text: ownText, math_score: 0.9 }, { id: "own-b", text: ownText, math_score: 0.1 }];
  const all = [...fresh, ...planted, ...own];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return { ref, refFiles: writeFiles(dir, "ref", ref, 2), all, planted, newFiles: writeFiles(dir, "new", all, 2) };
}

async function rows(dir: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const f of readdirSync(dir).filter((n) => /\.(jsonl|parquet)$/.test(n)).sort()) {
    for await (const b of read(join(dir, f))) out.push(...batchRows(b));
  }
  return out;
}

test("--against an index removes exactly the planted copies of reference documents, naming each one's source", async () => {
  const dir = tmpDir("dedup-against-");
  const c = corpora(dir);
  const idx = join(dir, "index");
  assert.equal(await main(["dedup-index", "--index", idx, ...c.refFiles.flatMap((f) => ["-i", f]), "--quiet"]), 0);
  const ix = JSON.parse(readFileSync(join(idx, "index", "index.json"), "utf8"));
  assert.equal(ix.docs, c.ref.length);
  // The same index built in shards (stage 1 by files, the key files by bands).
  const idx2 = join(dir, "index2");
  for (const s of ["0/2", "1/2"]) assert.equal(await main(["dedup-signatures", ...c.refFiles.flatMap((f) => ["-i", f]), "--work-dir", idx2, "--shard", s, "--quiet"]), 0);
  for (const s of ["1/2", "0/2"]) assert.equal(await main(["dedup-index", "--index", idx2, "--shard", s, "--quiet"]), 0);
  assert.deepEqual(JSON.parse(readFileSync(join(idx2, "index", "index.json"), "utf8")).bands, ix.bands);

  const ins = c.newFiles.flatMap((f) => ["-i", f]);
  const expected = new Map(c.planted.map((d) => [d.id, d.copies!]));
  const refAt = new Map<string, string>();
  for (const [f, path] of c.refFiles.entries()) c.ref.filter((_, i) => i % 2 === f).forEach((d, row) => refAt.set(`${path}#${row}`, d.id));
  for (const mode of ["union", "bucket"]) {
    const out = join(dir, `out-${mode}`);
    assert.equal(await main(["dedup", ...ins, "-o", out, "--against", idx, "--clustering", mode, "--format", "jsonl", "--keep-removed", "--quiet"]), 0);
    const kept = new Set((await rows(out)).map((r) => r.id as string));
    const removed = await rows(join(out, "removed"));
    assert.equal(kept.size + removed.length, c.all.length);
    const fromRef = removed.filter((r) => String(r.dup_of_file).includes("ref-"));
    assert.deepEqual(fromRef.map((r) => r.id).sort(), [...expected.keys()].sort(), `${mode}: removed as reference copies`);
    for (const r of fromRef) {
      const src = refAt.get(`${r.dup_of_file}#${r.dup_of_row}`);
      const want = expected.get(r.id as string)!;
      assert.ok(src === want || (want === "ref3" && src === "ref-twin"), `${r.id} copies ${want}, names ${src}`);
      assert.equal(r.dup_of_id, src, "dup_of_id: the reference document's own id");
    }
    // The corpus's own duplicate pair: one of it removed, naming the other (a corpus document).
    const within = removed.filter((r) => !String(r.dup_of_file).includes("ref-"));
    assert.deepEqual(within.map((r) => [r.id, r.dup_of_id]), [["own-b", "own-a"]]);
    assert.ok(kept.has("own-a"));
    const ov = JSON.parse(readFileSync(join(out, "overlap.json"), "utf8"));
    assert.equal(ov.shared.docs, c.planted.length);
    assert.equal(ov.corpus.docs, c.all.length);
    assert.equal(ov.duplicatesWithin, 1);
    const words = (t: string) => t.split(/[\x00-\x20]+/).filter(Boolean).length;
    assert.equal(ov.shared.words, c.planted.reduce((a, d) => a + words(d.text), 0));
    assert.equal(ov.corpus.words, c.all.reduce((a, d) => a + words(d.text), 0));
    assert.equal(ov.reference.docs, c.ref.length);
    assert.equal(ov.reference.matched, new Set(fromRef.map((r) => `${r.dup_of_file}#${r.dup_of_row}`)).size);
    const done = JSON.parse(readFileSync(dedupPaths.clustersDone(join(out, "dedup-work")), "utf8")) as ClustersDone;
    assert.equal(done.reference?.removed, c.planted.length);
  }
  // The four sharded stages write the same overlap.json (the shard that finishes last; the first says it waits), and
  // stage 3 spilled to disk under a tiny --cluster-memory-mb (reference documents pinned) changes nothing.
  const work4 = join(dir, "work4"), four = join(dir, "four"), one = join(dir, "out-bucket");
  for (const s of ["0/2", "1/2"]) assert.equal(await main(["dedup-signatures", ...ins, "--work-dir", work4, "--against", idx, "--shard", s, "--quiet"]), 0);
  for (const s of ["0/2", "1/2"]) assert.equal(await main(["dedup-buckets", "--work-dir", work4, "--shard", s, "--quiet"]), 0);
  assert.equal(await main(["dedup-clusters", "--work-dir", work4, "--clustering", "bucket", "--cluster-memory-mb", "0.002", "--quiet"]), 0);
  for (const f of readdirSync(join(one, "dedup-work", "clusters")).filter((n) => !n.startsWith(".") && n !== "done.json")) {
    assert.ok(readFileSync(join(work4, "clusters", f)).equals(readFileSync(join(one, "dedup-work", "clusters", f))), `clusters/${f} identical`);
  }
  const filter = (s: string) => main(["dedup-filter", ...ins, "-o", four, "--work-dir", work4, "--shard", s, "--format", "jsonl", "--keep-removed", "--quiet"]);
  assert.equal(await filter("1/2"), 0);
  assert.equal(existsSync(join(four, "overlap.json")), false, "one shard of two: no overlap report yet");
  assert.equal(await filter("0/2"), 0);
  assert.equal(readFileSync(join(four, "overlap.json"), "utf8"), readFileSync(join(one, "overlap.json"), "utf8"));
  // A shard rerun finding every file done writes it again, the same.
  rmSync(join(four, "overlap.json"));
  assert.equal(await filter("1/2"), 0);
  assert.equal(readFileSync(join(four, "overlap.json"), "utf8"), readFileSync(join(one, "overlap.json"), "utf8"));

  // Bad input: an index of other LSH settings is refused; a rebuilt index stops stage 2 of a folder naming the old one.
  assert.notEqual(await main(["dedup", ...ins, "-o", join(dir, "bad"), "--against", idx, "--bands", "9", "--quiet"]), 0);
  const work = join(dir, "out-union", "dedup-work");
  writeFileSync(join(idx, "index", "index.json"), JSON.stringify({ ...ix, digest: "0".repeat(64) }));
  assert.notEqual(await main(["dedup-buckets", "--work-dir", work, "--force", "--quiet"]), 0);
});
