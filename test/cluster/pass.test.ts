// `megamath pass`, the command the emitted cluster tasks run for a fused pass: the steps given as they would run
// alone, one read and one write for shard i of N, each step's markers and stats in its own folder; the documents of
// a step before the last are written only with --keep; the bytes equal the steps run one by one, and a step run
// alone over a folder the pass filled with --keep finds its work done.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../cli/main.js";
import { repoRoot, tmpDir } from "../helpers.js";
import { digestTree } from "../build/cli-run.js";

const inputs = join(repoRoot, "fixtures", "demo", "megamath-web-*.parquet");
const filter = (out: string) => ["filter", "-i", inputs, "-o", out, "--min", "label=1"];
const tokenize = (from: string, out: string) => ["tokenize", "-i", join(from, "*.parquet"), "-o", out];
const ls = (dir: string, ext: string) => readdirSync(dir).filter((n) => n.endsWith(ext)).sort();
const markers = (dir: string) => Object.fromEntries(readdirSync(join(dir, ".done")).map((n) => [n, statSync(join(dir, ".done", n)).mtimeMs]));

test("megamath pass: refuses fewer than two steps, a --keep out of range, an unknown step", async () => {
  assert.equal(await main(["pass", "--quiet", "--", ...filter("/nonexistent/f")]), 2);
  assert.equal(await main(["pass", "--quiet", "--keep", "2", "--", ...filter("/nonexistent/f"), "--", ...tokenize("/nonexistent/f", "/nonexistent/t")]), 2);
  assert.equal(await main(["pass", "--quiet", "--", "nosuch", "-i", "x", "--", ...tokenize("/nonexistent/f", "/nonexistent/t")]), 2);
});

test("megamath pass --shard 1/2: filter → tokenize in one pass equals the two steps run one by one; --keep writes and reuses", async () => {
  const dir = tmpDir("megamath-pass-");
  const [f, t] = [join(dir, "f"), join(dir, "t")];
  assert.equal(await main(["pass", "--quiet", "--shard", "1/2", "--", ...filter(f), "--", ...tokenize(f, t)]), 0);
  // Shard 1 of 2 is the second input file; filter's documents stay in the pass, its marker and stats are written.
  assert.deepEqual(ls(f, ".parquet"), []);
  assert.equal(Object.keys(markers(f)).length, 1);
  assert.ok(readdirSync(f).includes("stats.json"));
  assert.deepEqual(ls(t, ".bin"), ["megamath-web-00001.bin"]);

  // One by one: the same token file.
  const [f1, t1] = [join(dir, "f1"), join(dir, "t1")];
  assert.equal(await main([...filter(f1), "--shard", "1/2", "--quiet"]), 0);
  assert.equal(await main([...tokenize(f1, t1), "--quiet"]), 0);
  assert.equal(digestTree(t), digestTree(t1));

  // --keep 0 writes filter's documents (the same bytes), and filter run alone over that folder redoes nothing.
  const [fk, tk] = [join(dir, "fk"), join(dir, "tk")];
  assert.equal(await main(["pass", "--quiet", "--keep", "0", "--shard", "1/2", "--", ...filter(fk), "--", ...tokenize(fk, tk)]), 0);
  assert.deepEqual(ls(fk, ".parquet"), ["megamath-web-00001.parquet"]);
  assert.equal(digestTree(fk), digestTree(f1));
  assert.equal(digestTree(tk), digestTree(t1));
  const before = markers(fk);
  assert.equal(await main([...filter(fk), "--shard", "1/2", "--quiet"]), 0);
  assert.deepEqual(markers(fk), before, "filter alone redid the work of the pass");
});
