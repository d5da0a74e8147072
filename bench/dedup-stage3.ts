// Stage 3's memory and CPU per clustered document, bucket mode in memory vs spilled (--cluster-memory-mb), and
// union mode, as the corpus grows. Corpus: synthetic word documents (100 words from a 20k-word vocabulary) where
// most documents sit in planted chains A~B~C~... (each link re-draws 1.5% of the words: 5-gram Jaccard ~0.86) or
// are exact copies, so nearly every document is clustered and stage 3 is what grows. Stages 1-2 run once per size
// (in-process, cached under --dir); stage 3 runs in fresh child processes, variants alternated run by run, each
// measured by /usr/bin/time (user+sys CPU-seconds, peak RSS); medians. --before CHECKOUT adds the other checkout's
// bucket mode (e.g. a `git worktree` of main: its in-memory path, before this change).
// --breakdown: instead, each variant once in a child that samples process.memoryUsage() every 5 ms (peak JS heap
// and peak ArrayBuffer bytes: where the peak RSS goes).
//   node --import tsx bench/dedup-stage3.ts [--docs 50000,200000] [--runs 3] [--limit-mb 8] [--before DIR] [--breakdown]
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "../lib/random.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function makeCorpus(dir: string, docs: number, seed = 1): string[] {
  const rnd = mulberry32(seed);
  // Letters only: normalization turns digit runs into 0.
  const word = () => { let x = Math.floor(rnd() * 20000), w = ""; do { w += String.fromCharCode(97 + (x % 26)); x = Math.floor(x / 26); } while (x); return w; };
  const files = Array.from({ length: 4 }, (_, f) => join(dir, `part-${f}.jsonl`));
  const lines: string[][] = files.map(() => []);
  let n = 0;
  const emit = (words: string[]) => {
    lines[n % 4].push(JSON.stringify({ id: `d${n}`, text: words.join(" "), math_score: Math.round(rnd() * 1e6) / 1e6 }));
    n++;
  };
  while (n < docs) {
    let w = Array.from({ length: 100 }, word);
    const u = rnd();
    if (u < 0.1) { emit(w); continue; } // unrelated
    if (u < 0.25) { emit(w); emit(w); if (rnd() < 0.5) emit(w); continue; } // exact copies
    const len = 2 + Math.floor(rnd() * 9); // a chain of 2-10
    for (let k = 0; k < len; k++) {
      emit(w);
      w = w.map((x) => (rnd() < 0.015 ? word() : x));
    }
  }
  files.forEach((p, f) => writeFileSync(p, lines[f].join("\n") + "\n"));
  return files;
}

async function prepare(dir: string, docs: number): Promise<string> {
  const work = join(dir, "work");
  if (existsSync(join(work, "pairs", "band-010.pairs"))) return work;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = makeCorpus(dir, docs);
  const d = await import("../lib/dedup/index.js");
  await d.runSignatureStage({ inputs: files, workDir: work, params: d.defaultDedupParams, read: d.documentReader({}, "fail"), force: true });
  await d.runBucketStage({ workDir: work, force: true });
  return work;
}

function measure(checkout: string, args: string[]): { cpu: number; rssMB: number } {
  const r = spawnSync("/usr/bin/time", ["-f", "%U %S %M", process.execPath, "--import", "tsx", join(checkout, "cli", "main.ts"), ...args],
    { cwd: checkout, encoding: "utf8" });
  const last = r.stderr.trim().split("\n").pop()!;
  if (r.status !== 0) throw new Error(`${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  const [u, s, kb] = last.split(" ").map(Number);
  return { cpu: u + s, rssMB: kb / 1024 };
}

const { values } = parseArgs({ options: {
  docs: { type: "string", default: "50000,200000" }, runs: { type: "string", default: "3" },
  "limit-mb": { type: "string", default: "8" }, before: { type: "string" }, dir: { type: "string", default: "/tmp/dedupspill-bench" },
  breakdown: { type: "boolean" }, child: { type: "string" },
} });
if (values.child) { // --child WORK,MODE,LIMIT_BYTES: stage 3 in this process, peaks sampled
  const [work, mode, limit] = values.child.split(",");
  const { runClusterStage } = await import("../lib/dedup/index.js");
  const peak = { rss: 0, heapUsed: 0, arrayBuffers: 0 };
  const t = setInterval(() => { const m = process.memoryUsage(); for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], m[k]); }, 5);
  await runClusterStage({ workDir: work, force: true, clustering: mode as "union" | "bucket", sidecar: false, memoryBytes: Number(limit) });
  clearInterval(t);
  console.log(JSON.stringify(peak));
  process.exit(0);
}
const runs = Number(values.runs);
for (const docs of values.docs!.split(",").map(Number)) {
  const work = await prepare(join(values.dir!, String(docs)), docs);
  if (values.breakdown) {
    for (const [name, mode, limit] of [["union", "union", 2 ** 31], ["bucket in memory", "bucket", 2 ** 31],
      [`bucket spilled (${values["limit-mb"]} MB)`, "bucket", Number(values["limit-mb"]) * 2 ** 20]] as const) {
      const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", `${work},${mode},${limit}`], { encoding: "utf8" });
      const p = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
      const mb = (x: number) => `${(x / 2 ** 20).toFixed(0)} MB`;
      console.log(`${docs} docs, ${name.padEnd(24)} peak RSS ${mb(p.rss)}, JS heap ${mb(p.heapUsed)}, ArrayBuffers ${mb(p.arrayBuffers)}`);
    }
    continue;
  }
  const stage3 = (extra: string[]) => ["dedup-clusters", "--work-dir", work, "--force", "--no-sidecar", "--quiet", ...extra];
  const variants: [string, string, string[]][] = [
    ["startup", root, ["dedup-clusters", "--help"]],
    ["union", root, stage3(["--clustering", "union"])],
    ["bucket in memory", root, stage3(["--clustering", "bucket"])],
    [`bucket spilled (${values["limit-mb"]} MB)`, root, stage3(["--clustering", "bucket", "--cluster-memory-mb", values["limit-mb"]!])],
  ];
  if (values.before) variants.push(["bucket, before (other checkout)", resolve(values.before), stage3(["--clustering", "bucket"])]);
  const got = new Map<string, { cpu: number[]; rss: number[] }>(variants.map(([name]) => [name, { cpu: [], rss: [] }]));
  const sha = new Map<string, string>();
  for (let r = 0; r < runs; r++) {
    for (const [name, checkout, args] of variants) {
      const m = measure(checkout, args);
      got.get(name)!.cpu.push(m.cpu);
      got.get(name)!.rss.push(m.rssMB);
      if (name !== "startup") {
        const done = JSON.parse(readFileSync(join(work, "clusters", "done.json"), "utf8"));
        sha.set(name, JSON.stringify(done.files.map((f: { sha256: string; provSha256: string }) => [f.sha256, f.provSha256])));
        if (r === 0) console.log(`${docs} docs, ${name}: ${done.clusteredDocs} clustered, ${done.retained} retained` +
          (done.buckets ? `, buckets ${done.buckets.read} read / ${done.buckets.unique} unique` : ""));
      }
    }
  }
  const clustered = JSON.parse(readFileSync(join(work, "clusters", "done.json"), "utf8")).clusteredDocs as number;
  const start = median(got.get("startup")!.cpu);
  console.log(`\n${docs} docs (${clustered} clustered), stage 3, median of ${runs} (alternated):`);
  for (const [name] of variants) {
    const g = got.get(name)!;
    const cpu = median(g.cpu);
    console.log(`  ${name.padEnd(34)} CPU ${cpu.toFixed(2)} s (${(((cpu - start) / clustered) * 1e6).toFixed(2)} µs/clustered doc net of ` +
      `startup)  peak RSS ${median(g.rss).toFixed(0)} MB  [cpu ${g.cpu.map((x) => x.toFixed(2)).join(" ")}]`);
  }
  const bucketOut = [...sha.entries()].filter(([n]) => n.startsWith("bucket")).map(([, s]) => s);
  console.log(`  bucket outputs identical across variants: ${bucketOut.every((s) => s === bucketOut[0])}`);
}
