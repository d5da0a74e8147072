// Flags shared by the five dedup commands, declared once (drives --help, flags and --config files).
import { UsageError, type OptionSpecs } from "../command.js";
import { type DedupParams, checkParams, defaultDedupParams } from "../../lib/dedup/params.js";
import type { OverlapReport } from "../../lib/dedup/summary.js";
import type { Logger } from "../../lib/runtime/log.js";

export const minhashOptions = {
  bands: { type: "integer", default: defaultDedupParams.bands, description: "LSH bands (MegaMath: 11)." },
  rows: { type: "integer", default: defaultDedupParams.rows, description: "MinHash values per band (MegaMath: 10)." },
  ngram: { type: "integer", default: defaultDedupParams.ngram, description: "Words per shingle; shorter documents are never duplicates." },
  "keep-column": {
    type: "string", default: defaultDedupParams.keepColumn!, placeholder: "COLUMN",
    description: "Numeric column: the cluster member with the highest value survives (ties: first by file, row); \"\" for none.",
  },
  exact: {
    type: "boolean",
    description: "Exact dedup: documents whose normalized text (lowercase, digits as 0, no accents or punctuation) is " +
      "identical, by a hash instead of MinHash; much cheaper, catches short documents too; run it first. --bands is " +
      "then the number of hash partitions (stage 2's shards); --rows and --ngram are unused.",
  },
  "max-docs-per-part": { type: "integer", default: 262144, description: "Stage 1 memory bound: documents per sorted run." },
} as const satisfies OptionSpecs;

export const againstOption = {
  against: {
    type: "string", placeholder: "INDEX",
    description: "Also remove documents that duplicate a reference corpus, given as its index folder (megamath " +
      "dedup-index); the reference is not deduplicated itself, and removed/ names the reference document. The same " +
      "--bands/--rows/--ngram/--seed (or --exact) as the index.",
  },
} as const satisfies OptionSpecs;

export const workDirOption = {
  "work-dir": { type: "string", placeholder: "DIR", description: "Folder for the intermediate files all stages share." },
} as const satisfies OptionSpecs;

export const clusterColumnOption = {
  "cluster-column": {
    type: "string", default: "", placeholder: "NAME",
    description: "Add an Int32 column with the cluster id of clustered documents (e.g. dup_cluster); \"\" for none.",
  },
} as const satisfies OptionSpecs;

export const clusteringOption = {
  clustering: {
    type: "string", default: "union", placeholder: "union|bucket",
    description: "Stage 3: \"union\" keeps one document per connected component of duplicate pairs; \"bucket\" " +
      "keeps, in --keep-column order, every document that shares no LSH bucket with a kept one (keeps more).",
  },
} as const satisfies OptionSpecs;

export const clusterMemoryOption = {
  "cluster-memory-mb": {
    type: "number", default: 2048, placeholder: "MB", identity: false,
    description: "Stage 3 memory bound for --clustering bucket: past it the LSH buckets are split into parts of whole " +
      "connected components, spilled to WORK/clusters/spill/ and solved one part at a time (same results; a " +
      "component larger than the bound is held whole). Union mode holds only ~40 bytes per clustered document.",
  },
} as const satisfies OptionSpecs;

/** --cluster-memory-mb in bytes; throws RangeError when not positive. */
export function clusterMemoryFrom(opts: { "cluster-memory-mb"?: number }): number {
  const v = opts["cluster-memory-mb"] ?? 2048;
  if (!(v > 0)) throw new RangeError(`--cluster-memory-mb must be > 0, got ${v}`);
  return Math.round(v * 2 ** 20);
}

export const seedsOption = {
  seeds: {
    type: "integer", default: 1,
    description: "Multi-seed LSH (needs --clustering bucket): run stages 1-2 with seeds --seed .. --seed+T-1 " +
      "(extra ones under WORK/seeds/) and treat documents as duplicates only when they share a bucket under every seed.",
  },
} as const satisfies OptionSpecs;

export const intersectOption = {
  intersect: {
    type: "string", default: "", placeholder: "DIR[,DIR]",
    description: "Multi-seed (needs --clustering bucket): work folders of the same inputs made with other --seed " +
      "values; documents conflict only when they share a bucket under every seed.",
  },
} as const satisfies OptionSpecs;

/** Stage 4's output compression level (stage 4 mostly compresses: with gzipped JSONL, gzip was 11 of dedup's 16
 * CPU-seconds on the bench corpus). No default value: unset, the writer's defaults hold and stay out of the
 * completion markers' identity. */
export const compressionLevelOption = {
  "compression-level": {
    type: "integer", placeholder: "N",
    description: "Output compression level: gzip for --format jsonl.gz (1-9, default 6, gzip's own; datatrove writes 9; 1 cut the whole dedup's CPU by 19% for an 11% bigger output on the bench corpus), " +
      "zstd for Parquet (1-19, default 3).",
  },
} as const satisfies OptionSpecs;

/** --compression-level checked against the output format's range (undefined: the writer's default). */
export function compressionLevelFrom(opts: { "compression-level"?: number; format?: string }): number | undefined {
  const v = opts["compression-level"];
  if (v === undefined) return undefined;
  const max = opts.format === "jsonl.gz" ? 9 : 19;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`--compression-level must be 1-${max} for --format ${opts.format ?? "parquet"}, got ${v}`);
  return v;
}

export const provenanceOptions = {
  "cluster-size-column": {
    type: "string", default: "", placeholder: "NAME",
    description: "Add an Int32 column with each survivor's cluster size (1 when unclustered), e.g. cluster_size.",
  },
  "keep-removed": {
    type: "boolean",
    description: "Write removed documents to OUTPUT/removed/ (Parquet) with the survivor each duplicates.",
  },
} as const satisfies OptionSpecs;

/** --clustering as a mode; throws RangeError on another value. */
export function clusteringFromOptions(opts: { clustering?: string }): "union" | "bucket" {
  const v = (opts.clustering as string | undefined) ?? "union";
  if (v !== "union" && v !== "bucket") throw new RangeError(`--clustering must be union or bucket, got "${v}"`);
  return v;
}

/** MinHash params from parsed flags (seed comes from the shared --seed flag). Throws RangeError when invalid. */
/** The MinHash settings the flags give; settings out of range are a usage error (exit 2). */
export function paramsFromOptions(opts: { bands: number; rows: number; ngram: number; seed?: number; "keep-column": string; exact?: boolean }): DedupParams {
  try {
    return checkParams({
      bands: opts.bands,
      rows: opts.rows,
      ngram: opts.ngram,
      seed: opts.seed ?? defaultDedupParams.seed,
      keepColumn: opts["keep-column"] || null,
      ...(opts.exact ? { exact: true } : {}),
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The line `dedup` and `dedup-filter` log for a written overlap.json. */
export function logOverlap(log: Logger, overlap: OverlapReport, path: string): void {
  log.info(`overlap with ${overlap.index}: ${overlap.shared.docs} of ${overlap.corpus.docs} documents ` +
    `(${(100 * overlap.shared.docShare).toFixed(2)}%), ${overlap.shared.words} of ${overlap.corpus.words} words ` +
    `(${(100 * overlap.shared.wordShare).toFixed(2)}%) duplicate ${overlap.reference.matched} of the reference's ` +
    `${overlap.reference.docs} documents; ${path}`);
}
