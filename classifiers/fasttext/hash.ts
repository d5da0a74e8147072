// fastText's hashing, bit for bit: FNV-1a over bytes where each byte is first sign-extended as a C `char`
// (int8), and the word n-gram combination done in unsigned 64-bit arithmetic, emulated here with 32-bit halves.

/** Dictionary::hash over bytes[start, end). Returns the uint32 hash. */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = 2166136261 | 0;
  for (let i = start; i < end; i++) {
    h ^= (bytes[i]! << 24) >> 24; // int8 sign extension, as fastText's uint32_t(int8_t(c))
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const MULT = 116049371;
const TWO32 = 4294967296;

/** A uint64 as two uint32 halves; mutable scratch so the hot loop allocates nothing. */
export class U64 {
  hi = 0;
  lo = 0;
  /** h = (uint64)(int64)(int32)x — fastText keeps word hashes in a vector<int32_t> and widens them signed. */
  setSigned(x: number): void {
    this.lo = x >>> 0;
    this.hi = (x | 0) < 0 ? 0xffffffff : 0;
  }
  /** h = h * 116049371 + (uint64)(int64)(int32)x, modulo 2^64. */
  mulAdd(x: number): void {
    const lo = this.lo;
    const ll = lo & 0xffff;
    const lh = lo >>> 16;
    const a = ll * MULT; // < 2^43, exact
    const b = lh * MULT; // < 2^43, exact
    const t = a + (b % 65536) * 65536; // < 2^44, exact
    let newLo = t % TWO32;
    const carry = Math.floor(t / TWO32) + Math.floor(b / 65536);
    let newHi = (Math.imul(this.hi, MULT) + carry) >>> 0;
    const xlo = x >>> 0;
    const xhi = (x | 0) < 0 ? 0xffffffff : 0;
    newLo += xlo;
    if (newLo >= TWO32) {
      newLo -= TWO32;
      newHi = (newHi + 1) >>> 0;
    }
    this.lo = newLo;
    this.hi = (newHi + xhi) >>> 0;
  }
  /** h % m for 0 < m < 2^31. */
  mod(m: number): number {
    let r = this.hi % m;
    r = (r * 65536) % m;
    r = (r * 65536) % m;
    return (r + this.lo) % m;
  }
}
