// The indexes one decontamination run matches against: the shipped index of the 12 benchmarks (or a user-built
// one) plus indexes built on the fly from the user's own benchmark files.
import { existsSync, readFileSync } from "node:fs";
import { packagePath } from "../paths.js";
import { loadExtraBenchmark, type ExtraBenchmarkOptions } from "./benchmarks.js";
import { NgramIndex, type SharedIndex } from "./ngram-index.js";
import { readIndexHeader } from "./index-file.js";
import type { BenchmarkInfo } from "./index-types.js";

/** The index shipped with the package (built from ../shared/data/decontamination by `--build-index`). */
export const SHIPPED_INDEX = ["fixtures", "decontam", "benchmarks-13gram.idx"] as const;

export function shippedIndexPath(): string {
  return packagePath(...SHIPPED_INDEX);
}

export interface IndexSetOptions {
  /** Index file; default the shipped one. Pass null to use only extra benchmarks. */
  index?: string | null;
  /** User benchmark files (`PATH` or `NAME=PATH`), JSONL(.gz/.zst). */
  extraBenchmarks?: string[];
  extra?: ExtraBenchmarkOptions;
}

export interface IndexSet {
  indexes: NgramIndex[];
  /** The same indexes on shared memory, for worker threads (no copy, no re-parse). */
  shared: SharedIndex[];
  /** Human-readable description for logs. */
  describe(): string;
}

export function loadIndexSet(o: IndexSetOptions = {}): IndexSet {
  const indexes: NgramIndex[] = [];
  const file = readIndexFile(o);
  if (file) indexes.push(NgramIndex.parse(file.raw, file.path));
  const extras = o.extraBenchmarks ?? [];
  if (extras.length) {
    const n = indexes[0]?.n ?? 13;
    const ix = NgramIndex.build(extras.map((s) => loadExtraBenchmark(s, o.extra)), n);
    indexes.push(ix);
  }
  if (!indexes.length) throw new Error("no decontamination index: give --index or --extra-benchmark");
  return {
    indexes,
    shared: indexes.map((ix) => ix.toShared()),
    describe: () =>
      indexes
        .flatMap((ix) => ix.benchmarks.map((b) => `${b.name} (${b.items} items)`))
        .join(", "),
  };
}

/** The index file of `o` (default: the shipped one), or null when `o.index` is null. */
function readIndexFile(o: IndexSetOptions): { path: string; raw: Uint8Array } | null {
  const path = o.index === undefined ? shippedIndexPath() : o.index;
  if (path === null) return null;
  if (o.index === undefined && !existsSync(path)) {
    throw new Error(`the shipped decontamination index is missing (${path}); rebuild it with ` +
      "'megamath decontaminate --build-index fixtures/decontam/benchmarks-13gram.idx --benchmarks DIR'");
  }
  try {
    return { path, raw: readFileSync(path) };
  } catch (e) {
    throw new Error(`cannot read decontamination index ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The benchmarks (name, items) loadIndexSet(o) would match against, in the same order, from the index file's header
 * alone (no body unpacked, no hash table built); extra benchmark files are read as loadIndexSet reads them. */
export function indexSetBenchmarks(o: IndexSetOptions = {}): BenchmarkInfo[] {
  const file = readIndexFile(o);
  const out = file ? readIndexHeader(file.raw, file.path).benchmarks : [];
  const extras = o.extraBenchmarks ?? [];
  if (extras.length) {
    const n = file ? readIndexHeader(file.raw, file.path).n : 13;
    out.push(...NgramIndex.build(extras.map((s) => loadExtraBenchmark(s, o.extra)), n).benchmarks);
  }
  if (!file && !extras.length) throw new Error("no decontamination index: give --index or --extra-benchmark");
  return out;
}
