// Stage 3, bucket-feasible mode (LLM360, "Why legacy bucket unionization breaks LSH MinHash dedup", 2026):
// LSH only says "the members of one bucket are near-duplicates", so a kept set is feasible when every bucket
// holds at most one survivor. Union-find asks for one survivor per connected component, which over-merges: a
// chain A~B~C~D~E of pair buckets keeps 1 document where 3 (A, C, E) are feasible.
//
// Steps: (1) read every band's buckets (a bucket = a band's group of equal keys, stored by stage 2 as a star of
// pairs around its smallest member); (2) drop buckets with exactly the member set of an earlier one (exact
// duplicates share all their bands' buckets); (3) visit documents in rank order (keep column descending, then
// (file, row)) and keep a document when none of its buckets already holds a survivor. The result is maximal
// (every removed document shares a bucket with a survivor; that survivor and bucket are its provenance).
//
// Upper bound on any feasible set (how far from optimal the greedy can be): cover the clustered documents with
// buckets; a feasible set has at most one member in each cover bucket, so |feasible| <= cover size (buckets used
// + documents left uncovered). This is the LP dual of "sum over a bucket <= 1" with integral weights. The cover
// is built greedily, largest bucket first, taking a bucket only when it covers >= 2 uncovered documents.
//
// Memory: ~8 bytes per (bucket, member) incidence twice (membership list + per-document CSR) plus ~30 bytes
// per clustered document; identical buckets are dropped before the CSR is built.
import { fmix32 } from "./minhash.js";
import { readRecordChunks } from "./recordfile.js";
import type { DocUnionFind } from "./unionfind.js";

/** Growable Int32 list. */
class IntList {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
}

export interface Buckets {
  /** Members of bucket k: members[start[k] .. start[k+1]) (node ids); band of bucket k: band[k]. */
  start: Int32Array;
  members: Int32Array;
  band: Int32Array;
  /** Buckets read before identical ones were dropped. */
  read: number;
}

/** Every bucket of every band, as node ids of `nodes` (created here), identical member sets dropped. */
export async function readBuckets(pairFiles: string[], nodes: DocUnionFind): Promise<Buckets> {
  const start = new IntList();
  const members = new IntList();
  const band = new IntList();
  // Identical-bucket table: hash of the member list -> first bucket with it (chained through `next`).
  const table = new Map<number, number>();
  const next = new IntList(); // per kept bucket: the previous bucket with the same hash, or -1
  let read = 0;
  const close = () => {
    // The bucket being built spans members[s .. length).
    const k = band.length - 1;
    const s = start.data[k];
    let h = 0x12345678;
    for (let i = s; i < members.length; i++) h = fmix32(h ^ members.data[i]) + 0x9e3779b9 | 0;
    h = fmix32(h ^ (members.length - s));
    for (let other = table.get(h) ?? -1; other >= 0; other = next.data[other]) {
      const os = start.data[other], oe = start.data[other + 1];
      if (oe - os !== members.length - s) continue;
      let same = true;
      for (let i = 0; i < oe - os; i++) if (members.data[os + i] !== members.data[s + i]) { same = false; break; }
      if (same) { // drop it
        members.length = s;
        start.length--;
        band.length--;
        return;
      }
    }
    next.push(table.get(h) ?? -1);
    table.set(h, k);
  };
  for (let b = 0; b < pairFiles.length; b++) {
    let aFile = -1, aRow = -1;
    for await (const chunk of readRecordChunks(pairFiles[b], "pairs")) {
      for (let i = 0; i < chunk.length; i += 4) {
        if (chunk[i] !== aFile || chunk[i + 1] !== aRow) {
          if (aFile >= 0) close();
          aFile = chunk[i]; aRow = chunk[i + 1];
          read++;
          start.push(members.length);
          band.push(b);
          members.push(nodes.node(aFile, aRow));
        }
        members.push(nodes.node(chunk[i + 2], chunk[i + 3]));
      }
    }
    if (aFile >= 0) close();
  }
  const s = new Int32Array(band.length + 1);
  s.set(start.data.subarray(0, band.length));
  s[band.length] = members.length;
  return { start: s, members: members.data.slice(0, members.length), band: band.data.slice(0, band.length), read };
}

export interface GreedyResult {
  /** Per node: 1 kept, 0 removed. */
  keep: Uint8Array;
  /** Per removed node: the survivor it duplicates and the band of the bucket they share (-1 for kept nodes). */
  survivor: Int32Array;
  band: Int32Array;
  kept: number;
  /** Upper bound on the size of any feasible kept subset of the clustered nodes. */
  bound: number;
}

/** The rank-order greedy over `rank` (node ids, best first) and the cover bound. */
export function bucketGreedy(bk: Buckets, nodeCount: number, rank: Uint32Array): GreedyResult {
  const nb = bk.band.length;
  // CSR: buckets of each node, in bucket (= band) order.
  const deg = new Int32Array(nodeCount + 1);
  for (let i = 0; i < bk.members.length; i++) deg[bk.members[i] + 1]++;
  for (let v = 0; v < nodeCount; v++) deg[v + 1] += deg[v];
  const fill = deg.slice(0, nodeCount);
  const of = new Int32Array(bk.members.length);
  for (let k = 0; k < nb; k++) for (let i = bk.start[k]; i < bk.start[k + 1]; i++) of[fill[bk.members[i]]++] = k;

  const held = new Int32Array(nb).fill(-1);
  const keep = new Uint8Array(nodeCount);
  const survivor = new Int32Array(nodeCount).fill(-1);
  const band = new Int32Array(nodeCount).fill(-1);
  let kept = 0;
  for (let j = 0; j < rank.length; j++) {
    const v = rank[j];
    let blocked = -1;
    for (let i = deg[v]; i < deg[v + 1]; i++) if (held[of[i]] >= 0) { blocked = of[i]; break; }
    if (blocked >= 0) {
      survivor[v] = held[blocked];
      band[v] = bk.band[blocked];
      continue;
    }
    keep[v] = 1;
    kept++;
    for (let i = deg[v]; i < deg[v + 1]; i++) held[of[i]] = v;
  }
  return { keep, survivor, band, kept, bound: coverBound(bk, nodeCount) };
}

/** Size of a cover of the nodes by buckets and singletons (see the file comment): an upper bound. */
export function coverBound(bk: Buckets, nodeCount: number): number {
  const nb = bk.band.length;
  const order = Array.from({ length: nb }, (_, k) => k);
  const size = (k: number) => bk.start[k + 1] - bk.start[k];
  order.sort((a, b) => size(b) - size(a) || a - b);
  const covered = new Uint8Array(nodeCount);
  let left = nodeCount, used = 0;
  for (const k of order) {
    let fresh = 0;
    for (let i = bk.start[k]; i < bk.start[k + 1]; i++) if (!covered[bk.members[i]]) fresh++;
    if (fresh < 2) continue;
    used++;
    left -= fresh;
    for (let i = bk.start[k]; i < bk.start[k + 1]; i++) covered[bk.members[i]] = 1;
  }
  return used + left;
}
