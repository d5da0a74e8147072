import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeDocuments } from "../../lib/io/index.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { sharedJsonl, tmpDir, repoRoot } from "../helpers.js";

function megamath(args: string[], cwd = repoRoot) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** GSM8K train problems (real data) converted to Parquet. */
async function gsmParquet(dir: string): Promise<string> {
  const rows = sharedJsonl("math-qa", "gsm8k_train.jsonl.gz").slice(0, 200);
  await writeDocuments(join(dir, "gsm8k"), [makeBatch({ id: rows.map((_, i) => `gsm8k/${i}`), text: rows.map((r) => `${r.question}\n${r.answer}`), answer: rows.map((r) => String(r.answer)) })], { format: "parquet" });
  return join(dir, "gsm8k.parquet");
}

test("megamath --help lists the commands; unknown command exits 2", () => {
  const h = megamath(["--help"]);
  assert.equal(h.code, 0);
  for (const c of ["build", "inspect", "stats", "score", "dedup", "decontaminate", "mix", "train"]) assert.match(h.out, new RegExp(`\\b${c}\\b`));
  const u = megamath(["no-such-command"]);
  assert.equal(u.code, 2);
  assert.match(u.err, /unknown command "no-such-command"/);
});

test("megamath inspect shows schema, row count and rows of a Parquet file made from shared data", async () => {
  const dir = tmpDir();
  const file = await gsmParquet(dir);
  const r = megamath(["inspect", file, "--rows", "2"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /200/);
  assert.match(r.out, /text/);
  assert.match(r.out, /answer/);
  assert.match(r.out, /Natalia/);
  const j = megamath(["inspect", file, "--json"]);
  const d = JSON.parse(j.out);
  assert.equal(d.rows, 200);
});

test("bad usage exits 2 with a message naming the field; runtime failure exits 1", async () => {
  const dir = tmpDir();
  const file = await gsmParquet(dir);
  const bad = megamath(["inspect", file, "--rows", "many"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--rows must be an integer/);
  const cfg = join(dir, "cfg.json");
  writeFileSync(cfg, JSON.stringify({ rowz: 3 }));
  const c = megamath(["inspect", file, "--config", cfg]);
  assert.equal(c.code, 2);
  assert.match(c.err, /unknown field "rowz"; allowed fields: .*\brows\b/);
  writeFileSync(cfg, JSON.stringify({ rows: 1 }));
  assert.equal(megamath(["inspect", file, "--config", cfg]).code, 0);
  const missing = megamath(["inspect", join(dir, "nope.parquet")]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope\.parquet/);
  const flt = megamath(["stats", dir]);
  assert.equal(flt.code, 1);
  assert.match(flt.err, /not the output folder of a megamath command/);
});

test("quiet and log-json from a --config file apply to the log like the flags do", async () => {
  const dir = tmpDir();
  const file = await gsmParquet(dir);
  const cfg = join(dir, "quiet.json");
  writeFileSync(cfg, JSON.stringify({ quiet: true }));
  const q = megamath(["filter", "-i", file, "-o", join(dir, "q"), "--equals", "answer=none", "--allow-empty", "--config", cfg]);
  const flag = megamath(["filter", "-i", file, "-o", join(dir, "f"), "--equals", "answer=none", "--allow-empty", "--quiet"]);
  assert.equal(flag.err, "");
  assert.equal(q.err, flag.err);
  writeFileSync(cfg, JSON.stringify({ "log-json": true }));
  const j = megamath(["filter", "-i", file, "-o", join(dir, "j"), "--equals", "answer=none", "--allow-empty", "--config", cfg]);
  const lines = j.err.trim().split("\n");
  assert.ok(lines.length > 0 && lines.every((l) => typeof JSON.parse(l).msg === "string"), j.err);
});

test("under --on-error skip a run in which every input file fails (a missing model) exits 1 and says so", async () => {
  const dir = tmpDir();
  const file = await gsmParquet(dir);
  const missingModel = join(dir, "no-such-model.bin");
  const all = megamath(["score", "--model", missingModel, "-i", file, "-o", join(dir, "out"), "--on-error", "skip", "--workers", "1"]);
  assert.equal(all.code, 1, all.err);
  assert.match(all.err, /no-such-model\.bin/);
  assert.match(all.err, /every input file of this shard failed/);
});
