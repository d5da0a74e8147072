// MinHash-LSH near-dedup in four file-exchanging stages (see workdir.ts for the files, minhash.ts for the hash).
export { type DedupParams, defaultDedupParams, checkParams, lshProbability, lshThreshold, DEDUP_FORMAT_VERSION } from "./params.js";
export { normalizeForDedup, normalizedWords, prenormalize } from "./normalize.js";
export { MinHasher, fmix32 } from "./minhash.js";
export { CorruptFileError, readRecordFile, readRecordChunks, readRecordHeader, verifyRecordFile } from "./recordfile.js";
export { runSignatureStage, type SignatureStageOptions, type ReadFile, type StageRunResult } from "./signatures.js";
export { runBucketStage, type BucketStageOptions } from "./buckets.js";
export { runClusterStage, type ClusterStageOptions, type ClustersDone, type ClusteringMode } from "./clusters.js";
export { readBuckets, bucketGreedy, coverBound, type Buckets, type GreedyResult } from "./bucket-greedy.js";
export { provenancePaths, readProvenance, readClusterSizes, sizeHistogram, NO_BAND } from "./provenance.js";
export { dedupFilterStage, checkFilterReady, type DedupFilterOptions } from "./filter.js";
export { runDedupStages, documentReader, type DedupStagesOptions } from "./run.js";
export { paths as dedupPaths, readWorkManifest, type WorkManifest, type SignatureDone } from "./workdir.js";
export { readDedupSummary, overlapReport, writeOverlapReport, type DedupSummary, type OverlapReport } from "./summary.js";
export { buildIndex, againstEntry, type IndexBuildOptions, type IndexManifest } from "./against.js";
export { exactKey } from "./exact.js";
export { intersectBuckets } from "./multi-seed.js";
