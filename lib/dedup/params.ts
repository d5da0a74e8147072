// MinHash-LSH parameters, and the permutation coefficients derived from them. Everything a later stage needs to
// interpret an earlier stage's files lives here, so it can be written into every file header and compared.

/** Bumped whenever normalization, shingling, hashing or a file layout changes: files from another version are
 * rejected instead of being silently mixed. */
export const DEDUP_FORMAT_VERSION = 1;

export interface DedupParams {
  /** LSH bands (datatrove "buckets"). MegaMath: 11. */
  bands: number;
  /** Hashes per band. MegaMath: 10. */
  rows: number;
  /** Words per shingle. datatrove/MegaMath: 5. */
  ngram: number;
  /** Seed of the permutation coefficients. */
  seed: number;
  /** Numeric column whose highest value decides which member of a cluster survives (null: none, keep the first
   * by id order). A file without the column gives its documents the lowest priority. */
  keepColumn: string | null;
  /** Exact dedup (exact.ts): one normalized-text hash per document instead of MinHash; `bands` is then the number
   * of hash partitions (stage 2's shards), rows and ngram are unused (stored as 1). Absent: MinHash. */
  exact?: boolean;
}

export const defaultDedupParams: DedupParams = { bands: 11, rows: 10, ngram: 5, seed: 0, keepColumn: "math_score" };

export function checkParams(p: DedupParams): DedupParams {
  const int = (name: keyof DedupParams, min: number, max: number) => {
    const v = p[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`dedup parameter ${name} must be an integer in [${min}, ${max}], got ${v}`);
    }
  };
  int("bands", 1, 1024);
  int("rows", 1, 1024);
  int("ngram", 1, 64);
  int("seed", 0, 0xffffffff);
  let out = p.keepColumn === "" ? { ...p, keepColumn: null } : p;
  if (out.exact) out = { ...out, rows: 1, ngram: 1 };
  else if ("exact" in out) { const { exact: _, ...rest } = out; out = rest; } // MinHash manifests stay as before
  return out;
}

/** The probability that a pair with Jaccard similarity s becomes a candidate: 1 - (1 - s^r)^b. */
export function lshProbability(s: number, bands: number, rows: number): number {
  return 1 - Math.pow(1 - Math.pow(s, rows), bands);
}

/** The similarity where the S-curve crosses 1/2 of its steepest part, (1/b)^(1/r) (0.787 for 11 x 10). */
export function lshThreshold(bands: number, rows: number): number {
  return Math.pow(1 / bands, 1 / rows);
}

/** Same params (ignoring nothing): used to refuse mixing files made with different settings. */
export function sameParams(a: DedupParams, b: DedupParams): boolean {
  return a.bands === b.bands && a.rows === b.rows && a.ngram === b.ngram && a.seed === b.seed &&
    (a.keepColumn ?? null) === (b.keepColumn ?? null) && Boolean(a.exact) === Boolean(b.exact);
}

export function describeParams(p: DedupParams): string {
  if (p.exact) return `exact partitions=${p.bands} keepColumn=${p.keepColumn ?? "(none)"}`;
  return `bands=${p.bands} rows=${p.rows} ngram=${p.ngram} seed=${p.seed} keepColumn=${p.keepColumn ?? "(none)"}`;
}

/** splitmix32: a tiny, well-mixed generator for the coefficients (not for anything security-related). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Coefficients of the bands*rows permutations x -> (a*x + b) mod 2^32, a odd (so each is a bijection). */
export function permutationCoefficients(p: DedupParams): { a: Int32Array; b: Int32Array } {
  const n = p.bands * p.rows;
  const next = splitmix32(p.seed ^ 0x6d696e68); // "minh": keeps seed 0 from being a degenerate start
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = next() | 1;
    b[i] = next() | 0;
  }
  return { a, b };
}
