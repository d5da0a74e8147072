// The encoder's cache of pieces already tokenized, keyed by the piece's UTF-16 code units read straight from the
// document (text, start, end): no substring and no string hashing per lookup, which a Map<string, ...> needs and
// which was the other half of the encoder's time. Open addressing with linear probing; keys in one Uint16Array
// pool, ids inline for single-token pieces (the common case) and in an Int32Array pool otherwise. When it holds
// `maxEntries` pieces it is emptied (bounded memory on adversarial text), as the Map it replaces was.

export class PieceCache {
  private slots: Int32Array; // entry index + 1, 0 = empty
  private mask: number;
  private hashes: Int32Array;
  private keyAt: Int32Array;
  private keyLen: Int32Array;
  /** >= 0: the one id; < 0: -(offset + 1) into ids, where ids[offset] is the count */
  private value: Int32Array;
  private keys: Uint16Array;
  private keysUsed = 0;
  private ids: Uint32Array;
  private idsUsed = 0;
  size = 0;
  /** ids of the last `get` hit with several ids: ids.subarray(multiAt, multiAt + multiLen) */
  multi: Uint32Array;
  multiAt = 0;
  multiLen = 0;

  constructor(private readonly maxEntries: number) {
    const cap = 1 << 12;
    this.slots = new Int32Array(cap * 2);
    this.mask = cap * 2 - 1;
    this.hashes = new Int32Array(cap);
    this.keyAt = new Int32Array(cap);
    this.keyLen = new Int32Array(cap);
    this.value = new Int32Array(cap);
    this.keys = new Uint16Array(cap * 8);
    this.ids = new Uint32Array(cap);
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
    const keys = this.keys;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const e = this.slots[slot]! - 1;
      if (e < 0) return -2;
      if (this.hashes[e] !== h || this.keyLen[e] !== len) continue;
      const at = this.keyAt[e]!;
      let i = 0;
      while (i < len && keys[at + i] === s.charCodeAt(start + i)) i++;
      if (i < len) continue;
      const v = this.value[e]!;
      if (v >= 0) return v;
      const o = -v - 1;
      this.multi = this.ids;
      this.multiAt = o + 1;
      this.multiLen = this.ids[o]!;
      return -1;
    }
  }

  set(s: string, start: number, end: number, h: number, ids: Uint32Array): void {
    if (this.size >= this.maxEntries) this.clear();
    if (this.size >= this.hashes.length) this.growEntries();
    if (this.size + 1 > this.slots.length >> 1) this.growSlots(); // load factor <= 1/2
    const len = end - start;
    if (this.keysUsed + len > this.keys.length) this.keys = grow16(this.keys, this.keysUsed + len);
    const e = this.size++;
    this.hashes[e] = h;
    this.keyAt[e] = this.keysUsed;
    this.keyLen[e] = len;
    for (let i = 0; i < len; i++) this.keys[this.keysUsed + i] = s.charCodeAt(start + i);
    this.keysUsed += len;
    if (ids.length === 1) this.value[e] = ids[0]!;
    else {
      if (this.idsUsed + ids.length + 1 > this.ids.length) this.ids = grow32(this.ids, this.idsUsed + ids.length + 1);
      this.ids[this.idsUsed] = ids.length;
      this.ids.set(ids, this.idsUsed + 1);
      this.value[e] = -(this.idsUsed + 1);
      this.idsUsed += ids.length + 1;
    }
    this.insertSlot(e, h);
  }

  clear(): void {
    this.slots.fill(0);
    this.size = 0;
    this.keysUsed = 0;
    this.idsUsed = 0;
  }

  private insertSlot(e: number, h: number): void {
    let slot = h & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = e + 1;
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    const g = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.hashes = g(this.hashes);
    this.keyAt = g(this.keyAt);
    this.keyLen = g(this.keyLen);
    this.value = g(this.value);
  }

  private growSlots(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let e = 0; e < this.size; e++) this.insertSlot(e, this.hashes[e]!);
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
