// Multi-seed LSH (LLM360 2026): run stages 1-2 with T independent hash families (--seed s, s+1, ...) and call two
// documents duplicates only when they share a bucket under every seed. A pair of Jaccard s then collides with
// probability (1 - (1 - s^r)^b)^T: the S-curve gets steeper and low-similarity false positives fall away.
// The intersected constraints are again buckets: every B ∩ C (B a bucket of one seed, C of the other) with two
// or more members is a set of documents that pairwise share a bucket under both seeds, and every such pair lies
// in one of them; so the bucket greedy and its bound run on the result unchanged.
import { createHash } from "node:crypto";
import { paths, readWorkManifest, type WorkManifest } from "./workdir.js";
import { type Buckets, readBuckets, incidence } from "./bucket-greedy.js";
import type { DocUnionFind } from "./unionfind.js";

/** Buckets of the intersection of two bucket hypergraphs over the same node ids (identical results dropped). */
export function intersectBuckets(a: Buckets, b: Buckets, nodeCount: number): Buckets {
  const { deg, of } = incidence(b, nodeCount); // per node, its buckets in b

  const start: number[] = [0];
  const members: number[] = [];
  const band: number[] = [];
  const seen = new Set<string>();
  const groups = new Map<number, number[]>();
  for (let k = 0; k < a.band.length; k++) {
    groups.clear();
    for (let i = a.start[k]; i < a.start[k + 1]; i++) {
      const v = a.members[i];
      for (let j = deg[v]; j < deg[v + 1]; j++) {
        const g = groups.get(of[j]);
        if (g) g.push(v);
        else groups.set(of[j], [v]);
      }
    }
    for (const g of groups.values()) {
      if (g.length < 2) continue;
      const key = g.join(",");
      if (seen.has(key)) continue;
      seen.add(key);
      members.push(...g);
      start.push(members.length);
      band.push(a.band[k]);
    }
  }
  return { start: Int32Array.from(start), members: Int32Array.from(members), band: Int32Array.from(band), read: band.length };
}

/** Check that each other work folder read the same inputs with the same LSH shape and a different seed. */
export async function checkSeedFolders(work: string, m: WorkManifest, others: string[]): Promise<WorkManifest[]> {
  const seeds = new Set([m.params.seed]);
  const out: WorkManifest[] = [];
  if (others.length && m.params.exact) throw new Error(`${work} holds exact-dedup keys: seeds apply to MinHash only`);
  for (const w of others) {
    const o = (await readWorkManifest(w))!;
    if (o.params.exact) throw new Error(`${w} holds exact-dedup keys: seeds apply to MinHash only`);
    const same = o.inputs.length === m.inputs.length && o.inputs.every((x, i) => x.size === m.inputs[i].size);
    if (!same) throw new Error(`${w} was made from other inputs than ${work}; every seed must read the same files`);
    if (o.params.bands !== m.params.bands || o.params.rows !== m.params.rows || o.params.ngram !== m.params.ngram) {
      throw new Error(`${w} has other bands/rows/ngram than ${work}`);
    }
    if (seeds.has(o.params.seed)) throw new Error(`${w} uses seed ${o.params.seed} again: seeds must differ`);
    seeds.add(o.params.seed);
    out.push(o);
  }
  return out;
}

/** What stage 3 depends on with extra seeds: the main folder's pairs digest and each other folder's. */
export function combineDigests(main: string, others: string[]): string {
  if (!others.length) return main;
  const h = createHash("sha256").update(main);
  for (const d of others) h.update(`\n${d}`);
  return h.digest("hex");
}

/** The main buckets intersected with those of each other seed's folder (same node table). */
export async function intersectSeedFolders(main: Buckets, others: string[], bands: number, nodes: DocUnionFind):
Promise<Buckets> {
  let out = main;
  for (const w of others) {
    const b = await readBuckets(Array.from({ length: bands }, (_, k) => paths.pairs(w, k)), nodes);
    out = intersectBuckets(out, b, nodes.size);
  }
  return { ...out, read: main.read };
}
