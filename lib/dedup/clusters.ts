// Stage 3 (one task): connected components of all duplicate pairs, and the survivor of each component.
// Survivor = highest keep-column value (missing/NaN lowest), ties to the smallest (file index, row) — stable
// and independent of the order pairs arrive in, unlike datatrove's "whichever root union-find ends with".
// Memory grows with the documents that appear in a pair (~40 bytes each incl. survivor bookkeeping), not with
// the corpus; each file's priorities are loaded one file at a time.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { StageStats } from "../runtime/stats.js";
import type { Logger } from "../runtime/log.js";
import { writeFileAtomic } from "../io/atomic.js";
import { DEDUP_FORMAT_VERSION } from "./params.js";
import { CorruptFileError, readRecordChunks, readRecordFile, readRecordHeader, verifyRecordFile, writeRecordFile } from "./recordfile.js";
import { sortByKey64 } from "./radix.js";
import { DocUnionFind } from "./unionfind.js";
import { type SignatureDone, type WorkManifest, paths, readAllSignatureDone, readJson, readWorkManifest, removeTemps } from "./workdir.js";
import type { StageRunResult } from "./signatures.js";

export interface ClusterStageOptions {
  workDir: string;
  force?: boolean;
  log?: Logger;
  /** Write clusters/clusters.jsonl listing every cluster's members (default true). */
  sidecar?: boolean;
}

export interface ClustersDone {
  inputDigest: string;
  clusters: number;
  clusteredDocs: number;
  duplicates: number;
  files: { file: number; dups: number; removed: number; sha256: string }[];
}

export async function runClusterStage(o: ClusterStageOptions): Promise<StageRunResult> {
  const m = (await readWorkManifest(o.workDir))!;
  const done = await readAllSignatureDone(o.workDir, m);
  const digest = await pairsDigest(o.workDir, m);
  const stats = new StageStats("dedup-clusters");
  if (!o.force && (await clustersValid(o.workDir, digest, o.log))) {
    const d = (await readJson<ClustersDone>(paths.clustersDone(o.workDir)))!;
    countDone(stats, d);
    return { stats, done: [], skipped: [0] };
  }
  const t0 = performance.now();
  await rm(paths.clustersDone(o.workDir), { force: true });
  await removeTemps(`${o.workDir}/clusters`, "");
  const d = await cluster(o, m, done, digest);
  stats.timeMs = performance.now() - t0;
  countDone(stats, d);
  o.log?.info(`clusters: ${d.clusters} clusters over ${d.clusteredDocs} documents; ${d.duplicates} duplicates to remove`);
  return { stats, done: [0], skipped: [] };
}

function countDone(stats: StageStats, d: ClustersDone): void {
  stats.count("clusters", d.clusters);
  stats.count("clustered_docs", d.clusteredDocs);
  stats.count("duplicates", d.duplicates);
}

/** Digest of what stage 2 produced (each band's own input digest), or an error naming unfinished bands. */
export async function pairsDigest(work: string, m: WorkManifest): Promise<string> {
  const h = createHash("sha256");
  const missing: number[] = [];
  for (let b = 0; b < m.params.bands; b++) {
    try {
      const info = await readRecordHeader(paths.pairs(work, b), "pairs");
      h.update(`${b}:${info.header.inputDigest}\n`);
    } catch (e) {
      if (e instanceof CorruptFileError && !/cannot open/.test(e.message)) {
        throw new Error(`${e.message}; rerun stage 2 (dedup-buckets) for band ${b}: it will recompute that file`);
      }
      missing.push(b);
    }
  }
  if (missing.length) {
    throw new Error(`stage 2 (dedup-buckets) has not finished band(s) ${missing.join(", ")} of ${m.params.bands}; ` +
      `run it for every band shard first`);
  }
  return h.digest("hex");
}

async function clustersValid(work: string, digest: string, log?: Logger): Promise<boolean> {
  const d = await readJson<ClustersDone>(paths.clustersDone(work));
  if (!d) return false;
  if (d.inputDigest !== digest) {
    log?.warn(`clusters in ${work} were made from other pairs; recomputing them`);
    return false;
  }
  try {
    for (const f of d.files) await verifyRecordFile(paths.dups(work, f.file), "dups");
    return true;
  } catch (e) {
    log?.warn(`${(e as Error).message}; recomputing clusters`);
    return false;
  }
}

async function cluster(o: ClusterStageOptions, m: WorkManifest, done: SignatureDone[], digest: string): Promise<ClustersDone> {
  const work = o.workDir;
  const uf = new DocUnionFind();
  for (let b = 0; b < m.params.bands; b++) {
    for await (const chunk of readRecordChunks(paths.pairs(work, b), "pairs")) {
      for (let i = 0; i < chunk.length; i += 4) {
        const x = uf.node(chunk[i], chunk[i + 1]);
        const y = uf.node(chunk[i + 2], chunk[i + 3]);
        uf.union(x, y);
      }
    }
  }
  const n = uf.size;
  const order = sortByKey64(uf.file, uf.row, n);
  const prio = await loadPriorities(work, m, done, uf, order);

  // Cluster ids in order of each cluster's smallest member; survivor = first member with the highest priority.
  const clusterOf = new Int32Array(n).fill(-1);
  const best = new Int32Array(n).fill(-1);
  let clusters = 0;
  for (let k = 0; k < n; k++) {
    const node = order[k];
    const r = uf.find(node);
    if (clusterOf[r] < 0) clusterOf[r] = clusters++;
    if (best[r] < 0 || prio[node] > prio[best[r]]) best[r] = node;
  }

  const files: ClustersDone["files"] = [];
  let k = 0;
  for (let f = 0; f < m.inputs.length; f++) {
    const start = k;
    while (k < n && uf.file[order[k]] === f) k++;
    const rec = new Uint32Array((k - start) * 3);
    let removed = 0;
    for (let j = start; j < k; j++) {
      const node = order[j];
      const r = uf.find(node);
      const keep = best[r] === node ? 1 : 0;
      if (!keep) removed++;
      const at = (j - start) * 3;
      rec[at] = uf.row[node];
      rec[at + 1] = clusterOf[r];
      rec[at + 2] = keep;
    }
    const w = await writeRecordFile(paths.dups(work, f), {
      kind: "dups", width: 3, version: DEDUP_FORMAT_VERSION, file: f, docs: done[f].docs, inputDigest: digest,
    }, rec);
    files.push({ file: f, dups: k - start, removed, sha256: w.sha256 });
  }
  if (o.sidecar !== false) await writeSidecar(work, m, uf, order, clusterOf, best, prio, clusters);
  const result: ClustersDone = { inputDigest: digest, clusters, clusteredDocs: n, duplicates: n - clusters, files };
  await writeFileAtomic(paths.clustersDone(work), JSON.stringify(result) + "\n");
  return result;
}

/** Keep-column value of every node (NaN -> -Infinity so it never wins over a real value). */
async function loadPriorities(work: string, m: WorkManifest, done: SignatureDone[], uf: DocUnionFind,
  order: Uint32Array): Promise<Float64Array> {
  const n = uf.size;
  const prio = new Float64Array(n).fill(-Infinity);
  if (!m.params.keepColumn) return prio;
  let k = 0;
  while (k < n) {
    const f = uf.file[order[k]];
    let end = k;
    while (end < n && uf.file[order[end]] === f) end++;
    if (done[f]?.priorities) {
      const { data } = await readRecordFile(paths.priorities(work, f), "priorities");
      const values = new Float64Array(data.buffer, data.byteOffset, data.length / 2);
      for (let j = k; j < end; j++) {
        const v = values[uf.row[order[j]]];
        if (!Number.isNaN(v)) prio[order[j]] = v;
      }
    }
    k = end;
  }
  return prio;
}

async function writeSidecar(work: string, m: WorkManifest, uf: DocUnionFind, order: Uint32Array,
  clusterOf: Int32Array, best: Int32Array, prio: Float64Array, clusters: number): Promise<void> {
  const members: number[][] = Array.from({ length: clusters }, () => []);
  const rootOf: number[] = new Array(clusters);
  for (let k = 0; k < order.length; k++) {
    const node = order[k];
    const r = uf.find(node);
    members[clusterOf[r]].push(node);
    rootOf[clusterOf[r]] = r;
  }
  const lines: string[] = [];
  const doc = (node: number) => ({
    file: m.inputs[uf.file[node]].path, row: uf.row[node],
    ...(m.params.keepColumn ? { [m.params.keepColumn]: Number.isFinite(prio[node]) ? prio[node] : null } : {}),
  });
  for (let c = 0; c < clusters; c++) {
    const keep = best[rootOf[c]];
    lines.push(JSON.stringify({
      cluster: c, size: members[c].length, keep: doc(keep),
      removed: members[c].filter((x) => x !== keep).map(doc),
    }));
  }
  await writeFileAtomic(paths.clustersSidecar(work), lines.length ? lines.join("\n") + "\n" : "");
}
