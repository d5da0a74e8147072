// The writer's snappy compressor must reproduce hyparquet-writer's built-in one byte for byte (so Parquet files
// are unchanged) and round-trip through the reader's snappy decoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { snappyCompress as reference } from "hyparquet-writer/src/snappy.js";
import { snappyUncompressor } from "hysnappy";
import { snappyCompress } from "../../lib/io/snappy-compress.js";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function inputs(): Uint8Array[] {
  const r = rng(7);
  const enc = new TextEncoder();
  const words = "the of a proof lemma ∑ x² integral \\frac{a}{b} δ theorem and to in is that".split(" ");
  const text = (n: number) => {
    let s = "";
    while (s.length < n) s += words[Math.floor(r() * words.length)] + (r() < 0.1 ? "\n" : " ");
    return enc.encode(s);
  };
  const out: Uint8Array[] = [];
  for (let n = 0; n <= 40; n++) out.push(text(n).subarray(0, n));
  for (const n of [100, 1000, 4096, 65535, 65536, 70000, 300_000]) {
    out.push(text(n));
    out.push(Uint8Array.from({ length: n }, () => Math.floor(r() * 256))); // incompressible: long literals
    out.push(new Uint8Array(n).fill(97)); // one long run: long copies
    out.push(Uint8Array.from({ length: n }, (_, i) => (i % 5000 < 70 ? 120 : Math.floor(r() * 4)))); // mixed
  }
  // Repeats further apart than the 64 KiB copy window.
  const far = text(200_000);
  far.set(far.subarray(0, 50_000), 120_000);
  out.push(far);
  out.push(text(1_100_000));
  return out;
}

test("snappyCompress matches hyparquet-writer's compressor byte for byte and round-trips", () => {
  const un = snappyUncompressor();
  for (const input of inputs()) {
    const got = snappyCompress(input);
    assert.deepEqual(Buffer.from(got), Buffer.from(reference(input)), `input of ${input.length} bytes`);
    if (input.length) assert.deepEqual(Buffer.from(un(got, input.length)), Buffer.from(input));
  }
});
