// The encoder's cache of pieces already tokenized, keyed by the piece's UTF-16 code units read straight from the
// document (text, start, end): no substring and no string hashing per lookup, which a Map<string, ...> needs and
// which was the other half of the encoder's time. Open addressing with linear probing; keys in one Uint16Array
// pool, ids inline for single-token pieces (the common case) and in an Int32Array pool otherwise. When it holds
// `maxEntries` pieces it is emptied (bounded memory on adversarial text), as the Map it replaces was.

export class PieceCache {
  /** open-addressing table, 4 int32 per slot: [hash, key offset, key length (0 = empty), value] — one cache line
   * per probe (separate arrays per field cost a cache miss each: measured 1.4x slower on the warm path) */
  private table: Int32Array;
  private mask: number; // slots - 1
  private keys: Uint16Array;
  private keysUsed = 0;
  private ids: Uint32Array;
  private idsUsed = 0;
  size = 0;
  /** ids of the last `get` hit with several ids: multi[multiAt .. multiAt + multiLen) */
  multi: Uint32Array;
  multiAt = 0;
  multiLen = 0;

  constructor(private readonly maxEntries: number) {
    this.table = new Int32Array(4 << 13);
    this.mask = (1 << 13) - 1;
    this.keys = new Uint16Array(1 << 15);
    this.ids = new Uint32Array(1 << 12);
    this.multi = this.ids;
  }

  static hash(s: string, start: number, end: number): number {
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h ^= h >>> 15;
    return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 12);
  }

  /** The id of a single-token piece (>= 0), -1 when the piece has several ids (then read `multi`), -2 if absent. */
  get(s: string, start: number, end: number, h: number): number {
    const len = end - start;
    const t = this.table;
    const keys = this.keys;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const o = slot << 2;
      const l = t[o + 2]!;
      if (l === 0) return -2;
      if (t[o] !== h || l !== len) continue;
      const at = t[o + 1]!;
      let i = 0;
      while (i < len && keys[at + i] === s.charCodeAt(start + i)) i++;
      if (i < len) continue;
      const v = t[o + 3]!;
      if (v >= 0) return v;
      const m = -v - 1;
      this.multi = this.ids;
      this.multiAt = m + 1;
      this.multiLen = this.ids[m]!;
      return -1;
    }
  }

  set(s: string, start: number, end: number, h: number, ids: Uint32Array): void {
    if (this.size >= this.maxEntries) this.clear();
    if (this.size + 1 > (this.mask + 1) >> 1) this.growTable(); // load factor <= 1/2
    const len = end - start;
    if (len === 0) return;
    if (this.keysUsed + len > this.keys.length) this.keys = grow16(this.keys, this.keysUsed + len);
    const at = this.keysUsed;
    for (let i = 0; i < len; i++) this.keys[at + i] = s.charCodeAt(start + i);
    this.keysUsed += len;
    let v: number;
    if (ids.length === 1) v = ids[0]!;
    else {
      if (this.idsUsed + ids.length + 1 > this.ids.length) this.ids = grow32(this.ids, this.idsUsed + ids.length + 1);
      this.ids[this.idsUsed] = ids.length;
      this.ids.set(ids, this.idsUsed + 1);
      v = -(this.idsUsed + 1);
      this.idsUsed += ids.length + 1;
    }
    this.insert(this.table, this.mask, h, at, len, v);
    this.size++;
  }

  clear(): void {
    this.table.fill(0);
    this.size = 0;
    this.keysUsed = 0;
    this.idsUsed = 0;
  }

  private insert(t: Int32Array, mask: number, h: number, at: number, len: number, v: number): void {
    let slot = h & mask;
    while (t[(slot << 2) + 2] !== 0) slot = (slot + 1) & mask;
    const o = slot << 2;
    t[o] = h;
    t[o + 1] = at;
    t[o + 2] = len;
    t[o + 3] = v;
  }

  private growTable(): void {
    const old = this.table;
    const slots = (this.mask + 1) * 2;
    this.table = new Int32Array(slots * 4);
    this.mask = slots - 1;
    for (let o = 0; o < old.length; o += 4) if (old[o + 2] !== 0) this.insert(this.table, this.mask, old[o]!, old[o + 1]!, old[o + 2]!, old[o + 3]!);
  }
}

function grow16(a: Uint16Array, min: number): Uint16Array {
  let n = a.length * 2;
  while (n < min) n *= 2;
  const b = new Uint16Array(n);
  b.set(a);
  return b;
}

function grow32(a: Uint32Array, min: number): Uint32Array {
  let n = a.length * 2;
  while (n < min) n *= 2;
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}
