// Identity flows downstream (issue 20): change the classifier's settings and rerun into the same folder, through the
// emitted local scripts and through `megamath build`: train-classifier, score and everything after are redone,
// everything before is not, and the outputs equal a fresh run's. And a single command whose input file was replaced
// by other content under the same name redoes its output.
// Cost is kept low: the Pro-Max recipe without the three Decay mixtures, 2 shards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpDir, repoRoot } from "../helpers.js";
import { cli, megamath, digestTree } from "./cli-run.js";

const launcher = `${process.execPath} ${cli.join(" ")}`;


/** Modification time of every task marker of a step folder (a marker is rewritten exactly when its task is redone). */
function markerTimes(stepDir: string): Record<string, number> {
  const dir = join(stepDir, ".done");
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, statSync(join(dir, n)).mtimeMs]));
}

/** The shipped recipe with another classifier dim, its paths made absolute, and without the Decay mixtures. */
function recipe(dir: string, dim: number): string {
  const r = JSON.parse(readFileSync(join(repoRoot, "pipelines", "pro-max-demo.json"), "utf8"));
  r.inputs = r.inputs.map((g: string) => join(repoRoot, "pipelines", g));
  r.steps = r.steps.filter((s: { name: string }) => !s.name.startsWith("mix-decay"));
  const text = JSON.stringify(r).replaceAll("${recipe-dir}/..", repoRoot).replaceAll('"dim":64', `"dim":${dim}`);
  const path = join(dir, `recipe-${dim}.json`);
  writeFileSync(path, text);
  return path;
}

const UPSTREAM = ["sample"];
const DOWNSTREAM = ["train-classifier", "score", "filter", "dedup", "decontaminate", "tokenize", "mix-stable"];
const COMPARED = ["score", "filter", "dedup", "decontaminate", "tokenize", "mix-stable"];

test("emitted local scripts: a new classifier setting redoes score and everything after, nothing before; equals a fresh run", () => {
  const root = tmpDir("megamath-identity-");
  const [r64, r32] = [recipe(root, 64), recipe(root, 32)];
  const emitRun = (rec: string, out: string) => {
    const e = megamath(["build", rec, "--output", out, "--emit", "local", "--shards", "2", "--launcher", launcher]);
    assert.equal(e.code, 0, e.err);
    execFileSync("bash", [join(out, "launch", "local", "run-local.sh")], { cwd: repoRoot, stdio: "ignore" });
  };
  const a = join(root, "a");
  emitRun(r64, a);
  const before = Object.fromEntries([...UPSTREAM, ...DOWNSTREAM].map((s) => [s, markerTimes(join(a, s))]));
  // An unchanged rerun of the scripts redoes nothing (the classifier is not retrained, so nothing is rescored).
  emitRun(r64, a);
  for (const s of [...UPSTREAM, ...DOWNSTREAM]) assert.deepEqual(markerTimes(join(a, s)), before[s], `${s} was redone by an unchanged rerun`);
  // `megamath build` over the folder the emitted tasks filled reuses every output: each step's own markers match.
  const digests = Object.fromEntries(COMPARED.map((s) => [s, digestTree(join(a, s))]));
  const over = megamath(["build", r64, "--output", a]);
  assert.equal(over.code, 0, over.err);
  const steps = [...UPSTREAM, ...DOWNSTREAM];
  for (const s of steps) assert.match(over.err, new RegExp(`\\] ${s}: done before, skipped \\(0 redone`), `build over the emitted run: ${s}`);
  assert.doesNotMatch(over.err, /redoing it|: [1-9]\d* file\(s\) done/);
  for (const s of steps) assert.deepEqual(markerTimes(join(a, s)), before[s], `${s} was redone by megamath build over the emitted run`);
  for (const s of COMPARED) assert.equal(digestTree(join(a, s)), digests[s], `${s} changed`);
  emitRun(r32, a);
  for (const s of UPSTREAM) assert.deepEqual(markerTimes(join(a, s)), before[s], `${s} (upstream) was redone`);
  for (const s of DOWNSTREAM) {
    const now = markerTimes(join(a, s));
    assert.ok(Object.keys(now).length > 0, `${s} has no markers`);
    for (const [k, t] of Object.entries(now)) assert.notEqual(t, before[s][k], `${s}/${k} was not redone`);
  }
  const fresh = join(root, "fresh");
  emitRun(r32, fresh);
  for (const s of COMPARED) assert.equal(digestTree(join(a, s)), digestTree(join(fresh, s)), `${s} differs from a fresh run's`);

  // The same through `megamath build` (in-process steps).
  const b = join(root, "b");
  assert.equal(megamath(["build", r64, "--output", b, "--quiet"]).code, 0);
  const sampleBefore = markerTimes(join(b, "sample"));
  const second = megamath(["build", r32, "--output", b]);
  assert.equal(second.code, 0, second.err);
  assert.deepEqual(markerTimes(join(b, "sample")), sampleBefore);
  // A build runs score fused with filter and keeps no score documents (recipe/fuse.ts): compared are the rest.
  assert.deepEqual(readdirSync(join(b, "score")).filter((n) => n.endsWith(".parquet")), []);
  for (const s of COMPARED.filter((x) => x !== "score")) assert.equal(digestTree(join(b, s)), digestTree(join(fresh, s)), `build: ${s} differs from a fresh run's`);
});

test("a single command whose input file was replaced by other content under the same name redoes its output", () => {
  const root = tmpDir("megamath-identity-");
  const input = join(root, "docs.parquet");
  const demo = (n: number) => join(repoRoot, "fixtures", "demo", `megamath-web-0000${n}.parquet`);
  copyFileSync(demo(0), input);
  const run = () => megamath(["filter", "-i", input, "-o", join(root, "out"), "--min", "label=1"]);
  const first = run();
  assert.equal(first.code, 0, first.err);
  assert.match(first.err, /filter: 1 file\(s\) done, 0 already done/);
  assert.match(run().err, /filter: 0 file\(s\) done, 1 already done/);
  copyFileSync(demo(1), input);
  const redo = run();
  assert.match(redo.err, /filter: 1 file\(s\) done, 0 already done/);
  assert.match(redo.err, /made from other inputs or settings; redoing it/);
});
