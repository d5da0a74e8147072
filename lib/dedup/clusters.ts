// Stage 3 (one task): connected components of all duplicate pairs, and the survivor of each component.
// Survivor = highest keep-column value (missing/NaN lowest), ties to the smallest (file index, row) — stable
// and independent of the order pairs arrive in, unlike datatrove's "whichever root union-find ends with".
// Memory grows with the documents that appear in a pair (~40 bytes each incl. survivor bookkeeping), not with
// the corpus; each file's priorities are loaded one file at a time.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { runTaskLoop } from "../runtime/task-loop.js";
import { StageStats } from "../runtime/stats.js";
import type { Logger } from "../runtime/log.js";
import { writeFileAtomic } from "../io/atomic.js";
import { DEDUP_FORMAT_VERSION } from "./params.js";
import { CorruptFileError, readRecordChunks, readRecordFile, readRecordHeader, writeRecordFile } from "./recordfile.js";
import { sortByKey64 } from "./radix.js";
import { DocUnionFind } from "./unionfind.js";
import { type Buckets, bucketGreedy, readBuckets } from "./bucket-greedy.js";
import { type ComponentScan, bucketBytesBound, scanComponents, spilledGreedy } from "./bucket-spill.js";
import { checkSeedFolders, combineDigests, intersectSeedFolders } from "./multi-seed.js";
import { readIdsAt, writeSurvivorIds } from "./ids.js";
import { NO_BAND, sizeHistogram, writeClusterSizes, writeProvenance } from "./provenance.js";
import { type SignatureDone, type StageRunResult, type WorkManifest, checkAgainst, docFilePath, paths, readAllSignatureDone, readWorkManifest, removeTemps } from "./workdir.js";

export interface ClusterStageOptions {
  workDir: string;
  force?: boolean;
  log?: Logger;
  /** Write clusters/clusters.jsonl listing every cluster's members (default true). */
  sidecar?: boolean;
  /** "union": one survivor per connected component of the pairs (datatrove, NeMo); "bucket": at most one
   * survivor per LSH bucket, chosen greedily in rank order (bucket-greedy.ts). Default "union". */
  clustering?: ClusteringMode;
  /** Multi-seed (bucket mode): work folders of the same inputs made with other seeds; documents conflict only
   * when they share a bucket under every seed (multi-seed.ts). */
  intersect?: string[];
  /** Bucket mode: bytes the bucket memberships may take in memory; past it they are spilled to disk and solved one
   * part (whole connected components) at a time, with byte-identical results (bucket-spill.ts). Default 2 GiB. */
  memoryBytes?: number;
}

export const DEFAULT_CLUSTER_MEMORY_BYTES = 2 * 2 ** 30;

export type ClusteringMode = "union" | "bucket";

export interface ClustersDone {
  inputDigest: string;
  clusters: number;
  clusteredDocs: number;
  duplicates: number;
  files: { file: number; dups: number; removed: number; sha256: string; provSha256?: string; idsSha256?: string }[];
  /** Fields below: absent in markers written before the bucket mode (then: union, recomputed). */
  clustering?: ClusteringMode;
  /** Other seeds' work folders whose buckets were intersected with this folder's. */
  intersect?: string[];
  /** Documents stage 1 read, and how many of them survive (unclustered + survivors). */
  docs?: number;
  retained?: number;
  largestCluster?: number;
  /** Clusters by size (survivor + the documents it stands for) in power-of-two bins. */
  clusterSizes?: Record<string, number>;
  /** Bucket mode: buckets read and left after dropping identical ones. */
  buckets?: { read: number; unique: number };
  /** Bucket mode: an upper bound on the documents any bucket-feasible selection keeps, and retained / it. */
  upperBound?: number;
  greedyBoundRatio?: number;
  /** Against a reference index: documents removed as duplicates of a reference document, and how many distinct
   * reference documents they name. */
  reference?: { index: string; removed: number; matched: number };
}

export async function runClusterStage(o: ClusterStageOptions): Promise<StageRunResult> {
  const m = (await readWorkManifest(o.workDir))!;
  const done = await readAllSignatureDone(o.workDir, m);
  await checkAgainst(o.workDir, m.against);
  const digest = await clusterInputDigest(o.workDir, m, o.intersect ?? []);
  if (o.intersect?.length && (o.clustering ?? "union") !== "bucket") {
    throw new Error("intersecting seeds needs --clustering bucket");
  }
  const stats = new StageStats("dedup-clusters");
  const mode = o.clustering ?? "union";
  // One task on the shared task loop (lib/runtime/task-loop.ts): its marker (clusters/.done/clusters.json) holds
  // the fingerprint of the pairs clustered (their digest), the mode and the sidecar setting, and the stamps of every
  // file written; done.json stays the stage's result (what stage 4 and the report read).
  const fingerprint = createHash("sha256")
    .update(`dedup-clusters:${DEDUP_FORMAT_VERSION}:${digest}:${mode}:${o.sidecar !== false}`).digest("hex");
  const r = await runTaskLoop({
    step: "dedup-clusters", outDir: join(o.workDir, "clusters"), tasks: [{ key: "clusters", fingerprint }], force: o.force,
    log: o.log, tempSuffixes: [".jsonl"],
    onSkip: (_, marker) => { for (const st of marker.stats.stages) stats.merge(st); },
    run: async () => {
      const t0 = performance.now();
      await rm(paths.clustersDone(o.workDir), { force: true });
      await removeTemps(`${o.workDir}/clusters`, "");
      await rm(join(o.workDir, "clusters", "spill"), { recursive: true, force: true }); // a killed bucket run's parts
      const d = await cluster(o, m, done, digest);
      stats.timeMs = performance.now() - t0;
      countDone(stats, d);
      o.log?.info(`clusters: ${d.clusters} clusters over ${d.clusteredDocs} documents; ${d.duplicates} duplicates to remove`);
      const pad = (f: number) => `f${String(f).padStart(6, "0")}`;
      const outputs = [...d.files.flatMap((f) => [`${pad(f.file)}.dups`, `${pad(f.file)}.prov`, `${pad(f.file)}.survivor-ids`]),
        "sizes.bin", "done.json", ...(o.sidecar !== false ? ["clusters.jsonl"] : [])];
      return { outputs, stats: { files: 0, stages: [stats.toJSON()] } };
    },
  });
  return { stats, done: r.done.length ? [0] : [], skipped: r.skipped.length ? [0] : [] };
}

function countDone(stats: StageStats, d: ClustersDone): void {
  stats.count("clusters", d.clusters);
  stats.count("clustered_docs", d.clusteredDocs);
  stats.count("duplicates", d.duplicates);
  // What the report can show per mode: kept documents, largest cluster, and (bucket mode) the bound on kept.
  if (d.retained !== undefined) stats.count("retained", d.retained);
  if (d.largestCluster !== undefined) stats.count("largest_cluster", d.largestCluster);
  if (d.upperBound !== undefined) stats.count("upper_bound", d.upperBound);
}

/** Digest of every pairs file stage 3 reads: this folder's, and those of the other seeds' folders. */
export async function clusterInputDigest(work: string, m: WorkManifest, intersect: string[]): Promise<string> {
  const others = await checkSeedFolders(work, m, intersect);
  const ds: string[] = [];
  for (let i = 0; i < intersect.length; i++) ds.push(await pairsDigest(intersect[i], others[i]));
  return combineDigests(await pairsDigest(work, m), ds);
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

async function cluster(o: ClusterStageOptions, m: WorkManifest, done: SignatureDone[], digest: string): Promise<ClustersDone> {
  const work = o.workDir;
  const mode = o.clustering ?? "union";
  const pairFiles = Array.from({ length: m.params.bands }, (_, b) => paths.pairs(work, b));
  const uf = new DocUnionFind();
  let buckets: Buckets | null = null;
  let scan: ComponentScan | null = null;
  const limitBytes = o.memoryBytes ?? DEFAULT_CLUSTER_MEMORY_BYTES;
  if (mode === "bucket" && !o.intersect?.length && (await bucketBytesBound(pairFiles)) > limitBytes) {
    // (Multi-seed intersection holds every seed's buckets in memory: it is not split.)
    scan = await scanComponents(pairFiles, uf);
  } else if (mode === "union") {
    for (const path of pairFiles) {
      for await (const chunk of readRecordChunks(path, "pairs")) {
        for (let i = 0; i < chunk.length; i += 4) {
          const x = uf.node(chunk[i], chunk[i + 1]);
          const y = uf.node(chunk[i + 2], chunk[i + 3]);
          uf.union(x, y);
        }
      }
    }
  } else {
    buckets = await readBuckets(pairFiles, uf);
    if (o.intersect?.length) buckets = await intersectSeedFolders(buckets, o.intersect, m.params.bands, uf);
  }
  const n = uf.size;
  const order = sortByKey64(uf.file, uf.row, n);
  const prio = await loadPriorities(work, m, done, uf, order);
  // Reference documents (file ids after the inputs, against.ts): pinned survivors, ranked before everything.
  const nIn = m.inputs.length;
  let pinned: Uint8Array | undefined;
  if (m.against) {
    pinned = new Uint8Array(n);
    for (let v = 0; v < n; v++) if (uf.file[v] >= nIn) { pinned[v] = 1; prio[v] = Infinity; }
  }

  // Per node: its survivor (itself when kept) and the band of a bucket it shares with the survivor.
  let survivorOf: Int32Array;
  let bandOf: Int32Array;
  let bound: number | null = null;
  let bucketCounts: { read: number; unique: number } | null = null;
  if (mode === "union") {
    // Survivor = first member (in (file, row) order) with the highest priority of each component.
    const best = new Int32Array(n).fill(-1);
    for (let k = 0; k < n; k++) {
      const node = order[k];
      const r = uf.find(node);
      if (best[r] < 0 || prio[node] > prio[best[r]]) best[r] = node;
    }
    survivorOf = new Int32Array(n);
    for (let v = 0; v < n; v++) survivorOf[v] = pinned?.[v] ? v : best[uf.find(v)];
    bandOf = await directBands(pairFiles, uf, survivorOf);
  } else {
    let g;
    if (scan) {
      g = await spilledGreedy({ pairFiles, uf, scan, rank: rankOrder(order, prio), pinned, limitBytes,
        spillDir: join(work, "clusters", "spill"), log: o.log });
      bucketCounts = { read: g.read, unique: g.unique };
    } else {
      g = bucketGreedy(buckets!, n, rankOrder(order, prio), pinned);
      bucketCounts = { read: buckets!.read, unique: buckets!.band.length };
    }
    survivorOf = g.survivor;
    for (let v = 0; v < n; v++) if (g.keep[v]) survivorOf[v] = v;
    bandOf = g.band;
    bound = g.bound < 0 ? null : g.bound;
  }

  // Cluster ids in order of each cluster's smallest member (its survivor and the documents it stands for).
  const idOf = new Int32Array(n).fill(-1); // indexed by survivor node
  const sizes: number[] = [];
  for (let k = 0; k < n; k++) {
    const s = survivorOf[order[k]];
    if (idOf[s] < 0) { idOf[s] = sizes.length; sizes.push(0); }
    sizes[idOf[s]]++;
  }
  const clusters = sizes.length;

  const survivorId = await survivorIds(work, m, uf, order, survivorOf);
  const files: ClustersDone["files"] = [];
  let k = 0;
  for (let f = 0; f < m.inputs.length; f++) {
    const start = k;
    while (k < n && uf.file[order[k]] === f) k++;
    const rec = new Uint32Array((k - start) * 3);
    const prov: number[] = [];
    const provIds: string[] = [];
    let removed = 0;
    for (let j = start; j < k; j++) {
      const node = order[j];
      const s = survivorOf[node];
      // 1 kept, 0 removed as a duplicate within the corpus, 2 removed as a duplicate of a reference document.
      const keep = s === node ? 1 : pinned?.[s] ? 2 : 0;
      const at = (j - start) * 3;
      rec[at] = uf.row[node];
      rec[at + 1] = idOf[s];
      rec[at + 2] = keep;
      if (keep !== 1) {
        removed++;
        prov.push(uf.row[node], uf.file[s], uf.row[s], bandOf[node] < 0 ? NO_BAND : bandOf[node]);
        provIds.push(survivorId.get(s)!);
      }
    }
    const w = await writeRecordFile(paths.dups(work, f), {
      kind: "dups", width: 3, version: DEDUP_FORMAT_VERSION, file: f, docs: done[f].docs, inputDigest: digest,
    }, rec);
    const p = await writeProvenance(work, f, digest, Uint32Array.from(prov));
    const ids = await writeSurvivorIds(paths.survivorIds(work, f), f, digest, provIds);
    files.push({ file: f, dups: k - start, removed, sha256: w.sha256, provSha256: p.sha256, idsSha256: ids.sha256 });
  }
  const sizeArr = Uint32Array.from(sizes);
  await writeClusterSizes(work, digest, sizeArr);
  if (o.sidecar !== false) await writeSidecar(work, m, uf, order, survivorOf, idOf, prio, clusters);
  const totalDocs = done.reduce((a, d) => a + d.docs, 0);
  let largest = 0;
  for (const s of sizes) if (s > largest) largest = s;
  const retained = totalDocs - (n - clusters);
  let reference: ClustersDone["reference"];
  if (pinned) {
    const named = new Set<number>();
    for (let v = 0; v < n; v++) if (!pinned[v] && pinned[survivorOf[v]]) named.add(survivorOf[v]);
    let removedRef = 0;
    for (let v = 0; v < n; v++) if (!pinned[v] && pinned[survivorOf[v]]) removedRef++;
    reference = { index: m.against!.index, removed: removedRef, matched: named.size };
  }
  const result: ClustersDone = {
    inputDigest: digest, clusters, clusteredDocs: n, duplicates: n - clusters, files,
    clustering: mode, ...(o.intersect?.length ? { intersect: o.intersect } : {}), docs: totalDocs, retained, largestCluster: largest, clusterSizes: sizeHistogram(sizeArr),
    ...(bucketCounts ? { buckets: bucketCounts } : {}),
    ...(bound !== null ? {
      upperBound: totalDocs - n + bound,
      greedyBoundRatio: totalDocs - n + bound > 0 ? retained / (totalDocs - n + bound) : 1,
    } : {}),
    ...(reference ? { reference } : {}),
  };
  await writeFileAtomic(paths.clustersDone(work), JSON.stringify(result) + "\n");
  return result;
}

/** The id of every survivor that some removed node names, read from stage 1's ids files (the reference index's
 * for reference documents), one file at a time in (file, row) order. */
async function survivorIds(work: string, m: WorkManifest, uf: DocUnionFind, order: Uint32Array, survivorOf: Int32Array):
Promise<Map<number, string>> {
  const n = uf.size;
  const named = new Uint8Array(n);
  for (let v = 0; v < n; v++) if (survivorOf[v] !== v) named[survivorOf[v]] = 1;
  const out = new Map<number, string>();
  const nIn = m.inputs.length;
  let k = 0;
  while (k < n) {
    const f = uf.file[order[k]];
    const nodes: number[] = [];
    for (; k < n && uf.file[order[k]] === f; k++) if (named[order[k]]) nodes.push(order[k]);
    if (!nodes.length) continue;
    const path = f < nIn ? paths.ids(work, f) : paths.ids(m.against!.index, f - nIn);
    const ids = await readIdsAt(path, nodes.map((v) => uf.row[v]));
    for (const v of nodes) out.set(v, ids.get(uf.row[v])!);
  }
  return out;
}

/** Nodes in rank order: priority descending, ties in (file, row) order (`order`). */
function rankOrder(order: Uint32Array, prio: Float64Array): Uint32Array {
  const pos = new Uint32Array(order.length);
  for (let k = 0; k < order.length; k++) pos[order[k]] = k;
  const rank = Array.from(order);
  rank.sort((a, b) => (prio[a] !== prio[b] ? (prio[a] > prio[b] ? -1 : 1) : pos[a] - pos[b]));
  return Uint32Array.from(rank);
}

/** Union mode: the first band whose bucket holds both a removed node and its survivor (-1 when none does: the
 * two are only joined through other documents). One more pass over the pairs. */
async function directBands(pairFiles: string[], uf: DocUnionFind, survivorOf: Int32Array): Promise<Int32Array> {
  const band = new Int32Array(uf.size).fill(-1);
  const bucket: number[] = [];
  const flush = (b: number) => {
    if (!bucket.length) return;
    const s = survivorOf[bucket[0]];
    if (bucket.includes(s)) for (const v of bucket) if (v !== s && band[v] < 0) band[v] = b;
    bucket.length = 0;
  };
  for (let b = 0; b < pairFiles.length; b++) {
    let aFile = -1, aRow = -1;
    for await (const chunk of readRecordChunks(pairFiles[b], "pairs")) {
      for (let i = 0; i < chunk.length; i += 4) {
        if (chunk[i] !== aFile || chunk[i + 1] !== aRow) {
          flush(b);
          aFile = chunk[i]; aRow = chunk[i + 1];
          bucket.push(uf.node(aFile, aRow));
        }
        bucket.push(uf.node(chunk[i + 2], chunk[i + 3]));
      }
    }
    flush(b);
  }
  return band;
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
  survivorOf: Int32Array, idOf: Int32Array, prio: Float64Array, clusters: number): Promise<void> {
  const members: number[][] = Array.from({ length: clusters }, () => []);
  const keepOf: number[] = new Array(clusters);
  for (let k = 0; k < order.length; k++) {
    const node = order[k];
    const s = survivorOf[node];
    members[idOf[s]].push(node);
    keepOf[idOf[s]] = s;
  }
  const lines: string[] = [];
  const doc = (node: number) => ({
    file: docFilePath(m, uf.file[node]), row: uf.row[node],
    ...(m.params.keepColumn ? { [m.params.keepColumn]: Number.isFinite(prio[node]) ? prio[node] : null } : {}),
  });
  for (let c = 0; c < clusters; c++) {
    const keep = keepOf[c];
    lines.push(JSON.stringify({
      cluster: c, size: members[c].length, keep: doc(keep),
      removed: members[c].filter((x) => x !== keep).map(doc),
    }));
  }
  await writeFileAtomic(paths.clustersSidecar(work), lines.length ? lines.join("\n") + "\n" : "");
}
