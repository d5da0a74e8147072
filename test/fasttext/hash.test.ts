// fastText's hashing against a BigInt re-statement of the C++ arithmetic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fnv1a, modInv, U64 } from "../../classifiers/fasttext/hash.js";

function fnvRef(bytes: Uint8Array): number {
  let h = 2166136261n;
  for (const b of bytes) {
    const signed = BigInt.asUintN(32, BigInt((b << 24) >> 24));
    h = BigInt.asUintN(32, (h ^ signed) * 16777619n);
  }
  return Number(h);
}

test("fnv1a sign-extends bytes like fastText's int8 cast", () => {
  for (const s of ["", "a", "</s>", "__label__math", "naïve", "数学", "∑∫≤", "\u{1F600}x"]) {
    const b = new TextEncoder().encode(s);
    assert.equal(fnv1a(b, 0, b.length), fnvRef(b), s);
  }
});

test("word n-gram hash matches uint64 arithmetic with signed widening", () => {
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0);
  const h = new U64();
  for (let trial = 0; trial < 2000; trial++) {
    const xs = [rnd() | 0, rnd() | 0, rnd() | 0, rnd() | 0];
    const bucket = 1 + (rnd() % 2_000_000);
    let ref = BigInt.asUintN(64, BigInt(xs[0]!));
    h.setSigned(xs[0]!);
    for (const x of xs.slice(1)) {
      ref = BigInt.asUintN(64, ref * 116049371n + BigInt.asUintN(64, BigInt(x)));
      h.mulAdd(x);
      assert.equal(h.mod(bucket), Number(ref % BigInt(bucket)));
    }
  }
});

test("n-gram bucket reduction is exact at both sides of the two-step limit and at the extremes", () => {
  let seed = 777;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0);
  const buckets = [1, 2, 3, 7, 200_000, 2_000_000, 2 ** 21 - 1, 2 ** 21, 2 ** 21 + 1, 2 ** 22 + 1, 2 ** 23 - 1, 10_000_019, 2 ** 31 - 1];
  const extremes = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
  const h = new U64();
  for (const bucket of buckets) {
    const values: [number, number][] = [];
    // hi = bucket - 1 makes the first remainder as large as it gets
    for (const hi of [...extremes, bucket - 1]) for (const lo of extremes) values.push([hi, lo]);
    for (let k = 0; k < 3000; k++) values.push([rnd(), rnd()]);
    for (const [hi, lo] of values) {
      h.hi = hi;
      h.lo = lo;
      const want = Number(((BigInt(hi) << 32n) | BigInt(lo)) % BigInt(bucket));
      assert.equal(h.mod(bucket), want, `bucket ${bucket} hi ${hi} lo ${lo}`);
      assert.equal(h.mod(bucket, 1 / bucket), want);
    }
    // modInv on its own, up to its bound x + m < 2^53
    for (const x of [0, bucket - 1, bucket, 2 ** 52, 2 ** 53 - bucket - 1, rnd() * 2 ** 20 + rnd()]) {
      if (x + bucket >= 2 ** 53) continue;
      assert.equal(modInv(x, bucket, 1 / bucket), Number(BigInt(x) % BigInt(bucket)), `modInv ${x} ${bucket}`);
    }
  }
});
