// Stable LSD radix sort of 64-bit keys given as (hi, lo) uint32 pairs: 4 passes of 16-bit counting sort.
// Signature records are produced in row order, so a stable sort by key yields (key, row) order, which is the
// order the band merge needs, in O(n) instead of a comparison sort's O(n log n) with a JS comparator.

/** Returns the permutation that sorts entries 0..n-1 by (hi, lo), ties kept in index order. */
export function sortByKey64(hi: Uint32Array, lo: Uint32Array, n: number): Uint32Array {
  let src = new Uint32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  let dst = new Uint32Array(n);
  const counts = new Uint32Array(65536);
  const passes: [Uint32Array, number][] = [[lo, 0], [lo, 16], [hi, 0], [hi, 16]];
  for (const [keys, shift] of passes) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 0xffff]++;
    // A pass whose digit is equal for every entry would leave the order unchanged: skip it.
    if (counts[(keys[src[0] ?? 0] >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const e = src[i];
      dst[counts[(keys[e] >>> shift) & 0xffff]++] = e;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}
