// A command never deletes, truncates or overwrites what it did not create (issue 12 items 1 and 6): an output
// folder that holds an input is refused before anything is written, the clean-up of a killed attempt removes only
// what megamath made, a foreign file in an output's place stops the run, and output names stay inside -o.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync, symlinkSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { main } from "../../cli/main.js";
import { outputNames } from "../../lib/runtime/runner.js";
import { safeOutputName } from "../../lib/runtime/output-guard.js";
import { repoRoot, tmpDir, sharedJsonl, sharedData } from "../helpers.js";

const demo = join(repoRoot, "fixtures/demo/megamath-web-00000.parquet");
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/** Run the CLI in this process; return its exit code and what it wrote to stderr. */
async function megamath(args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write;
  let err = "";
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await main([...args, "--workers", "1"]), err };
  } finally {
    process.stderr.write = write;
  }
}

function jsonlInput(dir: string): string {
  const rows = sharedJsonl("math-qa", "gsm8k_train.jsonl.gz").slice(0, 50);
  const p = join(dir, "gsm8k.jsonl");
  writeFileSync(p, rows.map((r, i) => JSON.stringify({ id: `g${i}`, text: `${r.question}\n${r.answer}`, label: 1 })).join("\n") + "\n");
  return p;
}

test("repro: -o is the folder of a Parquet input: refused, the input is intact and nothing is written", async () => {
  const x = tmpDir("megamath-safety-");
  const input = join(x, "megamath-web-00000.parquet");
  copyFileSync(demo, input);
  const before = sha(input);
  for (const extra of [[], ["--on-error", "skip"]]) {
    const r = await megamath(["filter", "-i", input, "-o", x, "--min", "label=0", ...extra]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /output folder .* holds an input: .*megamath-web-00000\.parquet is in it/);
    assert.equal(sha(input), before);
    assert.deepEqual(readdirSync(x), ["megamath-web-00000.parquet"], "nothing was written next to the input");
  }
});

test("repro: -o holds a JSONL input (also through a symlinked output folder, and below it): refused", async () => {
  const x = tmpDir("megamath-safety-");
  const input = jsonlInput(x);
  const before = sha(input);
  const link = join(tmpDir("megamath-safety-link-"), "out");
  symlinkSync(x, link);
  const parent = join(x, "..");
  for (const out of [x, link]) {
    const r = await megamath(["filter", "-i", input, "-o", out, "--min", "label=0"]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /holds an input/);
  }
  const below = await megamath(["filter", "-i", input, "-o", parent, "--min", "label=0"]);
  assert.equal(below.code, 1, below.err);
  assert.match(below.err, /gsm8k\.jsonl is below it/);
  assert.equal(sha(input), before);
  assert.deepEqual(readdirSync(x), ["gsm8k.jsonl"]);
});

test("repro: an in-place second stage (-i 'out/*.parquet' -o out) is refused and leaves the first stage's output alone", async () => {
  const src = tmpDir("megamath-safety-");
  copyFileSync(demo, join(src, "web.parquet"));
  const out = tmpDir("megamath-safety-out-");
  const first = await megamath(["filter", "-i", join(src, "web.parquet"), "-o", out, "--min", "label=0"]);
  assert.equal(first.code, 0, first.err);
  const before = sha(join(out, "web.parquet"));
  for (const extra of [[], ["--on-error", "skip"], ["--force"]]) {
    const r = await megamath(["filter", "-i", join(out, "*.parquet"), "-o", out, "--min", "label=1", ...extra]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /holds an input/);
    assert.equal(sha(join(out, "web.parquet")), before);
  }
});

test("a file megamath did not write in an output's place stops the run and is kept; one it made is replaced", async () => {
  const src = tmpDir("megamath-safety-");
  const input = jsonlInput(src);
  const out = tmpDir("megamath-safety-out-");
  writeFileSync(join(out, "gsm8k.parquet"), "someone else's file");
  for (const extra of [[], ["--on-error", "skip"], ["--force"]]) {
    const r = await megamath(["filter", "-i", input, "-o", out, "--min", "label=0", ...extra]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /gsm8k\.parquet is in the way .* not written by megamath/);
    assert.equal(readFileSync(join(out, "gsm8k.parquet"), "utf8"), "someone else's file");
  }
  // Its own output, listed by its completion marker, is replaced by a --force run.
  const own = tmpDir("megamath-safety-out-");
  assert.equal((await megamath(["filter", "-i", input, "-o", own, "--min", "label=0"])).code, 0);
  const again = await megamath(["filter", "-i", input, "-o", own, "--min", "label=0", "--force"]);
  assert.equal(again.code, 0, again.err);
  assert.ok(existsSync(join(own, "gsm8k.parquet")));
});

test("the clean-up of a killed attempt removes the parts that attempt claimed, and only those", async () => {
  const src = tmpDir("megamath-safety-");
  const input = jsonlInput(src);
  const out = tmpDir("megamath-safety-out-");
  // What a kill between the writer's renames and the completion marker leaves: a claim, a renamed part, a temp part.
  mkdirSync(join(out, ".done"));
  writeFileSync(join(out, ".done", "gsm8k.claim"), "{}\n");
  writeFileSync(join(out, "gsm8k-00007.parquet"), "stale part");
  writeFileSync(join(out, ".tmp-gsm8k-00008.parquet.123.0123abcd"), "stale temp");
  writeFileSync(join(out, "gsm8kx.parquet"), "not this slot");
  const r = await megamath(["filter", "-i", input, "-o", out, "--min", "label=0"]);
  assert.equal(r.code, 0, r.err);
  const names = readdirSync(out).sort();
  assert.deepEqual(names.filter((n) => !n.startsWith(".") && !n.startsWith("stats")), ["gsm8k.parquet", "gsm8kx.parquet"]);
  assert.ok(!names.some((n) => n.startsWith(".tmp-")));
  assert.ok(!existsSync(join(out, ".done", "gsm8k.claim")), "the claim is dropped once the marker is written");
  assert.equal(readFileSync(join(out, "gsm8kx.parquet"), "utf8"), "not this slot");
});

test("repro: an input named '...parquet' with -o n/o/deep writes inside n/o/deep", async () => {
  const src = tmpDir("megamath-safety-");
  copyFileSync(demo, join(src, "...parquet"));
  const base = tmpDir("megamath-safety-out-");
  const out = join(base, "n", "o", "deep");
  const r = await megamath(["filter", "-i", join(src, "...parquet"), "-o", out, "--min", "label=0"]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(join(base, "n", "o")), ["deep"], "nothing written next to the output folder");
  assert.ok(readdirSync(out).some((n) => /^_.*\.parquet$/.test(n)), readdirSync(out).join(" "));
});

test("output names of hostile input names are plain, visible, bounded file names", () => {
  const hostile = ["/d/..parquet", "/d/...parquet", "/d/.x.parquet", "/d/a b\nc.parquet", "/d/" + "é".repeat(200) + ".jsonl",
    "/d/" + "x".repeat(250) + ".parquet", "/d/" + "x".repeat(250) + "y.parquet", "/d/.parquet"];
  const names = [...outputNames(hostile).values()];
  assert.equal(new Set(names).size, hostile.length);
  for (const n of names) {
    assert.match(n, /^[A-Za-z0-9_=-][A-Za-z0-9._=-]*$/, n);
    assert.ok(Buffer.byteLength(n) <= 180, n);
  }
  assert.equal(safeOutputName("..", "input-0"), "_.");
});

test("mix never replaces a folder it did not make, nor one that holds a source", async () => {
  const dir = tmpDir("megamath-safety-mix-");
  const tokens = join(dir, "t");
  assert.equal((await megamath(["tokenize", "-i", sharedData("web-nonmath/dolma_cc_en_head-0091.jsonl.gz"), "-o", tokens, "-q"])).code, 0);
  const spec = join(dir, "spec.json");
  writeFileSync(spec, JSON.stringify({ name: "tiny", total_tokens: "2K", seed: 2, sources: [{ name: "x", weight: 1, path: tokens }] }));
  const user = join(dir, "user");
  mkdirSync(user);
  writeFileSync(join(user, "notes.txt"), "mine");
  const r = await megamath(["mix", "--spec", spec, "-o", user, "--force", "-q"]);
  assert.equal(r.code === 0, false, "mix replaced a folder it did not make");
  assert.match(r.err, /not a mixture folder/);
  assert.equal(readFileSync(join(user, "notes.txt"), "utf8"), "mine");
  const around = await megamath(["mix", "--spec", spec, "-o", dir, "--force", "-q"]);
  assert.match(around.err, /not a mixture folder|inside the output folder/);
  assert.ok(existsSync(join(tokens)) && readdirSync(tokens).length > 0, "the source is intact");
  const ok = await megamath(["mix", "--spec", spec, "-o", join(dir, "mix"), "-q"]);
  assert.equal(ok.code, 0, ok.err);
  assert.equal((await megamath(["mix", "--spec", spec, "-o", join(dir, "mix"), "--force", "-q"])).code, 0, "its own mixture is replaced");
});
