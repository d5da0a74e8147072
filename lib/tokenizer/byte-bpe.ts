// Byte-level BPE over a tiktoken ranks table, in plain JS: the pieces the piece cache has not seen go through here
// instead of tiktoken's WASM encoder. tiktoken's call costs ~6-9 us per short piece (string copy into WASM memory,
// its own regex re-split, a fresh Uint32Array back); this merge loop costs well under 1 us on the same pieces.
//
// The merge rule is tiktoken's (byte_pair_merge): a piece that is itself a token is that token; otherwise start from
// single bytes and repeatedly join the adjacent pair whose concatenated bytes have the lowest rank, the leftmost pair
// on ties, until no adjacent concatenation is a token. Ranks are ids, so the result equals tiktoken's ids (tested on
// every document of real data sets against tiktoken and against the HF reference).
//
// Rank lookup is by byte span: the parts of a piece are always contiguous spans of its bytes, so "rank of the
// concatenation of parts i and i+1" is the rank of bytes[start_i, start_{i+2}) — one hash of a few bytes in an
// open-addressing table whose keys are the token bytes themselves (no JS strings, no pair table to build).

const NONE = 0x7fffffff; // "no rank" (ranks are < 2^31)

export class ByteBpe {
  /** bytes of every token, concatenated; token `id` is pool[off[id], off[id] + len[id]) (len -1: no such id) */
  private readonly pool: Uint8Array;
  private readonly off: Int32Array;
  private readonly len: Int32Array;
  /** open addressing, 2 int32 per slot: [hash, id + 1 (0 = empty)] */
  private readonly table: Int32Array;
  private readonly mask: number;
  /** merge scratch: part starts and the rank of each part joined with the next */
  private starts = new Int32Array(256);
  private ranks = new Int32Array(256);
  /** UTF-8 scratch for the piece being encoded */
  private buf = new Uint8Array(1024);
  readonly size: number;

  /** `ranks`: tiktoken's "base64 rank" lines; `specials`: special tokens (decode only, never produced by encode). */
  constructor(ranks: string, specials: Record<string, number>, where: string) {
    // One pass over the "base64 rank" lines, decoding base64 by hand straight into the pool: Buffer.from(slice) per
    // line made building the Llama-3 table cost ~0.6 s per thread.
    // Two layouts: "base64 rank" per line (.tiktoken files, converted tokenizer.json), and the tiktoken npm
    // package's packed one, "! first-rank base64 base64 ..." per line with consecutive ranks.
    let tokens = 0;
    for (let at = ranks.indexOf(" "); at >= 0; at = ranks.indexOf(" ", at + 1)) tokens++;
    const lineIds = new Int32Array(tokens + 1);
    const lineOff = new Int32Array(tokens + 1);
    const lineLen = new Int32Array(tokens + 1);
    const specialBytes = Object.entries(specials).map(([s, id]) => [Buffer.from(s, "utf8"), id] as const);
    const pool = new Uint8Array(((ranks.length * 3) >> 2) + specialBytes.reduce((a, [b]) => a + b.length, 0));
    let used = 0;
    let count = 0;
    let maxId = -1;
    const bad = (at: number) => new Error(`${where}: ranks line ${JSON.stringify(ranks.slice(at, at + 60).split("\n")[0])} is not "base64 rank"`);
    /** decode the base64 at `i` into the pool; returns the index after it */
    const token = (i: number, lineAt: number): number => {
      const begin = used;
      let acc = 0;
      let bits = 0;
      for (; i < ranks.length; i++) {
        const c = ranks.charCodeAt(i);
        const v = c < 128 ? B64[c]! : -1;
        if (v < 0) break;
        if (v === 64) continue; // '=' padding
        acc = ((acc << 6) | v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          pool[used++] = (acc >> bits) & 255;
        }
      }
      if (used === begin) throw bad(lineAt);
      lineOff[count] = begin;
      lineLen[count] = used - begin;
      return i;
    };
    /** the decimal number at `i`; returns [value, index after it] */
    const number = (i: number, lineAt: number): [number, number] => {
      let v = 0;
      const from = i;
      for (; i < ranks.length; i++) {
        const c = ranks.charCodeAt(i);
        if (c < 48 || c > 57) break;
        v = v * 10 + (c - 48);
        if (v >= NONE) throw bad(lineAt);
      }
      if (i === from) throw bad(lineAt);
      return [v, i];
    };
    const add = (id: number) => {
      lineIds[count++] = id;
      if (id > maxId) maxId = id;
    };
    for (let at = 0; at < ranks.length; ) {
      const c0 = ranks.charCodeAt(at);
      if (c0 === 10 || c0 === 13) {
        at++;
        continue;
      }
      let i: number;
      if (c0 === 33 && ranks.charCodeAt(at + 1) === 32) {
        let [id, j] = number(at + 2, at);
        i = j;
        while (ranks.charCodeAt(i) === 32) {
          i = token(i + 1, at);
          add(id++);
        }
      } else {
        i = token(at, at);
        if (ranks.charCodeAt(i) !== 32) throw bad(at);
        const [id, j] = number(i + 1, at);
        add(id);
        i = j;
      }
      if (ranks.charCodeAt(i) === 13) i++;
      if (i < ranks.length && ranks.charCodeAt(i) !== 10) throw bad(at);
      at = i + 1;
    }
    for (const [, id] of specialBytes) if (id > maxId) maxId = id;
    this.off = new Int32Array(maxId + 1);
    this.len = new Int32Array(maxId + 1).fill(-1);
    let slots = 1024;
    while (slots < count * 2) slots *= 2;
    this.table = new Int32Array(slots * 2);
    this.mask = slots - 1;
    this.pool = pool;
    for (let k = 0; k < count; k++) {
      const id = lineIds[k]!;
      const o = lineOff[k]!;
      const n = lineLen[k]!;
      if (this.len[id] !== -1) throw new Error(`${where}: rank ${id} appears twice`);
      if (this.rank(pool, o, o + n) !== NONE) throw new Error(`${where}: two ranks for the bytes of rank ${id}`);
      this.off[id] = o;
      this.len[id] = n;
      this.insert(hashBytes(pool, o, o + n), id);
    }
    const one = new Uint8Array(1);
    for (let b = 0; b < 256; b++) {
      one[0] = b;
      if (this.rank(one, 0, 1) === NONE) throw new Error(`${where}: no token for the single byte ${b}`);
    }
    // Specials decode to their text but are not in the rank table: text never encodes to a special token.
    for (const [b, id] of specialBytes) {
      if (this.len[id] !== -1) continue; // a special that is also an ordinary token keeps the ordinary bytes
      pool.set(b, used);
      this.off[id] = used;
      this.len[id] = b.length;
      used += b.length;
    }
    this.size = count;
  }

  private insert(h: number, id: number): void {
    const t = this.table;
    let slot = h & this.mask;
    while (t[(slot << 1) + 1] !== 0) slot = (slot + 1) & this.mask;
    t[slot << 1] = h;
    t[(slot << 1) + 1] = id + 1;
  }

  /** The rank (id) of the token whose bytes are b[start, end), or NONE. */
  rank(b: Uint8Array, start: number, end: number): number {
    const h = hashBytes(b, start, end);
    const t = this.table;
    const pool = this.pool;
    const n = end - start;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const v = t[(slot << 1) + 1]!;
      if (v === 0) return NONE;
      if (t[slot << 1] !== h) continue;
      const id = v - 1;
      if (this.len[id] !== n) continue;
      const o = this.off[id]!;
      let i = 0;
      while (i < n && pool[o + i] === b[start + i]) i++;
      if (i === n) return id;
    }
  }

  /** Append the ids of text[pos, end) (one pre-split piece) to out at `at`; returns the count. out must have room
   * for end - pos ids... times 3 (a UTF-16 unit is at most 3 UTF-8 bytes, one id per byte at worst). */
  encodePiece(text: string, pos: number, end: number, out: Uint32Array, at: number): number {
    if ((end - pos) * 3 > this.buf.length) this.buf = new Uint8Array((end - pos) * 3 * 2);
    const n = utf8(text, pos, end, this.buf);
    return this.encodeBytes(this.buf, n, out, at);
  }

  /** Ids of b[0, n) as one piece, written to out from `at` (room for n ids needed); returns the count. */
  encodeBytes(b: Uint8Array, n: number, out: Uint32Array, at: number): number {
    const whole = this.rank(b, 0, n);
    if (whole !== NONE) {
      out[at] = whole;
      return 1;
    }
    if (n + 1 > this.starts.length) {
      this.starts = new Int32Array((n + 1) * 2);
      this.ranks = new Int32Array((n + 1) * 2);
    }
    const starts = this.starts;
    const ranks = this.ranks;
    // parts 0..m-1 are the tokens so far; starts[m] = n closes the last one; ranks[i] = rank of parts i + (i+1)
    let m = n;
    for (let i = 0; i < n; i++) starts[i] = i;
    starts[n] = n;
    for (let i = 0; i < n - 1; i++) ranks[i] = this.rank(b, i, i + 2);
    ranks[n - 1] = NONE;
    for (;;) {
      let min = NONE;
      let k = -1;
      for (let i = 0; i < m - 1; i++) {
        if (ranks[i]! < min) {
          min = ranks[i]!;
          k = i;
        }
      }
      if (k < 0) break;
      // join parts k and k+1: drop start k+1, then re-rank the pairs around the new part
      for (let i = k + 1; i < m; i++) {
        starts[i] = starts[i + 1]!;
        ranks[i] = ranks[i + 1]!;
      }
      m--;
      ranks[k] = k + 1 < m ? this.rank(b, starts[k]!, starts[k + 2]!) : NONE;
      if (k > 0) ranks[k - 1] = this.rank(b, starts[k - 1]!, starts[k + 1]!);
    }
    for (let i = 0; i < m; i++) {
      const id = this.rank(b, starts[i]!, starts[i + 1]!);
      if (id === NONE) throw new Error("byte-level BPE: a part without a rank (vocabulary lacks a single byte?)");
      out[at + i] = id;
    }
    return m;
  }

  /** The bytes of `ids` (ordinary and special tokens); throws on an id with no token. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const n = id >= 0 && id < this.len.length ? this.len[id]! : -1;
      if (n < 0) throw new Error(`decode: token id ${id} has no token in the vocabulary`);
      total += n;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      out.set(this.pool.subarray(this.off[id]!, this.off[id]! + this.len[id]!), at);
      at += this.len[id]!;
    }
    return out;
  }
}

/** base64 digit values; 64 for '=', -1 for anything else */
const B64 = (() => {
  const t = new Int8Array(128).fill(-1);
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) t[abc.charCodeAt(i)] = i;
  t[61] = 64;
  return t;
})();

function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 12);
}

/** UTF-8 of s[pos, end) into out (room for 3 bytes per code unit); lone surrogates become U+FFFD, as TextEncoder
 * (and so tiktoken's string passing) does. Returns the byte count. */
export function utf8(s: string, pos: number, end: number, out: Uint8Array): number {
  let n = 0;
  for (let i = pos; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < end ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        out[n++] = 0xf0 | (cp >> 18);
        out[n++] = 0x80 | ((cp >> 12) & 63);
        out[n++] = 0x80 | ((cp >> 6) & 63);
        out[n++] = 0x80 | (cp & 63);
        i++;
        continue;
      }
      c = 0xfffd;
    }
    out[n++] = 0xe0 | (c >> 12);
    out[n++] = 0x80 | ((c >> 6) & 63);
    out[n++] = 0x80 | (c & 63);
  }
  return n;
}
