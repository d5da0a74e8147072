// Fused passes against one step at a time: CPU-seconds of the pre-LLM recipe (score → filter → dedup →
// decontaminate → tokenize, after sample and train-classifier, which are done once and reused) with the recipe's
// fused passes (score → filter, decontaminate → tokenize) and with `--no-fuse`, alternated, medians; prints the
// passes as they ran.
//   node --import tsx bench/fused.ts [--corpus demo | --size 20MB] [--reps 3] [--workers 1]
// Each run is a child `megamath build` over the same build folder with the measured steps' folders removed first;
// its CPU (user + sys, all threads) comes from /usr/bin/time, and the measured steps' own CPU from their .step.json
// (a fused pass's CPU is shared out over its steps by their stages' time).
// (A separate file from bench/build.ts, which times the whole recipe once.)
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeCorpus, parseSize } from "./make-corpus.js";

const { values } = parseArgs({
  options: {
    corpus: { type: "string", default: "demo" }, size: { type: "string" }, seed: { type: "string", default: "1" },
    reps: { type: "string", default: "3" }, workers: { type: "string", default: "1" },
  },
});
const root = resolve("bench/out");
const repo = resolve(".");
let inputs: string[];
let label: string;
if (values.size) {
  const dir = join(root, `corpus-${values.size}-s${values.seed}`);
  if (!existsSync(join(dir, "corpus.json"))) await makeCorpus({ out: dir, seed: Number(values.seed), sizeBytes: parseSize(values.size) });
  inputs = [join(dir, "*.parquet")];
  label = `generated ${values.size}`;
} else {
  inputs = [join(repo, "fixtures", "demo", "megamath-web-*.parquet")];
  label = "demo corpus";
}
// The shipped recipe up to tokenize: no mixtures (their cost does not depend on fusion) and no training.
const recipe = JSON.parse(readFileSync(join(repo, "pipelines", "pro-max-demo.json"), "utf8"));
recipe.inputs = inputs;
const MEASURED = ["score", "filter", "dedup", "decontaminate", "tokenize"];
recipe.steps = recipe.steps.filter((s: { command: string }) => !["mix", "train"].includes(s.command));
mkdirSync(root, { recursive: true });
const recipePath = join(root, "fused-bench-recipe.json");
writeFileSync(recipePath, JSON.stringify(recipe));
const out = join(root, `fused-bench-${values.size ?? "demo"}`);

interface Run { cpu: number; steps: number; wall: number; perStep: Record<string, number>; passes: string[] }

function build(extra: string[]): Run {
  for (const s of MEASURED) rmSync(join(out, s), { recursive: true, force: true });
  const args = ["-f", "%U %S %e", process.execPath, "--import", "tsx", join(repo, "cli/main.ts"), "build", recipePath,
    "-o", out, "--workers", values.workers!, "--jobs", "1", "--quiet", ...extra];
  const r = spawnSync("/usr/bin/time", args, { cwd: repo, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr.slice(-2000)}`);
  const [user, sys, wall] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  const perStep = Object.fromEntries(MEASURED.map((s) => [s, JSON.parse(readFileSync(join(out, s, ".step.json"), "utf8")).cpuSeconds ?? 0]));
  const steps = MEASURED.reduce((a, s) => a + perStep[s], 0);
  // The passes as they ran (each fused step's .step.json names its pass's members).
  const passes = [...new Set(MEASURED.map((s) => (JSON.parse(readFileSync(join(out, s, ".step.json"), "utf8")).fused ?? [s]).join(" → ")))];
  return { cpu: user + sys, steps, wall, perStep, passes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
build([]); // sample and train-classifier, once; both variants reuse them
const runs: Record<string, Run[]> = { unfused: [], fused: [] };
for (let i = 0; i < Number(values.reps); i++) {
  for (const [name, extra] of [["unfused", ["--no-fuse"]], ["fused", []]] as const) {
    const r = build([...extra]);
    runs[name].push(r);
    console.log(`rep ${i + 1} ${name.padEnd(8)} process CPU ${r.cpu.toFixed(2)} s, measured steps CPU ${r.steps.toFixed(2)} s, wall ${r.wall.toFixed(1)} s`);
  }
}
console.log(`\n${label}, --workers ${values.workers}, ${values.reps} alternated reps, medians (CPU-seconds, user+sys, all threads):`);
for (const name of ["unfused", "fused"]) {
  const rs = runs[name];
  const each = MEASURED.map((s) => `${s} ${median(rs.map((r) => r.perStep[s])).toFixed(2)}`).join(", ");
  console.log(`  ${name.padEnd(8)} process ${median(rs.map((r) => r.cpu)).toFixed(2)}  steps ${median(rs.map((r) => r.steps)).toFixed(2)} (${each})`);
  console.log(`           passes: ${rs[0].passes.join(" | ")}`);
}
