// Deterministic permutations for shuffling documents inside a token file: same seed + same name => same order on
// every machine and whatever the worker count (the order is decided after tokenization, from the document count).
import { createHash } from "node:crypto";

/** xoshiro128** seeded from sha256(seed, salt). */
export function seededRandom(seed: number | string, salt = ""): () => number {
  const h = createHash("sha256").update(`${seed}\0${salt}`).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
    return r / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, seed: number | string, salt = ""): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rnd = seededRandom(seed, salt);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
