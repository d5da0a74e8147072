// 13-gram benchmark decontamination: the normalization (normalize.ts), 64-bit n-gram hashing (hash.ts), the
// shipped/buildable index (ngram-index.ts, index-set.ts), the matcher, and the pipeline stage.
export { NORMALIZATION_ID, foldText, DROPPED_COMMANDS, COMMAND_ALIASES } from "./normalize.js";
export { HASH_ID, TokenizedText, normalizeTokens, forEachNgram } from "./hash.js";
export {
  BUILTIN_BENCHMARKS, loadBuiltinBenchmarks, loadExtraBenchmark, readJsonl as readBenchmarkJsonl,
  type Benchmark, type BenchmarkItem, type ExtraBenchmarkOptions,
} from "./benchmarks.js";
export {
  NgramIndex, MIN_PROSE_WORDS, MIN_SHORT_ITEM_TOKENS, FORMAT_VERSION as DECONT_INDEX_VERSION,
  type BenchmarkInfo, type ItemRef, type SharedIndex,
} from "./ngram-index.js";
export { loadIndexSet, shippedIndexPath, type IndexSet, type IndexSetOptions } from "./index-set.js";
export { Matcher, type Match, type MatchOptions } from "./matcher.js";
export { decontaminateStage, writeReport, sidecarName, REPORT_DIR, type DecontaminateOptions, type ReportRow } from "./stage.js";
