// Dedup CPU per stage, variants alternated run by run, medians: the before/after figures of a change, or of
// settings (exact vs MinHash, --workers, --compression-level). Each run is a fresh child process of
// `node --import tsx CHECKOUT/cli/main.ts ARGS` (so another checkout, e.g. a `git worktree` of main, can be the
// "before"), and its CPU is the child's user + system time (all threads, workers included), from getrusage.
//   node --import tsx bench/dedup-cpu.ts --corpus DIR [--runs 3] [--before DIR] [--variants stage1,exact,workers2,gz6,gz1]
// Variants (each run on the same corpus, into a fresh folder under /tmp; "startup" = loading the CLI and lib/dedup,
// `dedup-signatures --help`, to subtract):
//   stage1    dedup-signatures (MinHash, main thread)        exact     dedup-signatures --exact
//   workers2  dedup-signatures --workers 2                    all       dedup (4 stages), Parquet out
//   gz6, gz1  dedup (4 stages) --format jsonl.gz, gzip level 6 (the default) / --compression-level 1
// With --before, every variant also runs with the other checkout (variants it does not know fail: left out).
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const VARIANTS: Record<string, (input: string, tmp: string) => string[]> = {
  startup: () => ["dedup-signatures", "--help"], // loading the CLI and lib/dedup: subtract from the others
  stage1: (i, t) => ["dedup-signatures", "-i", i, "--work-dir", join(t, "w"), "--workers", "0"],
  exact: (i, t) => ["dedup-signatures", "-i", i, "--work-dir", join(t, "w"), "--workers", "0", "--exact"],
  workers2: (i, t) => ["dedup-signatures", "-i", i, "--work-dir", join(t, "w"), "--workers", "2"],
  all: (i, t) => ["dedup", "-i", i, "-o", join(t, "o"), "--workers", "0"],
  gz6: (i, t) => ["dedup", "-i", i, "-o", join(t, "o"), "--workers", "0", "--format", "jsonl.gz"],
  gz1: (i, t) => ["dedup", "-i", i, "-o", join(t, "o"), "--workers", "0", "--format", "jsonl.gz", "--compression-level", "1"],
};

function runOnce(checkout: string, args: string[]): { cpu: number; wall: number } | null {
  // The child reports its own rusage (children of the child, if any, are included by RUSAGE_CHILDREN below).
  const code = `const {main}=await import(${JSON.stringify(join(checkout, "cli", "main.ts"))});` +
    `const t=performance.now();const c=await main(${JSON.stringify([...args, "--quiet"])});` +
    `const u=process.resourceUsage();console.log(JSON.stringify({c,cpu:(u.userCPUTime+u.systemCPUTime)/1e6,wall:(performance.now()-t)/1e3}))`;
  // A script file, not -e: worker threads inherit execArgv, and --input-type is not allowed there.
  const file = join(mkdtempSync(join(tmpdir(), "dedup-cpu-child-")), "child.mjs");
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: checkout, encoding: "utf8" });
  rmSync(dirname(file), { recursive: true, force: true });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    const j = JSON.parse(line);
    return j.c === 0 ? { cpu: j.cpu, wall: j.wall } : null;
  } catch {
    return null;
  }
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const { values } = parseArgs({ options: {
  corpus: { type: "string" }, runs: { type: "string", default: "3" }, before: { type: "string" },
  variants: { type: "string", default: "startup,stage1,exact,workers2,gz6,gz1" }, input: { type: "string", default: "*.jsonl" },
} });
if (!values.corpus) throw new Error("--corpus DIR is required (e.g. one made by bench/make-corpus.ts)");
const input = join(resolve(values.corpus), values.input!);
const checkouts = [["after", root], ...(values.before ? [["before", resolve(values.before)]] : [])];
const times = new Map<string, number[]>();
for (let run = 0; run < Number(values.runs); run++) {
  for (const v of values.variants!.split(",")) {
    for (const [name, dir] of checkouts) {
      const tmp = mkdtempSync(join(tmpdir(), "dedup-cpu-"));
      let args = VARIANTS[v](input, tmp);
      // Before this change dedup-signatures had no --workers (it always ran on the main thread).
      if (name === "before" && args[0] === "dedup-signatures") args = args.filter((a, i) => !(a === "--workers" || args[i - 1] === "--workers"));
      const r = runOnce(dir, args);
      rmSync(tmp, { recursive: true, force: true });
      if (!r) continue;
      const k = `${v} ${name}`;
      times.set(k, [...(times.get(k) ?? []), r.cpu]);
    }
  }
}
for (const [k, xs] of times) console.log(`${k.padEnd(18)} median ${median(xs).toFixed(2)} CPU-s  (runs: ${xs.map((x) => x.toFixed(2)).join(", ")})`);
