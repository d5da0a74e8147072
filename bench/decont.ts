// Decontamination benchmark: MB per CPU-second (the figure that survives a shared machine) and docs per CPU-second
// for the 13-gram matcher alone and for the whole `megamath decontaminate` command (Parquet in, Parquet out, report),
// with 1 and 2 workers (wall and CPU, so the scaling shows), peak RSS, and quality on the planted benchmark leaks of
// the shared corpus generator.
//   node --import tsx bench/decont.ts [--size 120MB] [--runs 3] [--out bench/out/decont-120MB] [--skip-command]
// Every measurement runs in a fresh process pinned with taskset (core 0; cores 0,1 for 2 workers), so peak RSS is
// per measurement; each row is the median of --runs runs. Peers on the project machine
// (../shared/research/peer-baselines.md): datatrove NGramsDecontFilter 2.4 MB/s, plain Python 13-gram set scan
// 19.8 MB/s (one core, their Debian-docs corpus). Issue #5's target: >= 50 MB/s per core.
import { parseArgs } from "node:util";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

interface Measure {
  wallMs: number;
  cpuMs: number;
  maxRssMB: number;
}

interface ScanResult {
  docs: number;
  bytes: number;
  /** match(text) on JS strings, and matchUtf8 on the UTF-8 bytes in place (what the stage does). */
  strings: Measure;
  utf8: Measure;
  maxRssMB: number;
  loadMs: number;
  leaksPlanted: number;
  leaksCaught: number;
  otherRemoved: number;
  /** Non-planted removals whose matched n-gram really occurs in the named benchmark item (true overlaps). */
  otherGenuine: number;
}

interface PoolResult extends Measure {
  docs: number;
  bytes: number;
  removed: number;
}

/** Matcher alone, one thread: all texts in memory first, then timed passes (strings, then UTF-8 in place). */
async function childScan(corpus: string): Promise<ScanResult> {
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
  const enc = new TextEncoder();
  const parts = texts.map((t) => enc.encode(t));
  const offsets = new Int32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i] + parts[i].length;
  const packed = new Uint8Array(offsets[parts.length]);
  parts.forEach((p, i) => packed.set(p, offsets[i]));
  parts.length = 0;
  const l0 = performance.now();
  const matcher = new Matcher(loadIndexSet().indexes);
  const loadMs = performance.now() - l0;
  // Warm up both paths on a few documents first (JIT, lazily filled character tables), so neither timed pass pays
  // for it and the order of the two passes does not matter.
  for (let i = 0; i < Math.min(300, texts.length); i++) {
    matcher.match(texts[i]);
    matcher.matchUtf8(packed, offsets[i], offsets[i + 1]);
  }
  let leaksPlanted = 0;
  let leaksCaught = 0;
  const others: { i: number; benchmark: string; itemId: string; ngram: string }[] = [];
  const strings = timed(() => {
    for (let i = 0; i < texts.length; i++) {
      const m = matcher.match(texts[i]);
      const leak = planted[i].startsWith("leak:");
      if (leak) leaksPlanted++;
      if (m.length && leak) leaksCaught++;
      if (m.length && !leak) others.push({ i, ...m[0] });
    }
  });
  let removedUtf8 = 0;
  const utf8 = timed(() => {
    for (let i = 0; i < texts.length; i++) if (matcher.matchUtf8(packed, offsets[i], offsets[i + 1]).length) removedUtf8++;
  });
  if (removedUtf8 !== leaksCaught + others.length) throw new Error(`matchUtf8 removed ${removedUtf8}, match ${leaksCaught + others.length}`);
  // Check every non-planted removal against the benchmark's own text (outside the timed loops).
  const { loadBuiltinBenchmarks } = await import("../lib/decontam/benchmarks.js");
  const { normalizeTokens } = await import("../lib/decontam/hash.js");
  const dataDir = process.env.MEGAMATH_SHARED_DATA ?? resolve(root, "..", "shared", "data");
  const bench = new Map(loadBuiltinBenchmarks(join(dataDir, "decontamination")).map((b) => [b.name, b]));
  const otherGenuine = others.filter((o) => {
    const item = bench.get(o.benchmark)?.items.find((it) => it.id === o.itemId);
    return !!item && [...item.texts, item.query ?? ""].some((t) => ` ${normalizeTokens(t).join(" ")} `.includes(` ${o.ngram} `));
  }).length;
  return { docs: texts.length, bytes: packed.length, strings, utf8, maxRssMB: rssMB(), loadMs, leaksPlanted, leaksCaught,
    otherRemoved: others.length, otherGenuine };
}

/** Matcher alone on `workers` worker threads: in-memory texts packed in batches of 500 docs, order kept. */
async function childScanPool(corpus: string, workers: number): Promise<PoolResult> {
  const { expandInputs, readDocuments } = await import("../lib/io/index.js");
  const { TaskPool, orderedMap, packTexts, packedTransfer, workerFile } = await import("../lib/runtime/pool.js");
  const { makeBatch, getTexts, textBytes } = await import("../lib/arrow/batch.js");
  const { loadIndexSet } = await import("../lib/decontam/index-set.js");
  const texts: string[] = [];
  for (const f of await expandInputs([join(corpus, "*.parquet")])) for await (const b of readDocuments(f)) texts.push(...getTexts(b));
  const batches = [];
  for (let i = 0; i < texts.length; i += 500) batches.push(makeBatch({ text: texts.slice(i, i + 500) }));
  const bytes = batches.reduce((a, b) => a + textBytes(b), 0);
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
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  await pool.destroy();
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMB: rssMB(), docs: texts.length, bytes, removed };
}

function timed(f: () => void): Measure {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMB: rssMB() };
}

function rssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function runChild<T>(cpus: string, args: string[]): Promise<T> {
  return new Promise((res, rej) => {
    const p = spawn("taskset", ["-c", cpus, process.execPath, "--import", "tsx", join(here, "decont.ts"), ...args],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (b) => (out += b));
    p.on("exit", (code) => (code === 0 ? res(JSON.parse(out.trim().split("\n").pop()!)) : rej(new Error(`child ${args.join(" ")} exited ${code}`))));
  });
}

/**
 * The real command, `megamath decontaminate` (CLI from the sources under tsx, which the process's CPU includes:
 * about 1 s of compiling), under /usr/bin/time for wall, user+system CPU and peak RSS of the whole process.
 */
function runCommand(cpus: string, corpus: string, out: string, report: string, workers: number): Promise<Measure> {
  rmSync(out, { recursive: true, force: true });
  return new Promise((res, rej) => {
    const args = ["-f", "%e %U %S %M", "taskset", "-c", cpus, process.execPath, "--import", "tsx", join(root, "cli", "main.ts"),
      "decontaminate", "-i", join(corpus, "*.parquet"), "-o", out, "--report", report, "--workers", String(workers), "--quiet"];
    const p = spawn("/usr/bin/time", args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (b) => (err += b));
    p.on("exit", (code) => {
      const last = err.trim().split("\n").pop() ?? "";
      const [e, u, s, m] = last.split(" ").map(Number);
      if (code !== 0 || !Number.isFinite(m)) return rej(new Error(`megamath decontaminate exited ${code}: ${err}`));
      res({ wallMs: e * 1000, cpuMs: (u + s) * 1000, maxRssMB: m / 1024 });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "120MB" }, runs: { type: "string", default: "3" }, out: { type: "string" },
      "skip-command": { type: "boolean", default: false },
      child: { type: "string" }, corpus: { type: "string" }, workers: { type: "string" },
    },
  });
  if (values.child) {
    const r = values.child === "scan" ? await childScan(values.corpus!) : await childScanPool(values.corpus!, Number(values.workers));
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
  const meta = JSON.parse(readFileSync(join(corpus, "corpus.json"), "utf8")) as { docs: number; textBytes: number };
  const rows: string[] = [];
  /** One table row from the per-run measures: medians of wall, CPU and peak RSS. */
  const line = (name: string, workers: number, ms: Measure[], docs: number, bytes: number, notes = "") => {
    const wall = median(ms.map((m) => m.wallMs)) / 1000;
    const cpu = median(ms.map((m) => m.cpuMs)) / 1000;
    rows.push(`| ${name} | ${workers} | ${(wall).toFixed(2)} | ${cpu.toFixed(2)} | **${(bytes / 1e6 / cpu).toFixed(1)}** | ` +
      `${Math.round(docs / cpu)} | ${(bytes / 1e6 / wall).toFixed(1)} | ${median(ms.map((m) => m.maxRssMB)).toFixed(0)} | ${notes} |`);
    process.stderr.write(rows[rows.length - 1] + "\n");
    return { wall, cpu };
  };

  const scan: ScanResult[] = [];
  for (let i = 0; i < runs; i++) scan.push(await runChild<ScanResult>("0", ["--child", "scan", "--corpus", corpus]));
  const s0 = scan[0];
  line("matcher, `matchUtf8` on UTF-8 in memory (what the stage runs)", 1, scan.map((r) => ({ ...r.utf8, maxRssMB: r.maxRssMB })), s0.docs, s0.bytes,
    `index load ${median(scan.map((r) => r.loadMs)).toFixed(0)} ms`);
  line("matcher, `match` on JS strings in memory", 1, scan.map((r) => ({ ...r.strings, maxRssMB: r.maxRssMB })), s0.docs, s0.bytes,
    `leaks caught ${s0.leaksCaught}/${s0.leaksPlanted}; other docs removed ${s0.otherRemoved}, of which real overlaps with the ` +
    `benchmark text ${s0.otherGenuine}`);
  const pool: Record<number, { wall: number; cpu: number }> = {};
  for (const w of [1, 2]) {
    const rs: PoolResult[] = [];
    for (let i = 0; i < runs; i++) rs.push(await runChild<PoolResult>(w === 1 ? "0" : "0,1", ["--child", "scan-pool", "--corpus", corpus, "--workers", String(w)]));
    pool[w] = line(`matcher on ${w} worker thread${w > 1 ? "s" : ""} (texts in memory, pool started)`, w, rs, rs[0].docs, rs[0].bytes,
      (w > 1 ? `wall speed-up ×${(pool[1].wall / (median(rs.map((r) => r.wallMs)) / 1000)).toFixed(2)} over 1 thread; ` : "") +
        `removed ${rs[0].removed}`);
  }
  if (!values["skip-command"]) {
    const cmd: Record<number, { wall: number; cpu: number }> = {};
    for (const w of [1, 2]) {
      const ms: Measure[] = [];
      for (let i = 0; i < runs; i++) ms.push(await runCommand(w === 1 ? "0" : "0,1", corpus, join(base, `out-w${w}`), join(base, `report-w${w}.jsonl`), w));
      const stats = JSON.parse(readFileSync(join(base, `out-w${w}`, "stats.json"), "utf8"));
      const st = stats.stages.find((s: { name: string }) => s.name === "decontaminate");
      cmd[w] = line(`\`megamath decontaminate\`, Parquet → Parquet + report, whole process`, w, ms, meta.docs, meta.textBytes,
        (w > 1 ? `wall ×${(cmd[1].wall / median(ms.map((m) => m.wallMs / 1000))).toFixed(2)}, CPU ×${(median(ms.map((m) => m.cpuMs / 1000)) / cmd[1].cpu).toFixed(2)} vs 1 worker; ` : "") +
          `removed ${JSON.stringify(st.removed)}`);
    }
    const same = readFileSync(join(base, "report-w1.jsonl")).equals(readFileSync(join(base, "report-w2.jsonl")));
    if (!same) throw new Error("1 and 2 workers wrote different reports");
  }
  const header = [
    `decontamination, corpus ${size} (${corpus}: ${meta.docs} docs, ${(meta.textBytes / 1e6).toFixed(1)} MB of text), ` +
      `median of ${runs} runs, each in a fresh process pinned with taskset; MB = text bytes (UTF-8)`,
    "| measurement | workers | wall s | CPU s | MB per CPU-s | docs per CPU-s | MB/s wall | peak RSS MB | notes |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  process.stdout.write([...header, ...rows].join("\n") + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + "\n");
  process.exit(1);
});
