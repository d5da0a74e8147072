// Decontamination benchmark: MB/s and docs/s per core for the 13-gram matcher alone and for the whole
// `decontaminate` pipeline (Parquet read → match → Parquet write), scaling at 2 workers, peak RSS, and quality on
// the planted benchmark leaks of the shared corpus generator.
//   node --import tsx bench/decont.ts [--size 60MB] [--runs 3] [--out bench/out/decont-60MB]
// Every measurement runs in a fresh child process pinned with taskset (core 0; cores 0,1 for 2 workers), so peak
// RSS is per measurement. Peers on the project machine (../shared/research/peer-baselines.md): datatrove
// NGramsDecontFilter 2.4 MB/s, plain Python 13-gram set scan 19.8 MB/s (one core, their Debian-docs corpus).
import { parseArgs } from "node:util";
import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

interface ChildResult {
  ms: number;
  cpuMs: number;
  maxRssMB: number;
  docs: number;
  bytes: number;
  removed?: Record<string, number>;
  /** Milliseconds per pipeline stage (read, decontaminate) from the runner's stats; the rest is writing. */
  stageMs?: Record<string, number>;
  leaksPlanted?: number;
  leaksCaught?: number;
  otherRemoved?: number;
  /** Non-planted removals whose matched n-gram really occurs in the named benchmark item (true overlaps). */
  otherGenuine?: number;
  loadMs?: number;
}

/** Matcher alone: texts already in memory as strings, one thread. */
async function childScan(corpus: string): Promise<ChildResult> {
  const { expandInputs, readDocuments } = await import("../lib/io/index.js");
  const { getTexts, getStrings } = await import("../lib/arrow/batch.js");
  const { loadIndexSet } = await import("../lib/decontam/index-set.js");
  const { Matcher } = await import("../lib/decontam/matcher.js");
  const texts: string[] = [];
  const planted: string[] = [];
  for (const f of await expandInputs([join(corpus, "*.parquet")])) {
    for await (const b of readDocuments(f, { columns: ["planted"] })) {
      texts.push(...getTexts(b));
      planted.push(...getStrings(b, "planted").map((s) => s ?? ""));
    }
  }
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t);
  const l0 = performance.now();
  const matcher = new Matcher(loadIndexSet().indexes);
  const loadMs = performance.now() - l0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let leaksPlanted = 0;
  let leaksCaught = 0;
  const others: { i: number; benchmark: string; itemId: string; ngram: string }[] = [];
  for (let i = 0; i < texts.length; i++) {
    const m = matcher.match(texts[i]);
    const leak = planted[i].startsWith("leak:");
    if (leak) leaksPlanted++;
    if (m.length && leak) leaksCaught++;
    if (m.length && !leak) others.push({ i, ...m[0] });
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  // Check every non-planted removal against the benchmark's own text (outside the timed loop).
  const { loadBuiltinBenchmarks } = await import("../lib/decontam/benchmarks.js");
  const { normalizeTokens } = await import("../lib/decontam/hash.js");
  const dataDir = process.env.MEGAMATH_SHARED_DATA ?? resolve(root, "..", "shared", "data");
  const bench = new Map(loadBuiltinBenchmarks(join(dataDir, "decontamination")).map((b) => [b.name, b]));
  const otherGenuine = others.filter((o) => {
    const item = bench.get(o.benchmark)?.items.find((it) => it.id === o.itemId);
    return !!item && [...item.texts, item.query ?? ""].some((t) => ` ${normalizeTokens(t).join(" ")} `.includes(` ${o.ngram} `));
  }).length;
  const otherRemoved = others.length;
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMB: process.resourceUsage().maxRSS / 1024, docs: texts.length, bytes,
    leaksPlanted, leaksCaught, otherRemoved, otherGenuine, loadMs };
}

/** Matcher alone on `workers` worker threads: in-memory texts packed in batches of 500 docs, order kept. */
async function childScanPool(corpus: string, workers: number): Promise<ChildResult> {
  const { expandInputs, readDocuments } = await import("../lib/io/index.js");
  const { TaskPool, orderedMap, packTexts, packedTransfer, workerFile } = await import("../lib/runtime/pool.js");
  const { makeBatch } = await import("../lib/arrow/batch.js");
  const { getTexts } = await import("../lib/arrow/batch.js");
  const { loadIndexSet } = await import("../lib/decontam/index-set.js");
  const texts: string[] = [];
  for (const f of await expandInputs([join(corpus, "*.parquet")])) for await (const b of readDocuments(f)) texts.push(...getTexts(b));
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t);
  const batches = [];
  for (let i = 0; i < texts.length; i += 500) batches.push(makeBatch({ text: texts.slice(i, i + 500) }));
  const set = loadIndexSet();
  const pool = new TaskPool({ filename: workerFile(new URL("../lib/decontam/stage.ts", import.meta.url).href, "./worker.js"), workers, workerData: { indexes: set.shared } });
  // Start the threads before the clock: a pool is started once per run, not per batch.
  await Promise.all(Array.from({ length: workers }, () => pool.run({ bytes: new Uint8Array(0), offsets: new Int32Array(1), maxMatches: 1 })));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let removed = 0;
  for await (const r of orderedMap(batches, (b) => {
    const p = packTexts(b);
    return pool.run<unknown, { rows: number[] }>({ bytes: p.bytes, offsets: p.offsets, maxMatches: 1 }, packedTransfer(p));
  }, workers * 2)) removed += r.rows.length;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  await pool.destroy();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMB: process.resourceUsage().maxRSS / 1024, docs: texts.length, bytes,
    removed: { contaminated: removed } };
}

/** The whole command path: runPipeline with the decontaminate stage, Parquet in and out. */
async function childStage(corpus: string, out: string, workers: number): Promise<ChildResult> {
  const { expandInputs } = await import("../lib/io/index.js");
  const { runPipeline } = await import("../lib/runtime/runner.js");
  const { loadIndexSet } = await import("../lib/decontam/index-set.js");
  const { decontaminateStage } = await import("../lib/decontam/stage.js");
  const inputs = await expandInputs([join(corpus, "*.parquet")]);
  rmSync(out, { recursive: true, force: true });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const stage = decontaminateStage({ indexSet: loadIndexSet() });
  const r = await runPipeline({ inputs, outDir: out, stages: [stage], workers, force: true, write: { format: "parquet" } });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const st = r.stats.stages.find((s) => s.name === "decontaminate")!;
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMB: process.resourceUsage().maxRSS / 1024, docs: st.docsIn,
    bytes: st.bytesIn, removed: st.removed, stageMs: Object.fromEntries(r.stats.stages.map((x) => [x.name, Math.round(x.timeMs)])) };
}

function runChild(cpus: string, args: string[]): Promise<ChildResult> {
  return new Promise((res, rej) => {
    const p = spawn("taskset", ["-c", cpus, process.execPath, "--import", "tsx", join(here, "decont.ts"), ...args],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (b) => (out += b));
    p.on("exit", (code) => (code === 0 ? res(JSON.parse(out.trim().split("\n").pop()!)) : rej(new Error(`child ${args.join(" ")} exited ${code}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "60MB" }, runs: { type: "string", default: "3" }, out: { type: "string" },
      child: { type: "string" }, corpus: { type: "string" }, dest: { type: "string" }, workers: { type: "string" },
    },
  });
  if (values.child) {
    const r = values.child === "scan"
      ? await childScan(values.corpus!)
      : values.child === "scan-pool"
        ? await childScanPool(values.corpus!, Number(values.workers))
        : await childStage(values.corpus!, values.dest!, Number(values.workers));
    process.stdout.write(JSON.stringify(r) + "\n");
    return;
  }
  const { makeCorpus, parseSize } = await import("./make-corpus.js");
  const size = values.size!;
  const runs = Number(values.runs);
  const base = resolve(values.out ?? join(root, "bench", "out", `decont-${size}`));
  const corpus = join(base, "corpus");
  if (!existsSync(join(corpus, "corpus.json"))) {
    process.stderr.write(`building corpus ${size} in ${corpus} ...\n`);
    await makeCorpus({ out: corpus, seed: 1, sizeBytes: parseSize(size), shards: 4 });
  }
  const rows: string[] = [];
  const line = (name: string, rs: ChildResult[], cores: number, extra = "") => {
    const ms = median(rs.map((r) => r.ms));
    const r0 = rs[0];
    const mbs = r0.bytes / 1e6 / (ms / 1000);
    const dps = r0.docs / (ms / 1000);
    rows.push(`| ${name} | ${cores} | ${r0.docs} | ${(r0.bytes / 1e6).toFixed(1)} | ${(ms / 1000).toFixed(2)} | ${mbs.toFixed(1)} | ` +
      `${(mbs / cores).toFixed(1)} | ${Math.round(dps / cores)} | ${median(rs.map((r) => r.maxRssMB)).toFixed(0)} | ${extra} |`);
    process.stderr.write(rows[rows.length - 1] + "\n");
  };

  const scan: ChildResult[] = [];
  for (let i = 0; i < runs; i++) scan.push(await runChild("0", ["--child", "scan", "--corpus", corpus]));
  const s0 = scan[0];
  line("matcher only (texts in memory)", scan, 1,
    `CPU ${(s0.bytes / 1e6 / (median(scan.map((r) => r.cpuMs)) / 1000)).toFixed(1)} MB/s; index load ${median(scan.map((r) => r.loadMs!)).toFixed(0)} ms; ` +
    `leaks caught ${s0.leaksCaught}/${s0.leaksPlanted}; other docs removed ${s0.otherRemoved}, of which real overlaps with the ` +
    `benchmark text ${s0.otherGenuine}`);
  for (const w of [1, 2]) {
    const rs: ChildResult[] = [];
    for (let i = 0; i < runs; i++) rs.push(await runChild(w === 1 ? "0" : "0,1", ["--child", "scan-pool", "--corpus", corpus, "--workers", String(w)]));
    line(`matcher on ${w} worker thread${w > 1 ? "s" : ""} (texts in memory, pool started)`, rs, w,
      `CPU ${(median(rs.map((r) => r.cpuMs)) / 1000).toFixed(2)} s (process, all threads); removed ${rs[0].removed!.contaminated}`);
  }
  for (const w of [1, 2]) {
    const rs: ChildResult[] = [];
    for (let i = 0; i < runs; i++) rs.push(await runChild(w === 1 ? "0" : "0,1", ["--child", "stage", "--corpus", corpus, "--dest", join(base, `out-w${w}`), "--workers", String(w)]));
    const ms = (k: string) => median(rs.map((r) => r.stageMs?.[k] ?? 0));
    line(`decontaminate pipeline, Parquet→Parquet, ${w} worker${w > 1 ? "s" : ""}`, rs, w,
      `CPU ${(median(rs.map((r) => r.cpuMs)) / 1000).toFixed(2)} s; stage time: read ${ms("read")} ms, decontaminate ` +
      `${ms("decontaminate")} ms (${(rs[0].bytes / 1e3 / ms("decontaminate")).toFixed(1)} MB/s); removed ${JSON.stringify(rs[0].removed)}`);
  }
  const header = [
    `decontamination, corpus ${size} (${corpus}), median of ${runs} runs, each in a fresh process pinned with taskset`,
    "| measurement | cores | docs | MB | wall s | MB/s | MB/s per core | docs/s per core | peak RSS MB | notes |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  process.stdout.write([...header, ...rows].join("\n") + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + "\n");
  process.exit(1);
});
