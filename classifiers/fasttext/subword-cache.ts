// A per-thread memo of the input ids of tokens, for models with char n-grams (maxn > 0): the token's own row when
// it is in the vocabulary, then "<token>"'s char n-gram rows (after the pruning map of a quantized model). For a
// model like lid.176.ftz most tokens of real text are not in its small vocabulary, and hashing every n-gram of
// every occurrence was the largest cost of language ID; text repeats its tokens (Zipf), so most occurrences hit.
// Dictionary.addToken asks the memo first, for every token (one probe instead of a vocabulary probe and then a
// memo probe: 16% less CPU for language ID). The ids are a pure function of the token bytes, so a hit gives
// exactly the ids a recomputation would. Label tokens are never stored (they add no input rows).
//
// Layout, for few cache misses per lookup (a lookup is per token, so this is the hot path of language ID): the slot
// table holds (hash, entry) pairs, so a probe that meets another token's slot usually reads no further than that
// cache line; an entry is one contiguous run of the arena: [byte length, id count, token bytes packed 4 per int,
// ids]. (Six parallel arrays, one per field, cost six cache misses per hit and made lookups 1.4x slower.)
// Memory is bounded (about 20 MB per model instance, i.e. per thread, created on first use): when the table or
// the arena is full, everything is dropped and filling starts again. Half that size made language ID 1.5x slower
// on the bench corpus (more drops), twice that size was no faster.

/** Tokens longer than this many bytes are not memoised (rare, and they would crowd the arena). */
const MAX_TOKEN_BYTES = 64;
const SLOTS = 1 << 19; // open addressing, at most half full
const MAX_ENTRIES = SLOTS >> 1;
const ARENA_INTS = 1 << 22;
const EMPTY = -1;

export class SubwordCache {
  /** slot k: [2k] the token's 32-bit hash, [2k + 1] its entry's offset in the arena or EMPTY */
  private readonly slots = new Int32Array(2 * SLOTS).fill(EMPTY);
  /** the entries; public as `ids`: the ids of entry e are ids[start(e), end(e)) */
  readonly ids = new Int32Array(ARENA_INTS);
  private readonly bytes = new Uint8Array(this.ids.buffer);
  private used = 0;
  private entries = 0;

  /** Entry of the token bytes[s, e) with (32-bit) hash h, or -1. */
  find(bytes: Uint8Array, s: number, e: number, h: number): number {
    const len = e - s;
    if (len > MAX_TOKEN_BYTES) return -1;
    const slots = this.slots, arena = this.ids, stored = this.bytes;
    const mask = SLOTS - 1;
    h |= 0;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = slot << 1;
      const entry = slots[at + 1]!;
      if (entry === EMPTY) return -1;
      if (slots[at] !== h || arena[entry] !== len) continue;
      const bs = (entry + 2) << 2;
      let k = 0;
      while (k < len && stored[bs + k] === bytes[s + k]) k++;
      if (k === len) return entry;
    }
  }

  /** First and end index in `ids` of entry `entry`'s input ids. */
  start(entry: number): number {
    return entry + 2 + ((this.ids[entry]! + 3) >> 2);
  }
  end(entry: number): number {
    return this.start(entry) + this.ids[entry + 1]!;
  }

  /** Remember ids[a, b) for the token bytes[s, e) with hash h (after a find() that returned -1). */
  insert(bytes: Uint8Array, s: number, e: number, h: number, ids: Int32Array, a: number, b: number): void {
    const len = e - s;
    const size = 2 + ((len + 3) >> 2) + (b - a);
    if (len > MAX_TOKEN_BYTES || size > ARENA_INTS) return;
    if (this.entries === MAX_ENTRIES || this.used + size > ARENA_INTS) this.clear();
    const entry = this.used;
    const arena = this.ids;
    arena[entry] = len;
    arena[entry + 1] = b - a;
    // Plain loops: the runs are short, and subarray() views would allocate on every insert.
    const bs = (entry + 2) << 2;
    for (let k = 0; k < len; k++) this.bytes[bs + k] = bytes[s + k]!;
    const is = this.start(entry);
    for (let k = a; k < b; k++) arena[is + k - a] = ids[k]!;
    this.used += size;
    this.entries++;
    const slots = this.slots;
    const mask = SLOTS - 1;
    let slot = h & mask;
    while (slots[(slot << 1) + 1] !== EMPTY) slot = (slot + 1) & mask;
    slots[slot << 1] = h | 0;
    slots[(slot << 1) + 1] = entry;
  }

  private clear(): void {
    this.slots.fill(EMPTY);
    this.used = 0;
    this.entries = 0;
  }
}
