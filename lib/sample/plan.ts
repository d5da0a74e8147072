// Exactly N documents per year across all shards: a two-pass bottom-k. Pass 1 (cheap: ids and year columns only)
// keeps, per year, the N smallest hash values over ALL input files; the N-th smallest is that year's threshold.
// Pass 2 (any sharding) keeps a document when its hash is <= its year's threshold. Because the hash is a function of
// (seed, id), every shard agrees without coordination. The plan can be computed once and shared as a JSON file.
import { readFile } from "node:fs/promises";
import type { Batch } from "../arrow/batch.js";
import { getStrings } from "../arrow/batch.js";
import { writeFileAtomic } from "../io/atomic.js";
import { hashUnit } from "./hash.js";
import { batchYears } from "./year.js";

export interface SamplePlan {
  version: 1;
  seed: number;
  perYear: number;
  yearColumns: string[];
  /** Per year: threshold hash (keep hash <= threshold), documents seen and documents that will be kept. */
  years: Record<string, { threshold: number; docs: number; keep: number }>;
  noYear: number;
}

/** A bounded max-heap of the k smallest numbers seen. */
class BottomK {
  private readonly heap: Float64Array;
  size = 0;
  constructor(readonly k: number) {
    this.heap = new Float64Array(Math.max(1, k));
  }
  push(v: number): void {
    const h = this.heap;
    if (this.size < this.k) {
      let i = this.size++;
      h[i] = v;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (h[p] >= h[i]) break;
        [h[p], h[i]] = [h[i], h[p]];
        i = p;
      }
    } else if (this.k > 0 && v < h[0]) {
      h[0] = v;
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.size && h[l] > h[m]) m = l;
        if (r < this.size && h[r] > h[m]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
  }
  /** The largest kept value; with fewer than k values seen, every document is kept (threshold 1). */
  threshold(): number {
    return this.size < this.k ? 1 : this.heap[0];
  }
}

export class PlanBuilder {
  private readonly years = new Map<number, { heap: BottomK; docs: number }>();
  private noYear = 0;
  constructor(readonly perYear: number, readonly seed: number, readonly yearColumns: string[]) {}

  add(batch: Batch): void {
    const ids = getStrings(batch, "id");
    const ys = batchYears(batch, this.yearColumns);
    for (let i = 0; i < ids.length; i++) {
      const y = ys[i];
      if (y === null) {
        this.noYear++;
        continue;
      }
      let e = this.years.get(y);
      if (!e) this.years.set(y, (e = { heap: new BottomK(this.perYear), docs: 0 }));
      e.docs++;
      e.heap.push(hashUnit(ids[i] ?? "", this.seed));
    }
  }

  build(): SamplePlan {
    const years: SamplePlan["years"] = {};
    for (const y of [...this.years.keys()].sort((a, b) => a - b)) {
      const e = this.years.get(y)!;
      years[String(y)] = { threshold: e.heap.threshold(), docs: e.docs, keep: Math.min(e.docs, this.perYear) };
    }
    return { version: 1, seed: this.seed, perYear: this.perYear, yearColumns: this.yearColumns, years, noYear: this.noYear };
  }
}

export async function writePlan(path: string, plan: SamplePlan): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(plan, null, 1) + "\n");
}

export async function readPlan(path: string): Promise<SamplePlan> {
  let plan: SamplePlan;
  try {
    plan = JSON.parse(await readFile(path, "utf8")) as SamplePlan;
  } catch (e) {
    throw new Error(`cannot read sample plan ${path}: ${(e as Error).message}`);
  }
  if (plan?.version !== 1 || typeof plan.years !== "object" || !Array.isArray(plan.yearColumns)) {
    throw new Error(`${path} is not a megamath sample plan`);
  }
  return plan;
}
