// The out-of-vocabulary memo of language ID: a hit must give exactly the ids that were stored for those bytes, and
// filling it past either bound (entries, arena) must drop everything rather than return a stale or mixed entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SubwordCache } from "../../classifiers/fasttext/subword-cache.js";
import { fnv1a } from "../../classifiers/fasttext/hash.js";
import { mulberry32 } from "../../lib/random.js";

/** Token i: 1..40 random bytes that start with i in base 36, so all tokens differ. */
function tokens(n: number, seed: number): Uint8Array[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const head = Buffer.from(i.toString(36) + "~");
    const tail = Buffer.from(Array.from({ length: Math.floor(rnd() * 30) }, () => 1 + Math.floor(rnd() * 255)));
    return new Uint8Array(Buffer.concat([head, tail]));
  });
}

const idsOf = (i: number, count: number) => Int32Array.from({ length: count }, (_, j) => i * 7 + j);

function lookup(cache: SubwordCache, t: Uint8Array, h = fnv1a(t, 0, t.length)): Int32Array | null {
  const e = cache.find(t, 0, t.length, h);
  return e < 0 ? null : cache.ids.slice(cache.start(e), cache.end(e));
}

function insert(cache: SubwordCache, t: Uint8Array, ids: Int32Array, h = fnv1a(t, 0, t.length)): void {
  // The ids arrive as a run inside a larger buffer, as in Dictionary (words already pushed before them).
  const buf = new Int32Array(ids.length + 5);
  buf.set(ids, 3);
  cache.insert(t, 0, t.length, h, buf, 3, 3 + ids.length);
}

test("every stored token is found with its own ids, through entry-count overflows (the memo is then dropped)", () => {
  const cache = new SubwordCache();
  const ts = tokens(600_000, 1); // over twice the entry limit: at least two drops
  let lastMiss = -1;
  for (let i = 0; i < ts.length; i++) {
    const got = lookup(cache, ts[i]);
    assert.equal(got, null, `token ${i} found before it was stored`);
    insert(cache, ts[i], idsOf(i, i % 9));
    assert.deepEqual(lookup(cache, ts[i]), idsOf(i, i % 9));
    // A sample of earlier tokens: either their own ids or gone, never someone else's.
    if (i % 997 === 0) {
      for (let k = Math.max(0, i - 300_000); k < i; k += 4099) {
        const back = lookup(cache, ts[k]);
        if (back === null) lastMiss = Math.max(lastMiss, k);
        else assert.deepEqual(back, idsOf(k, k % 9), `token ${k} at ${i}`);
      }
    }
  }
  assert.ok(lastMiss > 0, "the memo was never dropped: the overflow path is untested");
  assert.equal(lookup(cache, ts[0]), null);
  assert.deepEqual(lookup(cache, ts[ts.length - 1]), idsOf(ts.length - 1, (ts.length - 1) % 9));
});

test("arena overflow with long id lists; equal hashes; tokens over 64 bytes are not memoised; empty id lists", () => {
  const cache = new SubwordCache();
  const ts = tokens(40_000, 2);
  for (let i = 0; i < ts.length; i++) {
    insert(cache, ts[i], idsOf(i, 300)); // 40k x 300 ids > the arena: dropped at least twice
    assert.deepEqual(lookup(cache, ts[i]), idsOf(i, 300));
  }
  assert.equal(lookup(cache, ts[0]), null);

  // Two different tokens under the same hash, and a token that is a prefix of another.
  const a = Buffer.from("alpha"), b = Buffer.from("bravo"), ab = Buffer.from("alphabet");
  insert(cache, a, Int32Array.of(1, 2), 12345);
  insert(cache, b, Int32Array.of(3), 12345);
  insert(cache, ab, Int32Array.of(), 12345);
  assert.deepEqual(lookup(cache, a, 12345), Int32Array.of(1, 2));
  assert.deepEqual(lookup(cache, b, 12345), Int32Array.of(3));
  assert.deepEqual(lookup(cache, ab, 12345), Int32Array.of());
  assert.equal(lookup(cache, Buffer.from("alph"), 12345), null);
  assert.equal(lookup(cache, a, 54321), null);

  const long = new Uint8Array(65).fill(0x61);
  insert(cache, long, Int32Array.of(9));
  assert.equal(lookup(cache, long), null);
  const edge = new Uint8Array(64).fill(0x62);
  insert(cache, edge, Int32Array.of(8, 7));
  assert.deepEqual(lookup(cache, edge), Int32Array.of(8, 7));
});
