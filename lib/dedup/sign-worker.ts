// Stage 1's worker thread (--workers N): the band keys (or, with --exact, the exact key) of every document of one
// batch, from its packed UTF-8 texts. The main thread keeps reading, recording priorities and ids, and sorting and
// writing the runs in batch order, so the files are byte-identical whatever N (orderedMap keeps the order).
import { MinHasher } from "./minhash.js";
import { exactKey, exactKeyUtf8 } from "./exact.js";
import type { DedupParams } from "./params.js";

export interface SignTask {
  params: DedupParams;
  bytes: Uint8Array;
  offsets: Int32Array;
}

/** keys: per document `width` words (MinHash: bands × (hi, lo); exact: hi, lo, partition); ok: 0 = too short. */
export interface SignResult {
  keys: Uint32Array;
  ok: Uint8Array;
}

let cached: { key: string; hasher: MinHasher } | null = null;
const dec = new TextDecoder("utf-8");

export function keyWidth(p: DedupParams): number {
  return p.exact ? 3 : 2 * p.bands;
}

export default function sign(t: SignTask): SignResult {
  const p = t.params, n = t.offsets.length - 1, w = keyWidth(p);
  const keys = new Uint32Array(n * w);
  const ok = new Uint8Array(n);
  if (p.exact) {
    const k = new Uint32Array(3);
    for (let i = 0; i < n; i++) {
      let r = exactKeyUtf8(t.bytes, t.offsets[i], t.offsets[i + 1], p.bands, k);
      if (r < 0) r = exactKey(dec.decode(t.bytes.subarray(t.offsets[i], t.offsets[i + 1])), p.bands, k) ? 1 : 0;
      if (r === 0) continue;
      ok[i] = 1;
      keys.set(k, i * 3);
    }
    return { keys, ok };
  }
  const key = JSON.stringify([p.bands, p.rows, p.ngram, p.seed]);
  if (cached?.key !== key) cached = { key, hasher: new MinHasher(p) };
  const h = cached.hasher;
  const sig = new Uint32Array(h.numHashes);
  for (let i = 0; i < n; i++) {
    if (!h.signatureUtf8(t.bytes, t.offsets[i], t.offsets[i + 1], sig)) continue;
    ok[i] = 1;
    for (let b = 0; b < p.bands; b++) h.bandKey(sig, b, keys, i * w + 2 * b);
  }
  return { keys, ok };
}
