// Building the benchmark n-gram index from benchmark items (NgramIndex.build): every word n-gram of an item with
// enough prose words, and items or questions shorter than n tokens as whole spans. Deterministic: the same items give
// the same entries in the same order, so the shipped index file is byte-identical when rebuilt.
import { TokenizedText, forEachNgram, hashSpan } from "./hash.js";
import type { Benchmark } from "./benchmarks.js";
import type { BenchmarkInfo, ShortEntry } from "./index-types.js";
import { sharedU32, type IndexParts } from "./index-file.js";

/**
 * An n-gram needs this many prose words (letter tokens of 2+ characters that are not LaTeX command names) to be
 * indexed. Pure notation — "x 8 x 7 x 6 …" polynomial runs, identity matrices, runs of 1s — recurs across unrelated
 * math texts and identifies no benchmark item: on the peer corpus all 16 non-planted hits were of this kind.
 */
export const MIN_PROSE_WORDS = 3;
/** Items shorter than this many tokens are too generic to match whole ("what is 2 + 3") and are skipped. */
export const MIN_SHORT_ITEM_TOKENS = 8;

/**
 * A whole item or question with few prose words is still specific when its numbers are ("Determine the remainder of
 * 54 (mod 6).", "Compute: $1-2+3-4+ \dots +99-100$."): matched whole, numbers kept, it needs this many tokens, at least
 * one prose word (so a run of numbers, a numeric table row, never matches), two distinct numbers, and prose words +
 * distinct numbers >= MIN_NOTATION_INFORMATIVE. Datatrove's digits-to-0 normalization is what made numeric tables
 * match (4,848 false hits on the peer corpus, ../shared/research/peer-baselines.md); numbers kept, they cannot.
 */
export const MIN_NOTATION_TOKENS = 6;
export const MIN_NOTATION_INFORMATIVE = 4;
/**
 * An item of n+ tokens whose every n-gram is notation gets its question (or itself) indexed whole up to this many
 * tokens; the scan extends each candidate span up to the longest indexed length, so the bound keeps it cheap.
 */
export const MAX_WHOLE_TOKENS = 32;

/** Key of the token pair starting a short entry; a document position is a candidate only when its pair matches. */
export function headKey(a0: number, a1: number): number {
  return (a0 ^ Math.imul(a1, 0x27d4eb2d)) >>> 16;
}

/** Build from benchmark items. Deterministic: entries sorted by (hash, item). */
export function buildIndexParts(benchmarks: Benchmark[], n = 13): IndexParts {
  const tok = new TokenizedText();
  let his: number[] = [];
  let los: number[] = [];
  let refs: number[] = [];
  const short: ShortEntry[] = [];
  const shortSeen = new Set<string>();
  const infos: BenchmarkInfo[] = [];
  const names = new Set<string>();
  let ref = 0;
  const proseSum = (from: number, len: number): number => {
    let p = 0;
    for (let j = from; j < from + len; j++) p += tok.prose[j];
    return p;
  };
  // Numbers and notation make a whole span specific (see MIN_NOTATION_TOKENS).
  const notationSpecific = (): boolean => {
    if (tok.count < MIN_NOTATION_TOKENS) return false;
    const prose = proseSum(0, tok.count);
    if (prose < 1) return false;
    const numbers = new Set<string>();
    for (let j = 0; j < tok.count; j++) {
      const t = tok.token(j);
      if (/^[0-9]+$/.test(t)) numbers.add(t);
    }
    return numbers.size >= 2 && prose + numbers.size >= MIN_NOTATION_INFORMATIVE;
  };
  // A whole item or query shorter than n tokens (or, `notationOnly`, one whose n-grams are all notation, up to
  // MAX_WHOLE_TOKENS): indexed as one span when specific enough, by its prose words or by its numbers.
  const addShort = (text: string, r: number, notationOnly = false): "indexed" | "notation" | "skipped" | "long" => {
    tok.load(text);
    if (tok.count >= n && !(notationOnly && tok.count <= MAX_WHOLE_TOKENS)) return "long";
    let kind: "indexed" | "notation";
    if (tok.count >= MIN_SHORT_ITEM_TOKENS && proseSum(0, tok.count) >= MIN_PROSE_WORDS) kind = "indexed";
    else if (notationSpecific()) kind = "notation";
    else return "skipped";
    const [h, l] = hashSpan(tok, 0, tok.count);
    const key = `${tok.count}:${h}:${l}:${r}`;
    if (!shortSeen.has(key)) {
      shortSeen.add(key);
      short.push({ len: tok.count, hi: h, lo: l, ref: r, head: headKey(tok.hashA[0], tok.hashA[1]) });
    }
    return kind;
  };
  for (const b of benchmarks) {
    if (names.has(b.name)) throw new Error(`benchmark "${b.name}" given twice`);
    names.add(b.name);
    let shortIndexed = 0;
    let shortSkipped = 0;
    let notation = 0;
    let noNgrams = 0;
    let notationWhole = 0;
    const count = (k: ReturnType<typeof addShort>, skippedToo: boolean) => {
      if (k === "indexed" || k === "notation") shortIndexed++;
      else if (skippedToo) shortSkipped++;
      if (k === "notation") notationWhole++;
    };
    for (const item of b.items) {
      let pushed = 0;
      let longest = 0;
      let longestText = "";
      for (const text of item.texts) {
        tok.load(text);
        if (tok.count > longest) {
          longest = tok.count;
          longestText = text;
        }
        // Rolling count of prose words in the window.
        let prose = 0;
        for (let j = 0; j < Math.min(n, tok.count); j++) prose += tok.prose[j];
        forEachNgram(tok, n, (h, l, pos) => {
          if (pos > 0) prose += tok.prose[pos + n - 1] - tok.prose[pos - 1];
          if (prose < MIN_PROSE_WORDS) {
            notation++;
            return;
          }
          // Repeats within an item are removed after sorting (exactly, on both lanes).
          pushed++;
          his.push(h);
          los.push(l);
          refs.push(ref);
        });
      }
      if (longest < n) count(addShort(longestText, ref), true);
      else if (item.query) count(addShort(item.query, ref, !pushed), false);
      else if (!pushed) count(addShort(longestText, ref, true), false);
      if (!pushed && longest >= n) noNgrams++;
      ref++;
    }
    const ids = b.items.map((it) => it.id);
    const plain = ids.every((id, i) => id === String(i));
    infos.push({
      name: b.name, source: b.source, items: b.items.length, ...(plain ? {} : { ids }), ngrams: 0,
      notationNgrams: notation, itemsWithoutNgrams: noNgrams, shortIndexed, shortSkipped, notationWhole,
    });
  }
  const order = Array.from({ length: his.length }, (_, i) => i);
  order.sort((a, b) => his[a] - his[b] || los[a] - los[b] || refs[a] - refs[b]);
  // Drop exact (hash, item) repeats that the per-item double key could conflate (kept sorted and unique).
  const keep = order.filter((i, k) => k === 0 || his[i] !== his[order[k - 1]] || los[i] !== los[order[k - 1]] || refs[i] !== refs[order[k - 1]]);
  const keys = sharedU32(2 * keep.length);
  const rf = sharedU32(keep.length);
  keep.forEach((i, k) => {
    keys[2 * k] = his[i];
    keys[2 * k + 1] = los[i];
    rf[k] = refs[i];
  });
  his = los = refs = [];
  // Entries per benchmark: item refs are numbered benchmark after benchmark.
  const refBench = new Uint16Array(ref);
  let base = 0;
  infos.forEach((info, k) => {
    refBench.fill(k, base, base + info.items);
    base += info.items;
  });
  for (let i = 0; i < rf.length; i++) infos[refBench[rf[i]]].ngrams++;
  short.sort((a, b) => a.len - b.len || a.hi - b.hi || a.lo - b.lo || a.ref - b.ref);
  return { n, benchmarks: infos, keys, ref: rf, short };
}
