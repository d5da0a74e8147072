// murmur3's 32-bit finalizer: the one mixing step shared by the word, shingle and band-key hashes (its own file so
// that minhash.ts and utf8-words.ts can both use it without importing each other).
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
