// A per-thread memo of the input ids of out-of-vocabulary tokens: "<token>"'s char n-gram rows (after the pruning
// map of a quantized model). Vocabulary words have theirs precomputed at load time, but for a model like
// lid.176.ftz most tokens of real text are not in its small vocabulary, and hashing every n-gram of every
// occurrence was the largest cost of language ID. Text repeats its tokens (Zipf), so most occurrences hit.
// The ids are a pure function of the token bytes, so a hit gives exactly the ids a recomputation would.
// Memory is bounded (about 12 MB per model instance, i.e. per thread, created on first use): when the table or an
// arena is full, everything is dropped and filling starts again.

/** Tokens longer than this many bytes are not memoised (rare, and they would crowd the arenas). */
const MAX_TOKEN_BYTES = 64;
const SLOTS = 1 << 18; // open addressing, at most half full
const MAX_ENTRIES = SLOTS >> 1;
const BYTES_CAPACITY = 1 << 21;
const IDS_CAPACITY = 1 << 21;

export class SubwordCache {
  /** entry index per slot, -1 = empty */
  private readonly slots = new Int32Array(SLOTS).fill(-1);
  private readonly hashes = new Int32Array(MAX_ENTRIES);
  /** entry e: token bytes [byteStart[e], byteStart[e + 1]) and ids [idStart[e], idStart[e + 1]) */
  private readonly byteStart = new Int32Array(MAX_ENTRIES + 1);
  private readonly idStart = new Int32Array(MAX_ENTRIES + 1);
  private readonly bytes = new Uint8Array(BYTES_CAPACITY);
  readonly ids = new Int32Array(IDS_CAPACITY);
  private entries = 0;

  /** Entry of the token bytes[s, e) with (32-bit) hash h, or -1. */
  find(bytes: Uint8Array, s: number, e: number, h: number): number {
    const len = e - s;
    if (len > MAX_TOKEN_BYTES) return -1;
    const mask = SLOTS - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot]!;
      if (id === -1) return -1;
      if (this.hashes[id] !== (h | 0)) continue;
      const bs = this.byteStart[id]!;
      if (this.byteStart[id + 1]! - bs !== len) continue;
      let k = 0;
      while (k < len && this.bytes[bs + k] === bytes[s + k]) k++;
      if (k === len) return id;
    }
  }

  /** First and end index in `ids` of entry `id`'s input ids. */
  start(id: number): number {
    return this.idStart[id]!;
  }
  end(id: number): number {
    return this.idStart[id + 1]!;
  }

  /** Remember ids[a, b) for the token bytes[s, e) with hash h (after a find() that returned -1). */
  insert(bytes: Uint8Array, s: number, e: number, h: number, ids: Int32Array, a: number, b: number): void {
    const len = e - s;
    if (len > MAX_TOKEN_BYTES || b - a > IDS_CAPACITY) return;
    let id = this.entries;
    if (id === MAX_ENTRIES || this.byteStart[id]! + len > BYTES_CAPACITY || this.idStart[id]! + (b - a) > IDS_CAPACITY) {
      this.clear();
      id = 0;
    }
    // Plain loops: the runs are short, and subarray() views would allocate on every insert.
    const bs = this.byteStart[id]!;
    for (let k = 0; k < len; k++) this.bytes[bs + k] = bytes[s + k]!;
    this.byteStart[id + 1] = bs + len;
    const is = this.idStart[id]!;
    for (let k = a; k < b; k++) this.ids[is + k - a] = ids[k]!;
    this.idStart[id + 1] = is + (b - a);
    this.hashes[id] = h | 0;
    const mask = SLOTS - 1;
    let slot = h & mask;
    while (this.slots[slot] !== -1) slot = (slot + 1) & mask;
    this.slots[slot] = id;
    this.entries = id + 1;
  }

  private clear(): void {
    this.slots.fill(-1);
    this.entries = 0;
    this.byteStart[0] = 0;
    this.idStart[0] = 0;
  }
}
