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

/** x mod m for integers 0 <= x < 2^53 via a float division and one correction step (exact). */
export function modSmall(x: number, m: number): number {
  let r = x - Math.floor(x / m) * m;
  if (r < 0) r += m;
  else if (r >= m) r -= m;
  return r;
}

/** A uint64 as two uint32 halves; mutable scratch so the hot loop allocates nothing. */
export class U64 {
  hi = 0;
  lo = 0;
  /** h = (uint64)(int64)(int32)x — fastText keeps word hashes in a vector<int32_t> and widens them signed. */
  setSigned(x: number): void {
    this.lo = x >>> 0;
    this.hi = (x | 0) < 0 ? 0xffffffff : 0;
  }
  /** h = h * 116049371 + (uint64)(int64)(int32)x, modulo 2^64. No floating-point modulo (fmod is a slow call). */
  mulAdd(x: number): void {
    const lo = this.lo;
    // low 32 bits of lo * MULT, and the carry into the high word: lo = lh * 2^16 + ll, every product < 2^43.
    let newLo = Math.imul(lo, MULT) >>> 0;
    const carry = Math.floor(((lo >>> 16) * MULT + Math.floor(((lo & 0xffff) * MULT) / 65536)) / 65536);
    let newHi = (Math.imul(this.hi, MULT) + carry) >>> 0;
    newLo += x >>> 0;
    if (newLo >= TWO32) {
      newLo -= TWO32;
      newHi = (newHi + 1) >>> 0;
    }
    this.lo = newLo;
    this.hi = (x | 0) < 0 ? (newHi + 0xffffffff) >>> 0 : newHi;
  }
  /** h % m for 0 < m < 2^31, as three exact reductions of numbers below 2^48. */
  mod(m: number): number {
    const r = modSmall(this.hi, m);
    const t = modSmall(r * 65536 + (this.lo >>> 16), m);
    return modSmall(t * 65536 + (this.lo & 0xffff), m);
  }
}
