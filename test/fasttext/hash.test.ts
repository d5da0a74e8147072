// fastText's hashing against a BigInt re-statement of the C++ arithmetic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fnv1a, U64 } from "../../classifiers/fasttext/hash.js";

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
