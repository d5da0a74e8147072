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

/**
 * x mod m for integers x >= 0, m >= 1 with x + m < 2^53, given inv = 1 / m: a multiplication instead of a
 * division (a division was the slow step of the word n-gram hashes, three per n-gram). The rounded product x * inv
 * is within one of x / m (two roundings of relative size 2^-53 on a quotient below 2^52), so floor() is off by at
 * most one and the single correction step makes r exact; q * m <= x + m < 2^53 is exact too.
 */
export function modInv(x: number, m: number, inv: number): number {
  let r = x - Math.floor(x * inv) * m;
  if (r < 0) r += m;
  else if (r >= m) r -= m;
  return r;
}

/** Buckets below this take the two-step reduction in U64.mod: (hi mod m) * 2^32 + lo + m stays below 2^53. */
const TWO_STEP_LIMIT = 2 ** 21;

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
  /**
   * h % m for 0 < m < 2^31 (inv = 1 / m, precomputed by callers in a loop): for m < 2^21, which covers fastText's
   * default 2M buckets, two exact reductions ((hi mod m) * 2^32 + lo < 2^53); otherwise three, 16 bits at a time.
   */
  mod(m: number, inv = 1 / m): number {
    const r = modInv(this.hi, m, inv);
    if (m < TWO_STEP_LIMIT) return modInv(r * 4294967296 + this.lo, m, inv);
    const t = modInv(r * 65536 + (this.lo >>> 16), m, inv);
    return modInv(t * 65536 + (this.lo & 0xffff), m, inv);
  }
}
