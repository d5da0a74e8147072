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
// cliques of the conflict graph (documents sharing a bucket conflict; a bucket is a clique); a feasible set has
// at most one member in each clique, so |feasible| <= number of cliques. (An integral solution of the dual of the
// LP "maximise kept, at most 1 per clique"; see coverBound.) The bound, and so greedy/bound, is conservative.
//
// Memory: ~8 bytes per (bucket, member) incidence twice (membership list + per-document CSR) plus ~30 bytes
// per clustered document; identical buckets are dropped before the CSR is built.
import { fmix32 } from "./minhash.js";
import { readRecordChunks } from "./recordfile.js";
import type { DocUnionFind } from "./unionfind.js";

/** Growable Int32 list. */
export class IntList {
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
  const bb = new BucketBuilder();
  for (let b = 0; b < pairFiles.length; b++) {
    let aFile = -1, aRow = -1;
    for await (const chunk of readRecordChunks(pairFiles[b], "pairs")) {
      for (let i = 0; i < chunk.length; i += 4) {
        if (chunk[i] !== aFile || chunk[i + 1] !== aRow) {
          aFile = chunk[i]; aRow = chunk[i + 1];
          bb.open(b, nodes.node(aFile, aRow));
        }
        bb.member(nodes.node(chunk[i + 2], chunk[i + 3]));
      }
    }
  }
  return bb.finish();
}

/** Collects buckets (open one with its first member, add the others) and drops each bucket whose member list equals
 * an earlier one's. Used on all of stage 2's buckets at once, or on one part of them (bucket-spill.ts). */
export class BucketBuilder {
  private start = new IntList();
  private members = new IntList();
  private band = new IntList();
  // Identical-bucket table: open addressing over the kept buckets by the hash of their member list (typed arrays,
  // ~12 bytes per kept bucket; a JS Map would cost several times that).
  private hashes = new IntList();
  private slots = new Int32Array(1 << 12).fill(-1);
  private building = false;
  read = 0;

  /** Start a new bucket of band `band` whose first member is `first` (closing the one being built). */
  open(band: number, first: number): void {
    if (this.building) this.close();
    this.building = true;
    this.read++;
    this.start.push(this.members.length);
    this.band.push(band);
    this.members.push(first);
  }

  member(v: number): void {
    this.members.push(v);
  }

  finish(): Buckets {
    if (this.building) this.close();
    this.building = false;
    const { start, members, band } = this;
    const s = new Int32Array(band.length + 1);
    s.set(start.data.subarray(0, band.length));
    s[band.length] = members.length;
    return { start: s, members: members.data.slice(0, members.length), band: band.data.slice(0, band.length), read: this.read };
  }

  private same(k: number, s: number): boolean {
    const { start, members } = this;
    const os = start.data[k], oe = start.data[k + 1];
    if (oe - os !== members.length - s) return false;
    for (let i = 0; i < oe - os; i++) if (members.data[os + i] !== members.data[s + i]) return false;
    return true;
  }

  private close(): void {
    const { start, members, band, hashes } = this;
    // The bucket being built is k = band.length - 1 and spans members[s .. length).
    const k = band.length - 1;
    const s = start.data[k];
    let h = 0x12345678;
    for (let i = s; i < members.length; i++) h = (fmix32(h ^ members.data[i]) + 0x9e3779b9) | 0;
    h = fmix32(h ^ (members.length - s)) | 0; // as stored in the Int32Array
    const mask = this.slots.length - 1;
    let at = h & mask;
    for (let other = this.slots[at]; other >= 0; at = (at + 1) & mask, other = this.slots[at]) {
      if (hashes.data[other] === h && this.same(other, s)) { // a copy of an earlier bucket: drop it
        members.length = s;
        start.length--;
        band.length--;
        return;
      }
    }
    this.slots[at] = k;
    hashes.push(h);
    if (2 * band.length > this.slots.length) { // keep the load at most 1/2
      const grown = new Int32Array(this.slots.length * 2).fill(-1);
      const m2 = grown.length - 1;
      for (let j = 0; j < band.length; j++) {
        let p = hashes.data[j] & m2;
        while (grown[p] >= 0) p = (p + 1) & m2;
        grown[p] = j;
      }
      this.slots = grown;
    }
  }
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

/** The rank-order greedy over `rank` (node ids, best first) and the cover bound. `pinned` nodes (a reference
 * corpus's documents, against.ts) are always kept whatever their buckets hold, must come first in `rank`, and are
 * preferred as a removed node's survivor; with pinned nodes the bound is not computed (-1). */
export function bucketGreedy(bk: Buckets, nodeCount: number, rank: Uint32Array, pinned?: Uint8Array): GreedyResult {
  const nb = bk.band.length;
  const { deg, of } = incidence(bk, nodeCount); // buckets of each node, in bucket (= band) order

  const held = new Int32Array(nb).fill(-1);
  const keep = new Uint8Array(nodeCount);
  const survivor = new Int32Array(nodeCount).fill(-1);
  const band = new Int32Array(nodeCount).fill(-1);
  let kept = 0;
  for (let j = 0; j < rank.length; j++) {
    const v = rank[j];
    if (pinned?.[v]) {
      keep[v] = 1;
      kept++;
      for (let i = deg[v]; i < deg[v + 1]; i++) if (held[of[i]] < 0) held[of[i]] = v;
      continue;
    }
    let blocked = -1;
    if (pinned) {
      for (let i = deg[v]; i < deg[v + 1]; i++) {
        const h = held[of[i]];
        if (h >= 0 && pinned[h]) { blocked = of[i]; break; }
        if (h >= 0 && blocked < 0) blocked = of[i];
      }
    } else {
      for (let i = deg[v]; i < deg[v + 1]; i++) if (held[of[i]] >= 0) { blocked = of[i]; break; }
    }
    if (blocked >= 0) {
      survivor[v] = held[blocked];
      band[v] = bk.band[blocked];
      continue;
    }
    keep[v] = 1;
    kept++;
    for (let i = deg[v]; i < deg[v + 1]; i++) held[of[i]] = v;
  }
  return { keep, survivor, band, kept, bound: pinned ? -1 : coverBound(bk, nodeCount, deg, of) };
}

/** Size of a cover of the nodes by cliques of the conflict graph (two documents conflict when they share a
 * bucket): any feasible set keeps at most one document of each clique, so the cover's size is an upper bound.
 * Each clique starts as the uncovered members of an uncovered node's largest bucket (a bucket is a clique) and,
 * while small, grows by the node's other uncovered neighbours that conflict with every member (this is what
 * catches the triangles of near-duplicate chains, where pair buckets alone would give a loose bound). */
export function coverBound(bk: Buckets, nodeCount: number, deg?: Int32Array, of?: Int32Array): number {
  if (!deg || !of) ({ deg, of } = incidence(bk, nodeCount));
  const covered = new Uint8Array(nodeCount);
  const mark = new Int32Array(bk.band.length).fill(-1); // bucket -> last node whose buckets were marked
  const shares = (u: number, w: number) => { // u's buckets are marked with u
    for (let i = deg![w]; i < deg![w + 1]; i++) if (mark[of![i]] === u) return true;
    return false;
  };
  const markBuckets = (u: number) => { for (let i = deg![u]; i < deg![u + 1]; i++) mark[of![i]] = u; };
  let cliques = 0;
  const clique: number[] = [];
  for (let v = 0; v < nodeCount; v++) {
    if (covered[v]) continue;
    cliques++;
    let big = -1;
    for (let i = deg[v]; i < deg[v + 1]; i++) {
      const k = of[i];
      if (big < 0 || bk.start[k + 1] - bk.start[k] > bk.start[big + 1] - bk.start[big]) big = k;
    }
    clique.length = 0;
    clique.push(v);
    covered[v] = 1;
    if (big < 0) continue;
    for (let i = bk.start[big]; i < bk.start[big + 1]; i++) {
      const u = bk.members[i];
      if (!covered[u]) { covered[u] = 1; clique.push(u); }
    }
    if (clique.length > 64) continue;
    for (let i = deg[v]; i < deg[v + 1]; i++) {
      const k = of[i];
      if (k === big) continue;
      for (let j = bk.start[k]; j < bk.start[k + 1] && clique.length <= 64; j++) {
        const u = bk.members[j];
        if (covered[u]) continue;
        markBuckets(u);
        if (clique.every((w) => shares(u, w))) { covered[u] = 1; clique.push(u); }
      }
    }
  }
  return cliques;
}

/** Per node, its buckets (CSR: of[deg[v] .. deg[v+1]) in bucket order). */
export function incidence(bk: Buckets, nodeCount: number): { deg: Int32Array; of: Int32Array } {
  const deg = new Int32Array(nodeCount + 1);
  for (let i = 0; i < bk.members.length; i++) deg[bk.members[i] + 1]++;
  for (let v = 0; v < nodeCount; v++) deg[v + 1] += deg[v];
  const fill = deg.slice(0, nodeCount);
  const of = new Int32Array(bk.members.length);
  for (let k = 0; k < bk.band.length; k++) for (let i = bk.start[k]; i < bk.start[k + 1]; i++) of[fill[bk.members[i]]++] = k;
  return { deg, of };
}
