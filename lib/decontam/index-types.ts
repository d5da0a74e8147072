// The records an index file holds per benchmark and per whole-item entry, in a file of their own so that the index,
// its builder and its file format share them without importing each other.
export interface BenchmarkInfo {
  name: string;
  source: string;
  items: number;
  /** Item ids; absent when they are the row numbers 0..items-1. */
  ids?: string[];
  /** Index entries (distinct n-gram, item pairs) contributed. */
  ngrams: number;
  /** N-grams not indexed because they have fewer than MIN_PROSE_WORDS prose words (pure notation). */
  notationNgrams: number;
  /** Items of n+ tokens left with no indexed n-gram (all notation); they can only match via their query. */
  itemsWithoutNgrams: number;
  /** Items shorter than n tokens indexed whole, and items skipped for having fewer than MIN_SHORT_ITEM_TOKENS. */
  shortIndexed: number;
  shortSkipped: number;
  /** Of shortIndexed: whole items/questions admitted for their numbers (index-build.ts MIN_NOTATION_TOKENS);
   * absent in indexes built before that rule. */
  notationWhole?: number;
}

export interface ShortEntry {
  len: number;
  hi: number;
  lo: number;
  ref: number;
  /** Prefilter key of the first two tokens (see headKey). */
  head: number;
}
