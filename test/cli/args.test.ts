// Flag parsing shared by every command: list values (repeatable, commas, groups, \, escapes, config arrays) and
// stray positional arguments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readdirSync, readFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseCommandArgs, splitListValue, escapeListItem, helpText, UsageError, type Command } from "../../cli/command.js";
import { loadCommand, commands, summaries } from "../../cli/registry.js";
import { main } from "../../cli/main.js";
import { writeDocuments } from "../../lib/io/index.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { sharedJsonl, tmpDir, repoRoot } from "../helpers.js";

test("list values: commas split as before; groups, quotes and \\, keep a comma inside one item", () => {
  // What parsed before keeps parsing the same.
  assert.deepEqual(splitListValue("a,b"), ["a", "b"]);
  assert.deepEqual(splitListValue(" math_score=0.4 , lang_score=0.65 ,,"), ["math_score=0.4", "lang_score=0.65"]);
  assert.deepEqual(splitListValue("seed=1,top_k=5"), ["seed=1", "top_k=5"]);
  // Brace globs, JSON arrays/objects and quoted strings are one item each.
  assert.deepEqual(splitListValue("data/{a,b}/*.parquet"), ["data/{a,b}/*.parquet"]);
  assert.deepEqual(splitListValue('stop=["\\n\\n","###"]'), ['stop=["\\n\\n","###"]']);
  assert.deepEqual(splitListValue('seed=1,logit_bias={"1":2,"3":4}'), ["seed=1", 'logit_bias={"1":2,"3":4}']);
  assert.deepEqual(splitListValue('stop="a,b",seed=2'), ['stop="a,b"', "seed=2"]);
  assert.deepEqual(splitListValue('stop=["a\\",b"]'), ['stop=["a\\",b"]']); // \" does not close the string
  // \, is a literal comma anywhere.
  assert.deepEqual(splitListValue("title=a\\, b,lang=en"), ["title=a, b", "lang=en"]);
  assert.deepEqual(splitListValue("runs/a\\,b/*.parquet"), ["runs/a,b/*.parquet"]);
  // Unbalanced brackets or quotes: split at every unescaped comma, exactly as before.
  assert.deepEqual(splitListValue("a{b,c"), ["a{b", "c"]);
  assert.deepEqual(splitListValue("x],y"), ["x]", "y"]);
  assert.deepEqual(splitListValue('say "hi,there'), ['say "hi', "there"]);
  assert.deepEqual(splitListValue("a\\,b{,c"), ["a,b{", "c"]);
  for (const item of ["a,b", "{x,y", "p,[q", "plain"]) assert.deepEqual(splitListValue(escapeListItem(item)), [item]);
});

test("every list flag of every command still takes repeated flags and comma-separated values", async () => {
  let checked = 0;
  for (const name of Object.keys(commands)) {
    const cmd = await loadCommand(name);
    for (const [opt, spec] of Object.entries(cmd.options)) {
      if (spec.type !== "list") continue;
      const { opts } = parseCommandArgs(cmd, [`--${opt}`, "a=1,b=2", `--${opt}`, "c=3"]);
      assert.deepEqual(opts[opt], ["a=1", "b=2", "c=3"], `${name} --${opt}`);
      checked++;
    }
  }
  assert.ok(checked >= 12, `only ${checked} list flags found`);
});

test("a --config JSON array is taken item by item; a config string is split like a flag", async () => {
  const cmd = await loadCommand("filter");
  const dir = tmpDir();
  const cfg = join(dir, "c.json");
  writeFileSync(cfg, JSON.stringify({ equals: ["title=Hello, world", "lang=en"], min: "a=1,b=2" }));
  const { opts } = parseCommandArgs(cmd, ["--config", cfg]);
  assert.deepEqual(opts.equals, ["title=Hello, world", "lang=en"]);
  assert.deepEqual(opts.min, ["a=1", "b=2"]);
  // Flags still override the config file.
  assert.deepEqual(parseCommandArgs(cmd, ["--config", cfg, "--equals", "x=1,y=2"]).opts.equals, ["x=1", "y=2"]);
});

test("--help of a command with list flags explains repeating, commas and \\,", async () => {
  const h = helpText(await loadCommand("filter"), summaries.filter);
  assert.match(h, /--equals COL=V\[,\.\.\.\]/);
  assert.match(h, /repeat the flag/);
  assert.match(h, /\\, is a literal comma/);
  assert.doesNotMatch(helpText(await loadCommand("stats"), summaries.stats), /literal comma/); // no list flags there
});

test("stray positional arguments are refused (an unquoted glob after -i), not silently dropped", async () => {
  const filter = await loadCommand("filter");
  assert.throws(() => parseCommandArgs(filter, ["-i", "a.parquet", "b.parquet", "c.parquet", "-o", "out"]),
    (e: unknown) => e instanceof UsageError && /unexpected arguments "b\.parquet", "c\.parquet"; quote globs/.test(e.message));
  const inspect = await loadCommand("inspect");
  assert.deepEqual(parseCommandArgs(inspect, ["x.parquet"]).positionals, ["x.parquet"]);
  assert.throws(() => parseCommandArgs(inspect, ["x.parquet", "y.parquet"]), /unexpected argument "y\.parquet"/);
  for (const name of ["build", "stats", "train"]) {
    assert.deepEqual(parseCommandArgs(await loadCommand(name), ["somewhere"]).positionals, ["somewhere"], name);
  }
  const noInput: Command = { name: "x", usage: "x", options: {}, run: async () => 0 };
  assert.throws(() => parseCommandArgs(noInput, ["y"]), (e: unknown) => e instanceof UsageError && !/quote globs/.test(e.message));
});

/** GSM8K problems (real data) split over two Parquet files, with a string column holding commas. */
async function twoGsmFiles(dir: string): Promise<void> {
  const rows = sharedJsonl("math-qa", "gsm8k_train.jsonl.gz").slice(0, 120);
  for (const [k, part] of [rows.slice(0, 60), rows.slice(60)].entries()) {
    await writeDocuments(join(dir, `gsm-${k}`), [makeBatch({
      id: part.map((_, i) => `gsm8k/${k}/${i}`),
      text: part.map((r) => `${r.question}\n${r.answer}`),
      // "a, b" for every third row: an --equals value with a comma
      tag: part.map((_, i) => (i % 3 === 0 ? "a, b" : "a")),
    })], { format: "parquet" });
  }
}

test("end to end: a brace glob and an --equals value holding a comma reach the command whole", async () => {
  const dir = tmpDir();
  await twoGsmFiles(dir);
  const out = join(dir, "out");
  const code = await main(["filter", "-i", join(dir, "gsm-{0,1}.parquet"), "-o", out, "--equals", "tag=a\\, b", "--quiet"]);
  assert.equal(code, 0);
  assert.deepEqual(readdirSync(out).filter((n) => n.endsWith(".parquet")).sort(), ["gsm-0.parquet", "gsm-1.parquet"]);
  const stats = readFileSync(join(out, "stats.json"), "utf8");
  const filter = JSON.parse(stats).stages.find((s: { name: string }) => s.name === "filter");
  assert.equal(filter.docsIn, 120);
  assert.equal(filter.docsOut, 40);
});

/** The CLI as a user runs it (a child process: this process's stdout belongs to the test runner). */
function megamath(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), ...args], { cwd: repoRoot, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("'megamath help CMD' shows that command's help; --help wins over stray arguments", () => {
  const h = megamath(["help", "tokenize"]);
  assert.equal(h.code, 0, h.err);
  assert.match(h.out, /^megamath tokenize -i GLOB/);
  assert.match(h.out, /--rebuild-manifest/);
  const bad = megamath(["help", "no-such-command"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown command "no-such-command"/);
  const stray = megamath(["filter", "a.parquet", "b.parquet", "--help"]);
  assert.equal(stray.code, 0, stray.err);
  assert.match(stray.out, /^megamath filter/);
});

test("size flags that the writer or reader would clamp silently are usage errors", async () => {
  const dir = tmpDir();
  await twoGsmFiles(dir);
  const input = join(dir, "gsm-0.parquet");
  const cases: [string[], RegExp][] = [
    [["filter", "-i", input, "-o", join(dir, "a"), "--min", "x=1", "--row-group-size", "0"], /--row-group-size must be >= 1/],
    [["filter", "-i", input, "-o", join(dir, "b"), "--min", "x=1", "--max-file-mb", "0"], /--max-file-mb must be > 0/],
    [["tokenize", "-i", input, "-o", join(dir, "c"), "--batch-size", "0"], /--batch-size must be >= 1/],
    [["refine", "-i", input, "-o", join(dir, "d"), "--model", "m", "--max-input-chars=-5"], /--max-input-chars must be >= 0/],
  ];
  for (const [args, message] of cases) {
    const r = megamath(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, message);
    assert.equal(existsSync(args[4]), false, args[4]);
  }
});
