// Stage 3's bucket-feasible mode: on planted chains A~B~C~... (ends far apart) it keeps strictly more than
// union-find while no two documents of one LSH bucket survive together; every removed document names a kept
// survivor it shares a bucket with; `megamath dedup` and the four sharded stages agree; the bound holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readdirSync, readFileSync } from "node:fs";
import { tmpDir } from "../helpers.js";
import { main } from "../../cli/main.js";
import { buildChainCorpus, type ChainCorpus } from "./planted-corpus.js";
import {
  bucketGreedy, coverBound, dedupPaths, readBuckets, readDedupSummary, readProvenance, readRecordChunks, readRecordFile, NO_BAND,
  type Buckets, type ClustersDone,
} from "../../lib/dedup/index.js";
import { writeRecordFile } from "../../lib/dedup/recordfile.js";
import { DocUnionFind } from "../../lib/dedup/unionfind.js";
import { intersectBuckets } from "../../lib/dedup/multi-seed.js";
import { expandInputs, readDocuments } from "../../lib/io/index.js";
import { batchRows } from "../../lib/arrow/batch.js";

function buckets(list: number[][], bands?: number[]): Buckets {
  const start = [0], members: number[] = [];
  for (const b of list) { members.push(...b); start.push(members.length); }
  return { start: Int32Array.from(start), members: Int32Array.from(members), band: Int32Array.from(bands ?? list.map((_, i) => i)), read: list.length };
}

test("greedy on a chain of pair buckets keeps every other document; the cover bound is tight", () => {
  // A~B~C~D~E as four pair buckets; rank order A..E.
  const bk = buckets([[0, 1], [1, 2], [2, 3], [3, 4]]);
  const g = bucketGreedy(bk, 5, Uint32Array.from([0, 1, 2, 3, 4]));
  assert.deepEqual([...g.keep], [1, 0, 1, 0, 1]);
  assert.deepEqual([...g.survivor], [-1, 0, -1, 2, -1]);
  assert.deepEqual([...g.band], [-1, 0, -1, 2, -1]);
  assert.equal(g.kept, 3);
  assert.equal(g.bound, 3);
  // Rank decides: with C first, B and D go, and A and E stay.
  const g2 = bucketGreedy(bk, 5, Uint32Array.from([2, 0, 1, 3, 4]));
  assert.deepEqual([...g2.keep], [1, 0, 1, 0, 1]);
  assert.equal(g2.survivor[1], 0, "B's first blocking bucket (band 0) is A's");
  // A star: one bucket of 4 and a pendant pair; the bound is 1 (the big bucket) + 1 (pendant bucket's other doc).
  const star = buckets([[0, 1, 2, 3], [3, 4]]);
  const g3 = bucketGreedy(star, 5, Uint32Array.from([4, 0, 1, 2, 3]));
  assert.deepEqual([...g3.keep], [1, 0, 0, 0, 1]);
  assert.equal(coverBound(star, 5), 2);
});

test("readBuckets groups stage 2's star pairs per band and drops identical buckets", async () => {
  const dir = tmpDir("dedup-buckets-");
  const p0 = join(dir, "b0.pairs"), p1 = join(dir, "b1.pairs");
  const hdr = { kind: "pairs", width: 4, version: 1 };
  // band 0: {(0,1),(0,5),(1,2)} and {(0,7),(0,8)}; band 1: the same first bucket again, and {(1,2),(1,3)}.
  await writeRecordFile(p0, hdr, Uint32Array.from([0, 1, 0, 5, 0, 1, 1, 2, 0, 7, 0, 8]));
  await writeRecordFile(p1, hdr, Uint32Array.from([0, 1, 0, 5, 0, 1, 1, 2, 1, 2, 1, 3]));
  const nodes = new DocUnionFind();
  const bk = await readBuckets([p0, p1], nodes);
  assert.equal(bk.read, 4);
  assert.equal(bk.band.length, 3);
  assert.deepEqual([...bk.band], [0, 0, 1]);
  const ids = (k: number) => [...bk.members.subarray(bk.start[k], bk.start[k + 1])].map((n) => `${nodes.file[n]}:${nodes.row[n]}`);
  assert.deepEqual(ids(0), ["0:1", "0:5", "1:2"]);
  assert.deepEqual(ids(1), ["0:7", "0:8"]);
  assert.deepEqual(ids(2), ["1:2", "1:3"]);
});

interface Outcome {
  kept: Set<string>;
  done: ClustersDone;
  /** Every bucket's members as document ids, per band. */
  buckets: string[][];
  bandOf: number[];
  output: string;
}

/** Ids of the documents of `dir`'s output JSONL files, one line each, in file order. */
function outputText(dir: string): string {
  return readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort().map((f) => readFileSync(join(dir, f), "utf8")).join("");
}

async function run(c: ChainCorpus, dir: string, mode: string): Promise<Outcome> {
  const out = join(dir, `out-${mode}`);
  const code = await main(["dedup", ...c.files.flatMap((f) => ["-i", f]), "-o", out, "--clustering", mode,
    "--format", "jsonl", "--keep-removed", "--cluster-column", "dup_cluster", "--quiet"]);
  assert.equal(code, 0);
  const work = join(out, "dedup-work");
  const idOf = (f: number, row: number) => c.docs[f][row].id;
  const bks: string[][] = [];
  const bandOf: number[] = [];
  for (let b = 0; b < 11; b++) {
    let anchor = "";
    for await (const ch of readRecordChunks(dedupPaths.pairs(work, b), "pairs")) {
      for (let i = 0; i < ch.length; i += 4) {
        const a = idOf(ch[i], ch[i + 1]);
        if (a !== anchor) { bks.push([a]); bandOf.push(b); anchor = a; }
        bks[bks.length - 1].push(idOf(ch[i + 2], ch[i + 3]));
      }
    }
  }
  const text = outputText(out);
  const kept = new Set(text.trim().split("\n").map((l) => JSON.parse(l).id as string));
  const done = JSON.parse(readFileSync(dedupPaths.clustersDone(work), "utf8")) as ClustersDone;
  return { kept, done, buckets: bks, bandOf, output: text };
}

test("chain corpus: bucket mode keeps strictly more than union-find, never two members of one bucket", async (t) => {
  const dir = tmpDir("dedup-chain-");
  const c = buildChainCorpus(dir, 11, 30);
  assert.ok(c.ends.every((j) => j < 0.5), "every chain's ends are below Jaccard 0.5");
  const total = c.docs.flat().length;
  const union = await run(c, dir, "union");
  const bucket = await run(c, dir, "bucket");
  t.diagnostic(`docs ${total}; union keeps ${union.kept.size} (largest cluster ${union.done.largestCluster}); ` +
    `bucket keeps ${bucket.kept.size} (largest ${bucket.done.largestCluster}, bound ${bucket.done.upperBound}, ` +
    `ratio ${bucket.done.greedyBoundRatio?.toFixed(4)})`);
  assert.ok(bucket.kept.size > union.kept.size, `bucket ${bucket.kept.size} > union ${union.kept.size}`);
  assert.equal(bucket.done.retained, bucket.kept.size);
  assert.equal(union.done.retained, union.kept.size);
  assert.ok(bucket.done.largestCluster! < union.done.largestCluster!);
  assert.ok(bucket.done.upperBound! >= bucket.kept.size && bucket.done.greedyBoundRatio! <= 1);
  const sum = (await readDedupSummary(join(dir, "out-bucket", "dedup-work")))!;
  assert.equal(sum.retained, bucket.kept.size);
  assert.equal(sum.docs, total);
  assert.equal(Object.values(sum.clusterSizes!).reduce((a, b) => a + b, 0), sum.clusters);
  assert.equal((await readDedupSummary(join(dir, "out-union", "dedup-work")))!.upperBound, null);
  // Feasibility: at most one survivor per bucket; and no planted link (near-duplicate neighbours) survives whole.
  for (const b of bucket.buckets) assert.ok(b.filter((id) => bucket.kept.has(id)).length <= 1, `bucket ${b.join(",")}`);
  for (const l of c.links) assert.ok(!(bucket.kept.has(l.a) && bucket.kept.has(l.b)), `link ${l.a}~${l.b} (J ${l.jaccard.toFixed(2)}) both kept`);
  // Every chain keeps at least one document in both modes (nothing unique is lost).
  for (const ch of c.chains) {
    assert.ok(ch.some((id) => union.kept.has(id)) && ch.some((id) => bucket.kept.has(id)));
  }
  for (const o of [union, bucket]) {
    const removed = await removedRows(join(dir, `out-${o.done.clustering}`));
    // The output folder given as the next step's input holds the kept documents only, not removed/.
    const next = await expandInputs([join(dir, `out-${o.done.clustering}`)]);
    assert.ok(next.length > 0 && next.every((f) => !f.includes("removed")), next.join(","));
    assert.equal(removed.length + o.kept.size, total, "docs in = kept + removed (removed/ holds every removal)");
    const byPath = new Map(c.files.map((f, i) => [f, i]));
    // Union-find removes some chain members for a survivor they share no bucket with (only joined through others).
    if (o.done.clustering === "union") assert.ok(removed.some((r) => r.dup_band === null));
    for (const r of removed) {
      const survivor = c.docs[byPath.get(r.dup_of_file as string)!][r.dup_of_row as number].id;
      assert.ok(o.kept.has(survivor), `${r.id}'s survivor ${survivor} is kept`);
      assert.equal(r.dup_of_id, survivor, "dup_of_id names the survivor by its own id");
      if (o.done.clustering === "bucket") assert.notEqual(r.dup_band, null);
      if (r.dup_band !== null) {
        assert.ok(o.buckets.some((b, k) => o.bandOf[k] === r.dup_band && b.includes(r.id as string) && b.includes(survivor)),
          `${r.id} shares a bucket of band ${r.dup_band} with ${survivor}`);
      }
    }
  }
});

async function removedRows(out: string): Promise<Record<string, unknown>[]> {
  const dir = join(out, "removed");
  const rows: Record<string, unknown>[] = [];
  for (const f of readdirSync(dir).sort()) {
    for await (const b of readDocuments(join(dir, f))) rows.push(...batchRows(b));
  }
  return rows;
}

test("bucket mode: `megamath dedup` and the four sharded stages give the same output, removed/ and cluster sizes", async () => {
  const dir = tmpDir("dedup-bucket-stages-");
  const c = buildChainCorpus(dir, 5, 8, { background: 40 });
  const one = join(dir, "one");
  const common = ["--format", "jsonl", "--keep-removed", "--cluster-size-column", "cluster_size", "--quiet"];
  assert.equal(await main(["dedup", ...c.files.flatMap((f) => ["-i", f]), "-o", one, "--clustering", "bucket", ...common]), 0);
  const work = join(dir, "work"), four = join(dir, "four");
  const ins = c.files.flatMap((f) => ["-i", f]);
  for (const s of ["0/2", "1/2"]) assert.equal(await main(["dedup-signatures", ...ins, "--work-dir", work, "--shard", s, "--quiet"]), 0);
  for (const s of ["0/2", "1/2"]) assert.equal(await main(["dedup-buckets", "--work-dir", work, "--shard", s, "--quiet"]), 0);
  assert.equal(await main(["dedup-clusters", "--work-dir", work, "--clustering", "bucket", "--quiet"]), 0);
  for (const s of ["0/2", "1/2"]) {
    assert.equal(await main(["dedup-filter", ...ins, "-o", four, "--work-dir", work, "--shard", s, ...common]), 0);
  }
  assert.equal(outputText(four), outputText(one));
  assert.deepEqual(await removedRows(four), await removedRows(one));
  // Cluster sizes: a survivor's size is 1 + the removed documents that name it.
  const removed = await removedRows(one);
  const named = new Map<string, number>();
  for (const r of removed) named.set(`${r.dup_of_file}#${r.dup_of_row}`, (named.get(`${r.dup_of_file}#${r.dup_of_row}`) ?? 0) + 1);
  const kept = outputText(one).trim().split("\n").map((l) => JSON.parse(l));
  const rowOf = new Map(c.docs.flatMap((docs, f) => docs.map((d, row) => [d.id, `${c.files[f]}#${row}`] as const)));
  for (const k of kept) assert.equal(k.cluster_size, 1 + (named.get(rowOf.get(k.id)!) ?? 0), k.id);
  assert.ok(kept.some((k) => k.cluster_size > 1));
  // Provenance files agree with the removed/ rows in count.
  let prov = 0;
  for (let f = 0; f < c.files.length; f++) prov += (await readProvenance(join(one, "dedup-work"), f)).length / 4;
  assert.equal(prov, removed.length);
  // Union mode of the same work folder recomputes stage 3 (the mode is part of what the clusters depend on).
  assert.equal(await main(["dedup-clusters", "--work-dir", work, "--clustering", "union", "--quiet"]), 0);
  const d = JSON.parse(readFileSync(dedupPaths.clustersDone(work), "utf8")) as ClustersDone;
  assert.equal(d.clustering, "union");
  const { data } = await readRecordFile(dedupPaths.dups(work, 0), "dups");
  assert.ok(data.length > 0);
  for (let f = 0; f < c.files.length; f++) {
    for (const band of (await readProvenance(work, f)).filter((_, i) => i % 4 === 3)) assert.ok(band === NO_BAND || band < 11);
  }
});

test("--clustering takes union or bucket only", async () => {
  const code = await main(["dedup-clusters", "--work-dir", tmpDir("dedup-badmode-"), "--clustering", "components", "--quiet"]);
  assert.equal(code, 2);
});

test("multi-seed: the intersection keeps exactly the pairs that share a bucket under both seeds", () => {
  // Seed 1: {0,1,2,3} and {4,5}; seed 2: {0,1,2}, {3,4,5}, {2,3}.
  const a = buckets([[0, 1, 2, 3], [4, 5]]);
  const b = buckets([[0, 1, 2], [3, 4, 5], [2, 3]]);
  const x = intersectBuckets(a, b, 6);
  const sets = Array.from({ length: x.band.length }, (_, k) => [...x.members.subarray(x.start[k], x.start[k + 1])].join(","));
  assert.deepEqual(sets.sort(), ["0,1,2", "2,3", "4,5"]);
  // The pair 1~3 collides under seed 1 only: the greedy may now keep both.
  const g = bucketGreedy(x, 6, Uint32Array.from([1, 3, 0, 2, 4, 5]));
  assert.equal(g.keep[1] + g.keep[3], 2);
  assert.ok(g.kept <= g.bound);
});

test("multi-seed: `megamath dedup --seeds 2` = stages 1-2 with seeds 0 and 1, then dedup-clusters --intersect", async () => {
  const dir = tmpDir("dedup-seeds-");
  const c = buildChainCorpus(dir, 3, 8, { background: 30 });
  const ins = c.files.flatMap((f) => ["-i", f]);
  const common = ["--format", "jsonl", "--keep-removed", "--quiet"];
  const one = join(dir, "one");
  assert.equal(await main(["dedup", ...ins, "-o", one, "--clustering", "bucket", "--seeds", "2", ...common]), 0);
  const w0 = join(dir, "w0"), w1 = join(dir, "w1"), four = join(dir, "four");
  for (const [w, seed] of [[w0, "0"], [w1, "1"]]) {
    assert.equal(await main(["dedup-signatures", ...ins, "--work-dir", w, "--seed", seed, "--quiet"]), 0);
    assert.equal(await main(["dedup-buckets", "--work-dir", w, "--quiet"]), 0);
  }
  assert.equal(await main(["dedup-clusters", "--work-dir", w0, "--clustering", "bucket", "--intersect", w1, "--quiet"]), 0);
  assert.equal(await main(["dedup-filter", ...ins, "-o", four, "--work-dir", w0, ...common]), 0);
  assert.equal(outputText(four), outputText(one));
  assert.deepEqual(await removedRows(four), await removedRows(one));
  // Fewer conflicts than one seed: never fewer documents kept.
  const single = join(dir, "single");
  assert.equal(await main(["dedup", ...ins, "-o", single, "--clustering", "bucket", ...common]), 0);
  const kept = (d: string) => outputText(d).trim().split("\n").length;
  assert.ok(kept(one) >= kept(single), `${kept(one)} >= ${kept(single)}`);
  const d = JSON.parse(readFileSync(dedupPaths.clustersDone(join(one, "dedup-work")), "utf8")) as ClustersDone;
  assert.equal(d.intersect?.length, 1);
  // Union mode cannot intersect; equal seeds are refused.
  assert.equal(await main(["dedup", ...ins, "-o", join(dir, "bad"), "--seeds", "2", "--quiet"]), 2);
  await assert.rejects(() => main(["dedup-clusters", "--work-dir", w0, "--clustering", "bucket", "--intersect", w0, "--quiet"])
    .then((code) => { if (code !== 0) throw new Error(`exit ${code}`); }));
});
