// Per-stage document accounting. Every stage reports docs in = out + removed (by reason) + failed (by reason);
// the runner checks that identity and stats from shards merge by plain addition.

export interface StageStatsJSON {
  name: string;
  docsIn: number;
  bytesIn: number;
  docsOut: number;
  bytesOut: number;
  removed: Record<string, number>;
  failed: Record<string, number>;
  timeMs: number;
  /** Free-form counters a stage wants to publish (e.g. tokens, requests, retries). Merged by addition. */
  counters: Record<string, number>;
}

export class StageStats {
  docsIn = 0;
  bytesIn = 0;
  docsOut = 0;
  bytesOut = 0;
  removed: Record<string, number> = {};
  failed: Record<string, number> = {};
  timeMs = 0;
  counters: Record<string, number> = {};
  /** Up to `maxExamples` failure examples (file, row, reason, message) for the log; not merged. */
  examples: { reason: string; where: string; message: string }[] = [];
  static maxExamples = 20;

  constructor(readonly name: string) {}

  /** Count documents a stage dropped on purpose, with the reason (e.g. "math_score<0.4", "duplicate"). */
  remove(reason: string, n = 1): void {
    if (n) this.removed[reason] = (this.removed[reason] ?? 0) + n;
  }

  /** Count documents a stage could not process (bad input under --on-error skip), with the reason. */
  fail(reason: string, n = 1, where = "", message = ""): void {
    if (!n) return;
    this.failed[reason] = (this.failed[reason] ?? 0) + n;
    if (this.examples.length < StageStats.maxExamples) this.examples.push({ reason, where, message });
  }

  count(counter: string, n = 1): void {
    this.counters[counter] = (this.counters[counter] ?? 0) + n;
  }

  get removedTotal(): number {
    return sum(this.removed);
  }

  get failedTotal(): number {
    return sum(this.failed);
  }

  /** The accounting identity; returns a message when it does not hold. */
  check(): string | null {
    const rhs = this.docsOut + this.removedTotal + this.failedTotal;
    if (this.docsIn === rhs) return null;
    return `stage "${this.name}": docs in ${this.docsIn} != out ${this.docsOut} + removed ${this.removedTotal} + failed ${this.failedTotal}`;
  }

  toJSON(): StageStatsJSON {
    return {
      name: this.name, docsIn: this.docsIn, bytesIn: this.bytesIn, docsOut: this.docsOut, bytesOut: this.bytesOut,
      removed: sortKeys(this.removed), failed: sortKeys(this.failed), timeMs: Math.round(this.timeMs),
      counters: sortKeys(this.counters),
    };
  }

  static fromJSON(j: StageStatsJSON): StageStats {
    const s = new StageStats(j.name);
    s.merge(j);
    return s;
  }

  /** Add another shard's stats for the same stage. */
  merge(o: StageStatsJSON | StageStats): this {
    this.docsIn += o.docsIn;
    this.bytesIn += o.bytesIn;
    this.docsOut += o.docsOut;
    this.bytesOut += o.bytesOut;
    this.timeMs += o.timeMs;
    addInto(this.removed, o.removed);
    addInto(this.failed, o.failed);
    addInto(this.counters, o.counters ?? {});
    return this;
  }
}

/** Stats of a whole pipeline run (or a merge of many): an ordered list of stage stats. */
export interface RunStatsJSON {
  stages: StageStatsJSON[];
  files: number;
}

export function mergeRunStats(runs: RunStatsJSON[]): RunStatsJSON {
  const order: string[] = [];
  const byName = new Map<string, StageStats>();
  let files = 0;
  for (const r of runs) {
    files += r.files;
    for (const s of r.stages) {
      let acc = byName.get(s.name);
      if (!acc) {
        acc = new StageStats(s.name);
        byName.set(s.name, acc);
        order.push(s.name);
      }
      acc.merge(s);
    }
  }
  return { files, stages: order.map((n) => byName.get(n)!.toJSON()) };
}

function sum(r: Record<string, number>): number {
  let t = 0;
  for (const k in r) t += r[k];
  return t;
}

function addInto(a: Record<string, number>, b: Record<string, number>): void {
  for (const k in b) a[k] = (a[k] ?? 0) + b[k];
}

function sortKeys(r: Record<string, number>): Record<string, number> {
  const o: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) o[k] = r[k];
  return o;
}
