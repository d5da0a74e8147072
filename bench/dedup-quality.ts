// What stage 3 decides, union-find vs bucket-feasible, on the two planted corpora of test/dedup/planted-corpus.ts:
//   planted: pairs at 5-gram Jaccard 1 / 0.95 / 0.85 / 0.7 / 0.5 / 0.3 + unrelated documents (4 JSONL files)
//   chain:   chains A~B~C~... (links ≈ 0.93, ends < 0.5 apart) + unrelated documents (3 JSONL files)
// Per mode: documents retained, largest cluster, greedy/bound ratio, false removals (a removed document whose
// named survivor is below Jaccard 0.5 to it; and planted pairs below 0.5 that lost a member), share of planted
// pairs caught (not both kept) per Jaccard level against 1 - (1 - s^10)^11, planted links kept together, and
// stage 3's CPU time (median of --runs, modes alternated, after stages 1-2 ran once). Multi-seed: stages 1-2 with
// seeds 0, 1, 2 and the buckets intersected (lib/dedup/multi-seed.ts): share of planted pairs colliding under
// all T seeds against (1 - (1 - s^10)^11)^T.
//   node --import tsx bench/dedup-quality.ts [--runs 5] [--chains 30]
import { parseArgs } from "node:util";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildChainCorpus, buildPlantedCorpus, jaccard, shingles, type PlantedDoc } from "../test/dedup/planted-corpus.js";
import {
  type ClusteringMode, type ClustersDone, dedupPaths, defaultDedupParams, lshProbability, readProvenance, readRecordFile,
  runBucketStage, runClusterStage, runSignatureStage, documentReader,
  bucketGreedy, readBuckets,
} from "../lib/dedup/index.js";
import { intersectBuckets } from "../lib/dedup/multi-seed.js";
import { DocUnionFind } from "../lib/dedup/unionfind.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Decision {
  done: ClustersDone;
  kept: Set<string>;
  /** removed id -> survivor id */
  survivorOf: Map<string, string>;
}

async function decide(work: string, docs: PlantedDoc[][], mode: ClusteringMode): Promise<{ d: Decision; cpuMs: number }> {
  const c0 = process.cpuUsage();
  await runClusterStage({ workDir: work, force: true, clustering: mode, sidecar: false });
  const c = process.cpuUsage(c0);
  const done = (await import("node:fs")).readFileSync(dedupPaths.clustersDone(work), "utf8");
  const kept = new Set(docs.flat().map((x) => x.id));
  const survivorOf = new Map<string, string>();
  for (let f = 0; f < docs.length; f++) {
    const p = await readProvenance(work, f);
    for (let i = 0; i < p.length; i += 4) {
      kept.delete(docs[f][p[i]].id);
      survivorOf.set(docs[f][p[i]].id, docs[p[i + 1]][p[i + 2]].id);
    }
    await readRecordFile(dedupPaths.dups(work, f), "dups"); // checksum-verified like stage 4 would
  }
  return { d: { done: JSON.parse(done), kept, survivorOf }, cpuMs: (c.user + c.system) / 1000 };
}

async function prepare(files: string[], work: string, seed = 0): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  await runSignatureStage({ inputs: files, workDir: work, params: { ...defaultDedupParams, seed }, read: documentReader({}, "fail"), force: true });
  await runBucketStage({ workDir: work, force: true });
}

function falseRemovals(d: Decision, byId: Map<string, PlantedDoc>): number {
  let n = 0;
  for (const [r, s] of d.survivorOf) if (jaccard(shingles(byId.get(r)!.words), shingles(byId.get(s)!.words)) < 0.5) n++;
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, chains: { type: "string", default: "30" } } });
  const runs = Number(values.runs);
  const base = "/tmp/dedup-quality";
  rmSync(base, { recursive: true, force: true });
  const modes: ClusteringMode[] = ["union", "bucket"];
  const out: string[] = [];

  // Planted pairs.
  mkdirSync(join(base, "planted"), { recursive: true });
  const pc = buildPlantedCorpus(join(base, "planted"), 7);
  const pwork = join(base, "planted-work");
  await prepare(pc.files, pwork);
  const pById = new Map(pc.docs.flat().map((x) => [x.id, x]));
  const total = pc.docs.flat().length;
  const cpu: Record<string, number[]> = { union: [], bucket: [] };
  const res: Record<string, Decision> = {};
  for (let r = 0; r < runs; r++) {
    for (const m of r % 2 ? [...modes].reverse() : modes) {
      const { d, cpuMs } = await decide(pwork, pc.docs, m);
      cpu[m].push(cpuMs);
      res[m] = d;
    }
  }
  out.push(`planted corpus: ${total} docs, ${pc.pairs.length} planted pairs; 11 bands x 10 rows; stage 3 CPU median of ${runs} (alternated)`);
  for (const m of modes) {
    const d = res[m];
    const lostBelow = pc.pairs.filter((p) => p.jaccard < 0.5 && !(d.kept.has(p.a) && d.kept.has(p.b))).length;
    out.push(`  ${m.padEnd(6)} retained ${d.done.retained}  largest cluster ${d.done.largestCluster}  ` +
      `false removals (survivor J<0.5) ${falseRemovals(d, pById)}  planted pairs J<0.5 that lost a member ${lostBelow}` +
      (d.done.upperBound !== undefined ? `  bound ${d.done.upperBound} (ratio ${d.done.greedyBoundRatio!.toFixed(4)})` : "") +
      `  stage 3 ${median(cpu[m]).toFixed(0)} CPU-ms = ${(median(cpu[m]) * 1000 / total).toFixed(1)} CPU-us/doc, ` +
      `${(median(cpu[m]) * 1000 / Math.max(1, d.done.clusteredDocs)).toFixed(1)} per clustered doc`);
    const levels = [...new Set(pc.pairs.map((p) => p.level))];
    const bands = levels.map((lv) => {
      const ps = pc.pairs.filter((p) => p.level === lv);
      const caught = ps.filter((p) => !(d.kept.has(p.a) && d.kept.has(p.b))).length;
      const theory = ps.reduce((s, p) => s + lshProbability(p.jaccard, 11, 10), 0) / ps.length;
      return `s=${lv}: ${(caught / ps.length).toFixed(3)} (theory ${theory.toFixed(3)})`;
    });
    out.push(`         caught per level: ${bands.join("; ")}`);
  }

  // Multi-seed: T = 1..3 hash families, pairs caught = pairs sharing a bucket under every seed.
  const works = [pwork];
  for (let t = 1; t < 3; t++) {
    works.push(join(base, `planted-work-seed${t}`));
    await prepare(pc.files, works[t], t);
  }
  const nodes = new DocUnionFind();
  const hyper = [];
  for (const w of works) hyper.push(await readBuckets(Array.from({ length: 11 }, (_, b) => dedupPaths.pairs(w, b)), nodes));
  const where = new Map<string, number>();
  pc.docs.forEach((docs, f) => docs.forEach((x, row) => where.set(x.id, nodes.node(f, row))));
  let inter = hyper[0];
  for (let t = 1; t <= 3; t++) {
    if (t > 1) inter = intersectBuckets(inter, hyper[t - 1], nodes.size);
    const share = new Set<string>();
    for (let k = 0; k < inter.band.length; k++) {
      const m = [...inter.members.subarray(inter.start[k], inter.start[k + 1])];
      for (let i = 0; i < m.length; i++) for (let j = i + 1; j < m.length; j++) share.add(`${Math.min(m[i], m[j])},${Math.max(m[i], m[j])}`);
    }
    const levels = [...new Set(pc.pairs.map((p) => p.level))];
    const row = levels.map((lv) => {
      const ps = pc.pairs.filter((p) => p.level === lv);
      const hit = ps.filter((p) => {
        const x = where.get(p.a)!, y = where.get(p.b)!;
        return share.has(`${Math.min(x, y)},${Math.max(x, y)}`);
      }).length;
      const theory = ps.reduce((a, p) => a + lshProbability(p.jaccard, 11, 10) ** t, 0) / ps.length;
      return `s=${lv}: ${(hit / ps.length).toFixed(3)} (theory ${theory.toFixed(3)})`;
    });
    const g = bucketGreedy(inter, nodes.size, Uint32Array.from({ length: nodes.size }, (_, i) => i));
    out.push(`  seeds ${t}: ${inter.band.length} buckets, ${share.size} colliding pairs, bucket greedy removes ` +
      `${nodes.size - g.kept}; colliding share per level: ${row.join("; ")}`);
  }

  // Chains.
  mkdirSync(join(base, "chain"), { recursive: true });
  const cc = buildChainCorpus(join(base, "chain"), 11, Number(values.chains));
  const cwork = join(base, "chain-work");
  await prepare(cc.files, cwork);
  const cById = new Map(cc.docs.flat().map((x) => [x.id, x]));
  const ctotal = cc.docs.flat().length;
  const ccpu: Record<string, number[]> = { union: [], bucket: [] };
  for (let r = 0; r < runs; r++) {
    for (const m of r % 2 ? [...modes].reverse() : modes) {
      const { d, cpuMs } = await decide(cwork, cc.docs, m);
      ccpu[m].push(cpuMs);
      res[m] = d;
    }
  }
  const lens = cc.chains.map((c) => c.length);
  out.push(`chain corpus: ${ctotal} docs, ${cc.chains.length} chains of ${Math.min(...lens)}-${Math.max(...lens)} docs ` +
    `(${lens.reduce((a, b) => a + b, 0)} in chains), links J ${Math.min(...cc.links.map((l) => l.jaccard)).toFixed(2)}-` +
    `${Math.max(...cc.links.map((l) => l.jaccard)).toFixed(2)}, ends J <= ${Math.max(...cc.ends).toFixed(3)}`);
  for (const m of modes) {
    const d = res[m];
    const together = cc.links.filter((l) => d.kept.has(l.a) && d.kept.has(l.b)).length;
    out.push(`  ${m.padEnd(6)} retained ${d.done.retained}  largest cluster ${d.done.largestCluster}  ` +
      `false removals (survivor J<0.5) ${falseRemovals(d, cById)}  planted links kept together ${together}` +
      (d.done.upperBound !== undefined ? `  bound ${d.done.upperBound} (ratio ${d.done.greedyBoundRatio!.toFixed(4)})` : "") +
      `  stage 3 ${median(ccpu[m]).toFixed(0)} CPU-ms`);
  }
  process.stdout.write(out.join("\n") + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + "\n");
  process.exit(1);
});
