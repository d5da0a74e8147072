// Stage 3, bucket mode, with the bucket memberships bounded: past a memory limit they are split into parts, each
// a set of whole connected components of the bucket hypergraph, spilled to disk, and the greedy and its bound run
// on one part at a time.
//
// Why parts of whole components give byte-identical results: a document's decision (kept, or the survivor and band
// that block it) depends only on the buckets it is in and on the documents before it in rank order that share them,
// which all lie in its component; identical buckets always lie in one component; the cover bound's cliques are
// inside components and its scan visits each component's documents in the same relative order. So each part runs
// the in-memory code (bucket-greedy.ts) unchanged on its documents, renumbered in their global order (which keeps
// node order, rank order and bucket order), and the results are mapped back.
//
// Memory: what union mode holds (the union-find, ~24 bytes per clustered document) plus ~25 bytes per document of
// part bookkeeping and results, 4 MiB of spill buffers, and one part's buckets at a time (~8 bytes per membership, ~28 per bucket, ~20 per document of
// the part), which the limit bounds. One connected component larger than the limit is one part: it is held whole
// (said in the log). Disk: 16 bytes per membership, under WORK/clusters/spill/, removed when done.
// CPU: two more passes over stage 2's pairs than the in-memory path (the components, then the split).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../runtime/log.js";
import { DEDUP_FORMAT_VERSION } from "./params.js";
import { RecordFileWriter, readRecordChunks, readRecordHeader } from "./recordfile.js";
import { BucketBuilder, IntList, bucketGreedy, type GreedyResult } from "./bucket-greedy.js";
import type { DocUnionFind } from "./unionfind.js";

/** Estimated bytes per bucket membership, per bucket and per document of the in-memory structures
 * (membership list + per-document index; start, band, hash, table slots, held, mark; per-document arrays). */
const PER_MEMBERSHIP = 8, PER_BUCKET = 28, PER_DOC = 20;
/** Spill files written in one pass over the pairs (each with a 256 KiB buffer). */
const WRITERS_PER_PASS = 16;

/** At most the bytes the in-memory path needs for stage 2's pairs files (from their record counts): each pair record
 * adds one membership, at most one bucket and at most two documents. */
export async function bucketBytesBound(pairFiles: string[]): Promise<number> {
  let records = 0;
  for (const p of pairFiles) records += (await readRecordHeader(p, "pairs")).records;
  return records * (2 * PER_MEMBERSHIP + PER_BUCKET + 2 * PER_DOC);
}

/** Per document: its bucket memberships and the buckets it opens (their first member). */
export interface ComponentScan {
  memberships: IntList;
  opens: IntList;
}

/** One pass over the pairs: creates the nodes in the order readBuckets does (so node ids are the same), joins each
 * bucket's members into one component, and counts memberships and buckets per node. */
export async function scanComponents(pairFiles: string[], uf: DocUnionFind): Promise<ComponentScan> {
  const memberships = new IntList(), opens = new IntList();
  for (let b = 0; b < pairFiles.length; b++) {
    let aFile = -1, aRow = -1, a = -1;
    for await (const chunk of readRecordChunks(pairFiles[b], "pairs")) {
      for (let i = 0; i < chunk.length; i += 4) {
        const open = chunk[i] !== aFile || chunk[i + 1] !== aRow;
        if (open) {
          aFile = chunk[i]; aRow = chunk[i + 1];
          a = uf.node(aFile, aRow);
        }
        const x = uf.node(chunk[i + 2], chunk[i + 3]);
        while (memberships.length < uf.size) { memberships.push(0); opens.push(0); }
        if (open) { memberships.data[a]++; opens.data[a]++; }
        memberships.data[x]++;
        uf.union(a, x);
      }
    }
  }
  return { memberships, opens };
}

export interface SpilledGreedy extends GreedyResult {
  /** Buckets read, and left after dropping identical ones. */
  read: number;
  unique: number;
  parts: number;
}

/** The bucket greedy and its bound (bucketGreedy's results for all nodes of `uf`), one part of at most `limitBytes`
 * at a time. `scan` and `uf` come from scanComponents; `rank` and `pinned` as for bucketGreedy. */
export async function spilledGreedy(o: {
  pairFiles: string[]; uf: DocUnionFind; scan: ComponentScan; rank: Uint32Array; pinned?: Uint8Array;
  limitBytes: number; spillDir: string; log?: Logger;
}): Promise<SpilledGreedy> {
  const { uf, scan } = o;
  const n = uf.size;
  // Component costs, at their roots; parts filled with whole components in order of their first node.
  const partOf = new Int32Array(n).fill(-1); // at roots first, then per node
  let parts = 0, oversized = 0, largest = 0;
  {
    const cost = new Float64Array(n);
    for (let v = 0; v < n; v++) cost[uf.find(v)] += PER_MEMBERSHIP * scan.memberships.data[v] + PER_BUCKET * scan.opens.data[v] + PER_DOC;
    scan.memberships = scan.opens = new IntList(); // not needed any more: let them go
    let used = 0;
    for (let v = 0; v < n; v++) {
      const r = uf.find(v);
      if (partOf[r] >= 0) continue;
      if (used > 0 && used + cost[r] > o.limitBytes) { parts++; used = 0; }
      partOf[r] = parts;
      used += cost[r];
      if (cost[r] > o.limitBytes) oversized++;
      if (cost[r] > largest) largest = cost[r];
    }
    if (n) parts++;
  }
  for (let v = 0; v < n; v++) partOf[v] = partOf[uf.find(v)];
  // Each part's nodes in node order (their local ids), and its nodes in rank order as local ids.
  const partStart = new Int32Array(parts + 1);
  for (let v = 0; v < n; v++) partStart[partOf[v] + 1]++;
  for (let p = 0; p < parts; p++) partStart[p + 1] += partStart[p];
  const fill = partStart.slice(0, parts);
  const nodes = new Int32Array(n);
  const localOf = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    const p = partOf[v];
    localOf[v] = fill[p] - partStart[p];
    nodes[fill[p]++] = v;
  }
  fill.set(partStart.subarray(0, parts));
  const rank = new Uint32Array(n);
  for (let j = 0; j < n; j++) { const v = o.rank[j]; rank[fill[partOf[v]]++] = localOf[v]; }
  const mb = (x: number) => (x / 2 ** 20).toFixed(1);
  o.log?.info(`clusters: bucket memberships over the ${mb(o.limitBytes)} MB limit: ${parts} parts of whole connected ` +
    `components, spilled to ${o.spillDir}`);
  if (oversized) {
    o.log?.warn(`clusters: ${oversized} connected component(s) exceed the ${mb(o.limitBytes)} MB limit ` +
      `(largest ~${mb(largest)} MB); each is held whole`);
  }

  const out: SpilledGreedy = {
    keep: new Uint8Array(n), survivor: new Int32Array(n).fill(-1), band: new Int32Array(n).fill(-1),
    kept: 0, bound: o.pinned ? -1 : 0, read: 0, unique: 0, parts,
  };
  await rm(o.spillDir, { recursive: true, force: true });
  try {
    for (let g0 = 0; g0 < parts; g0 += WRITERS_PER_PASS) {
      const g1 = Math.min(parts, g0 + WRITERS_PER_PASS);
      const files = await split(o.pairFiles, uf, partOf, localOf, g0, g1, o.spillDir);
      for (let p = g0; p < g1; p++) {
        await solvePart(files[p - g0], nodes.subarray(partStart[p], partStart[p + 1]),
          rank.subarray(partStart[p], partStart[p + 1]), o.pinned, out);
        await rm(files[p - g0], { force: true });
      }
    }
  } finally {
    await rm(o.spillDir, { recursive: true, force: true });
  }
  return out;
}

/** One pass over the pairs: the records of parts g0..g1-1 to one spill file each, as (band, local first member,
 * local member, 1 when the record opens a bucket), in the pairs' order. */
async function split(pairFiles: string[], uf: DocUnionFind, partOf: Int32Array, localOf: Int32Array,
  g0: number, g1: number, dir: string): Promise<string[]> {
  const paths: string[] = [];
  const writers: RecordFileWriter[] = [];
  // Records gather per part in a buffer of our own, appended whole when full (one await per 16k records, not per
  // record), so the writers need no buffer of their own: 256 KiB per part written in this pass.
  const CAP = 4 * 16384;
  const bufs: Uint32Array[] = [];
  const used = new Int32Array(g1 - g0);
  try {
    for (let p = g0; p < g1; p++) {
      paths.push(join(dir, `part-${String(p).padStart(6, "0")}.bkt`));
      writers.push(await RecordFileWriter.create(paths[p - g0], { kind: "bucket-spill", width: 4, version: DEDUP_FORMAT_VERSION, part: p }, 4));
      bufs.push(new Uint32Array(CAP));
    }
    for (let b = 0; b < pairFiles.length; b++) {
      let aFile = -1, aRow = -1, a = -1, k = -1;
      for await (const chunk of readRecordChunks(pairFiles[b], "pairs")) {
        for (let i = 0; i < chunk.length; i += 4) {
          const open = chunk[i] !== aFile || chunk[i + 1] !== aRow;
          if (open) {
            aFile = chunk[i]; aRow = chunk[i + 1];
            a = uf.node(aFile, aRow);
            const p = partOf[a];
            k = p >= g0 && p < g1 ? p - g0 : -1;
          }
          if (k < 0) continue;
          const buf = bufs[k];
          let u = used[k];
          if (u === CAP) { await writers[k].append(buf); u = 0; }
          buf[u] = b; buf[u + 1] = localOf[a]; buf[u + 2] = localOf[uf.node(chunk[i + 2], chunk[i + 3])]; buf[u + 3] = open ? 1 : 0;
          used[k] = u + 4;
        }
      }
    }
    for (let k = 0; k < writers.length; k++) {
      if (used[k]) await writers[k].append(bufs[k].subarray(0, used[k]));
      await writers[k].close();
    }
  } catch (e) {
    for (const w of writers) await w.abort();
    throw e;
  }
  return paths;
}

/** The in-memory greedy on one part's spill file; its results written into `out` under global node ids. */
async function solvePart(file: string, nodes: Int32Array, rank: Uint32Array, pinned: Uint8Array | undefined,
  out: SpilledGreedy): Promise<void> {
  const bb = new BucketBuilder();
  for await (const chunk of readRecordChunks(file, "bucket-spill")) {
    for (let i = 0; i < chunk.length; i += 4) {
      if (chunk[i + 3]) bb.open(chunk[i], chunk[i + 1]);
      bb.member(chunk[i + 2]);
    }
  }
  const bk = bb.finish();
  let local: Uint8Array | undefined;
  if (pinned) {
    local = new Uint8Array(nodes.length);
    for (let j = 0; j < nodes.length; j++) local[j] = pinned[nodes[j]];
  }
  const g = bucketGreedy(bk, nodes.length, rank, local);
  for (let j = 0; j < nodes.length; j++) {
    const v = nodes[j];
    out.keep[v] = g.keep[j];
    out.survivor[v] = g.survivor[j] < 0 ? -1 : nodes[g.survivor[j]];
    out.band[v] = g.band[j];
  }
  out.kept += g.kept;
  if (!pinned) out.bound += g.bound;
  out.read += bk.read;
  out.unique += bk.band.length;
}
