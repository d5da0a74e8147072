// Membership in a sample is decided by a hash of (seed, document id), mapped to a uniform number in [0, 1).
// Every shard computes the same number for the same document, so shards sample without talking to each other, and
// the same seed gives the same sample whatever the sharding or file order.

/** Two independent 32-bit murmur3-style hashes over the UTF-16 code units, combined into 53 bits. */
export function hashUnit(id: string, seed: number): number {
  let h1 = (0x9e3779b9 ^ seed) >>> 0;
  let h2 = (0x85ebca6b ^ Math.imul(seed, 0x27d4eb2f)) >>> 0;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0xcc9e2d51);
    h1 = Math.imul((h1 << 15) | (h1 >>> 17), 0x1b873593);
    h2 = Math.imul(h2 ^ c, 0x1b873593);
    h2 = Math.imul((h2 << 13) | (h2 >>> 19), 0xcc9e2d51);
  }
  h1 = fmix(h1 ^ id.length);
  h2 = fmix(h2 ^ Math.imul(id.length, 0x9e3779b9));
  return ((h1 >>> 0) * 2 ** 21 + (h2 >>> 11)) / 2 ** 53;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
