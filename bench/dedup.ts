// Dedup benchmark: docs/s and MB/s per core for each of the four stages, scaling with 2 shard processes, peak
// RSS per stage, intermediate disk per million documents, and the projected cost of 100M docs / 264B tokens.
//   node --import tsx bench/dedup.ts [--size 60MB] [--runs 3] [--out bench/out/dedup-60MB]
//   node --import tsx bench/dedup.ts --kernel [--size 40MB] [--runs 5]   (stage-1 compute only, see kernel())
//   node --import tsx bench/dedup.ts --size 233MB --doc-kb 4.45 --format jsonl --runs 3 --one-core   (datatrove's
//     peer-baseline setting: its corpus's size and document sizes, JSONL in, gzipped JSONL out; issue #5's target
//     is >= 3,552 docs per CPU-second for stages 1-4 together)
// Each measurement runs in a fresh child process pinned with taskset (1 core; 2 cores for the 2-shard runs), so
// peak RSS is per stage. Input: the shared corpus generator (bench/make-corpus.ts), 4 files, Parquet (default) or
// JSONL (--format jsonl); --doc-kb picks the sized document-length profile (GenerateOptions.docKB). Stage 4 writes
// Parquet for Parquet input and .jsonl.gz for JSONL input (what datatrove wrote) unless --output-format says.
// --workers N gives stages 1 and 4 N worker threads (default 0: main thread; stage 4 compresses .jsonl.gz in them),
// --cores K pins each run to K cores (default 1), --compression-level L sets stage 4's level. --one-core skips the 2-shard runs; --stages 1,4 measures only those stages (the others run once, untimed, when
// their input is missing). --clustering bucket times stage 3's bucket-feasible mode (and stage 4 applies it).
// --datatrove SRC (a datatrove source checkout; with --format jsonl) runs our four stages in one process and
// datatrove's (bench/peers/datatrove_minhash.py, Debian's python3) alternated on the same corpus and prints the
// ratio of whole-process CPU-seconds (bench/dedup-datatrove.ts); --compression-level 1,6,9 times each of our levels
// every round, --datatrove-level L changes datatrove's (default: its own 9).
// What the two stage-3 modes decide (retained, largest cluster, false removals, recall): bench/dedup-quality.ts.
import { parseArgs } from "node:util";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync, rmSync, readFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

type InputFormat = "parquet" | "jsonl";
type OutputFormat = "parquet" | "jsonl" | "jsonl.gz";

async function child(stage: string, corpus: string, work: string, out: string, shard: string, format: InputFormat,
  outFormat: OutputFormat, clustering: "union" | "bucket", workers: number, level: number | undefined): Promise<void> {
  const { expandInputs } = await import("../lib/io/index.js");
  const inputs = await expandInputs([join(corpus, `*.${format}`)]);
  const [i, n] = shard.split("/").map(Number);
  const sh = { index: i, count: n };
  const runStage = (s: string) => runStageIn(s, inputs, work, out, sh, outFormat, clustering, workers, level);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  if (stage === "all") {
    // The four stages in one process, as `megamath dedup` runs them (bench/dedup-datatrove.ts times the process
    // from outside; the per-stage CPU-seconds here are process-wide, every thread counted).
    const stages: Record<string, number> = {};
    for (const s of ["1", "2", "3", "4"]) {
      const s0 = process.cpuUsage();
      await runStage(s);
      const c = process.cpuUsage(s0);
      stages[s] = (c.user + c.system) / 1e6;
    }
    const c = process.cpuUsage(c0);
    process.stdout.write(JSON.stringify({ ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, stages,
      maxRssMB: process.resourceUsage().maxRSS / 1024 }) + "\n");
    return;
  }
  await runStage(stage);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  process.stdout.write(JSON.stringify({ ms, cpuMs, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + "\n");
}

async function runStageIn(stage: string, inputs: string[], work: string, out: string, sh: { index: number; count: number },
  outFormat: OutputFormat, clustering: "union" | "bucket", workers: number, level: number | undefined): Promise<void> {
  const d = await import("../lib/dedup/index.js");
  const { runPipeline } = await import("../lib/runtime/runner.js");
  if (stage === "1") {
    await d.runSignatureStage({ inputs, workDir: work, params: d.defaultDedupParams, read: d.documentReader({}, "fail"), shard: sh, force: true, workers });
  } else if (stage === "2") {
    await d.runBucketStage({ workDir: work, shard: sh, force: true });
  } else if (stage === "3") {
    await d.runClusterStage({ workDir: work, force: true, clustering });
  } else {
    await runPipeline({ inputs, outDir: out, stages: [d.dedupFilterStage({ workDir: work, inputs })], shard: sh, force: true,
      write: { format: outFormat, level }, workers });
  }
}

/** CPU seconds of the calling thread's process spent in fn (user + system). */
function cpuSeconds(fn: () => void): { cpu: number; wall: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1000 };
}

/** Stage-1 compute without I/O: the corpus is read into memory first (not timed), then prenormalize alone, full
 * signatures + band keys from JS strings, and the same from the UTF-8 bytes of the Arrow text column (what stage
 * 1 does) are timed by CPU time (wall time is unreliable on a shared machine). The digests of all signatures and
 * band keys must agree between the two paths and must not change when the hashing code is optimised. */
async function kernel(corpus: string, runs: number, format: InputFormat): Promise<void> {
  const { expandInputs } = await import("../lib/io/index.js");
  const { getTexts } = await import("../lib/arrow/batch.js");
  const { StageStats } = await import("../lib/runtime/stats.js");
  const d = await import("../lib/dedup/index.js");
  const texts: string[] = [];
  const rows: { bytes: Uint8Array; offs: Int32Array; n: number }[] = [];
  for (const f of await expandInputs([join(corpus, `*.${format}`)])) {
    for await (const b of d.documentReader({}, "fail")(f, new StageStats("read"))) {
      texts.push(...getTexts(b));
      for (const data of b.getChild("text")!.data) {
        rows.push({ bytes: data.values as Uint8Array, offs: data.valueOffsets as Int32Array, n: data.length });
      }
    }
  }
  const mb = texts.reduce((n, t) => n + Buffer.byteLength(t), 0) / 1e6;
  const h = new d.MinHasher(d.defaultDedupParams);
  const sig = new Uint32Array(h.numHashes);
  const key = new Uint32Array(2 * d.defaultDedupParams.bands);
  const digests: Record<string, string> = {};
  const sign = (name: string, docs: Iterable<(s: Uint32Array) => boolean>) => () => {
    const hash = createHash("sha256");
    for (const signOne of docs) {
      if (!signOne(sig)) { hash.update("-"); continue; }
      for (let b = 0; b < d.defaultDedupParams.bands; b++) h.bandKey(sig, b, key, 2 * b);
      hash.update(sig);
      hash.update(key);
    }
    digests[name] = hash.digest("hex").slice(0, 16);
  };
  const fromStrings = function* () { for (const t of texts) yield (s: Uint32Array) => h.signature(t, s); };
  const fromBytes = function* () {
    for (const r of rows) for (let i = 0; i < r.n; i++) yield (s: Uint32Array) => h.signatureUtf8(r.bytes, r.offs[i], r.offs[i + 1], s);
  };
  const pre: number[] = [], full: number[] = [], wall: number[] = [], bytes: number[] = [];
  for (let r = 0; r < runs; r++) {
    pre.push(cpuSeconds(() => { for (const t of texts) d.prenormalize(t); }).cpu);
    const x = cpuSeconds(sign("strings", fromStrings()));
    full.push(x.cpu);
    wall.push(x.wall);
    bytes.push(cpuSeconds(sign("utf8", fromBytes())).cpu);
  }
  const n = texts.length;
  const line = (name: string, s: number) =>
    `${name.padEnd(30)} ${s.toFixed(3)} CPU-s  ${(n / s).toFixed(0)} docs/CPU-s  ${(mb / s).toFixed(1)} MB/CPU-s`;
  process.stdout.write([
    `kernel: ${n} docs, ${mb.toFixed(1)} MB in memory; ${runs} runs, medians`,
    line("prenormalize", median(pre)),
    line("signature + band keys (string)", median(full)) + `  (wall ${median(wall).toFixed(3)} s)`,
    line("signature + band keys (UTF-8)", median(bytes)),
    `digest ${digests.strings} (strings) ${digests.utf8} (UTF-8)${digests.strings === digests.utf8 ? "" : "  DIFFERENT!"}`,
  ].join("\n") + "\n");
}

function runChild(cpus: string, args: string[]): Promise<{ ms: number; cpuMs: number; maxRssMB: number }> {
  return new Promise((res, rej) => {
    const p = spawn("taskset", ["-c", cpus, process.execPath, "--import", "tsx", join(here, "dedup.ts"), ...args],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (b) => (out += b));
    p.on("exit", (code) => (code === 0 ? res(JSON.parse(out.trim().split("\n").pop()!)) : rej(new Error(`child ${args.join(" ")} exited ${code}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function dirBytes(d: string): number {
  if (!existsSync(d)) return 0;
  let n = 0;
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    const s = statSync(p);
    n += s.isDirectory() ? dirBytes(p) : s.size;
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    size: { type: "string", default: "60MB" }, runs: { type: "string", default: "3" }, out: { type: "string" },
    child: { type: "string" }, corpus: { type: "string" }, work: { type: "string" }, output: { type: "string" },
    shard: { type: "string", default: "0/1" }, kernel: { type: "boolean", default: false },
    "doc-kb": { type: "string" }, format: { type: "string", default: "parquet" }, "output-format": { type: "string" },
    "one-core": { type: "boolean", default: false }, stages: { type: "string", default: "1,2,3,4" },
    clustering: { type: "string", default: "union" },
    workers: { type: "string", default: "0" }, "compression-level": { type: "string" }, cores: { type: "string", default: "1" },
    datatrove: { type: "string" }, "datatrove-level": { type: "string" }, python: { type: "string", default: "/usr/bin/python3" },
  } });
  const workers = Number(values.workers);
  // --datatrove takes a list of our levels (each timed every round); otherwise one level.
  const levels = values["compression-level"] === undefined ? [undefined] : values["compression-level"].split(",").map(Number);
  if (levels.some((l) => l !== undefined && !(Number.isInteger(l) && l >= 0 && l <= 9))) throw new Error(`--compression-level takes 0-9, got "${values["compression-level"]}"`);
  if (levels.length > 1 && !values.datatrove) throw new Error("a list of --compression-level values needs --datatrove");
  const level = levels[0];
  const clustering = values.clustering as "union" | "bucket";
  if (clustering !== "union" && clustering !== "bucket") throw new Error(`--clustering must be union or bucket, got "${clustering}"`);
  const format = values.format as InputFormat;
  if (format !== "parquet" && format !== "jsonl") throw new Error(`--format must be parquet or jsonl, got "${format}"`);
  const outFormat = (values["output-format"] ?? (format === "jsonl" ? "jsonl.gz" : "parquet")) as OutputFormat;
  if (!["parquet", "jsonl", "jsonl.gz"].includes(outFormat)) throw new Error(`--output-format must be parquet, jsonl or jsonl.gz, got "${outFormat}"`);
  if (values.child) return child(values.child, values.corpus!, values.work!, values.output!, values.shard!, format, outFormat, clustering, workers, level);
  const docKB = values["doc-kb"] === undefined ? undefined : Number(values["doc-kb"]);
  if (docKB !== undefined && !(docKB > 0)) throw new Error(`--doc-kb must be a positive number of KB, got "${values["doc-kb"]}"`);
  const timed = values.stages!.split(",").map((x) => x.trim());
  if (!timed.length || timed.some((x) => !["1", "2", "3", "4"].includes(x))) throw new Error(`--stages takes a list of 1-4, got "${values.stages}"`);

  const profile = (docKB !== undefined ? `-${docKB}kb` : "") + (format === "jsonl" ? "-jsonl" : "");
  const base = resolve(values.out ?? join(here, "out", `dedup-${values.size}${profile}`));
  const corpus = join(base, "corpus");
  if (!existsSync(join(corpus, "corpus.json"))) {
    const { makeCorpus, parseSize } = await import("./make-corpus.js");
    await makeCorpus({ out: corpus, seed: 1, sizeBytes: parseSize(values.size!), shards: 4, docKB, format });
  }
  const meta = JSON.parse(readFileSync(join(corpus, "corpus.json"), "utf8")) as {
    docs: number; textBytes: number; docBytes?: { mean: number; p10: number; median: number; p90: number };
  };
  const runs = Number(values.runs);
  if (values.kernel) return kernel(corpus, runs, format);
  if (values.datatrove) {
    if (format !== "jsonl" || outFormat !== "jsonl.gz") throw new Error("--datatrove needs --format jsonl (and gzipped JSONL out)");
    const { sideBySide } = await import("./dedup-datatrove.js");
    return sideBySide({ root, benchFile: join(here, "dedup.ts"), corpus, base, docs: meta.docs, runs, levels, workers,
      datatrove: resolve(values.datatrove), python: values.python!, core: values.cores === "1" ? "0" : `0-${Number(values.cores) - 1}`,
      datatroveLevel: values["datatrove-level"] === undefined ? undefined : Number(values["datatrove-level"]) });
  }
  const work = join(base, "work");
  const out = join(base, "output");
  const a = (stage: string, shard = "0/1") =>
    ["--child", stage, "--corpus", corpus, "--work", work, "--output", out, "--shard", shard, "--format", format,
      "--output-format", outFormat, "--clustering", clustering, "--workers", String(workers),
      ...(level === undefined ? [] : ["--compression-level", String(level)])];
  rmSync(work, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });

  const all = ["1", "2", "3", "4"];
  const cores = Number(values.cores);
  const pin = cores > 1 ? `0-${cores - 1}` : "0";
  const one: Record<string, { ms: number[]; cpu: number[]; rss: number[] }> = {};
  const two: Record<string, number[]> = {};
  for (let r = 0; r < runs; r++) {
    for (const s of all) {
      // A stage left out of --stages still runs once (untimed) so that the later stages have their input.
      if (!timed.includes(s)) {
        if (r === 0) await runChild(pin, a(s));
        continue;
      }
      const x = await runChild(pin, a(s));
      (one[s] ??= { ms: [], cpu: [], rss: [] }).ms.push(x.ms);
      one[s].cpu.push(x.cpuMs);
      one[s].rss.push(x.maxRssMB);
    }
    // Two shard processes on two cores (stage 3 is a single task by design).
    if (!values["one-core"]) {
      for (const s of ["1", "2", "4"].filter((x) => timed.includes(x))) {
        const xs = await Promise.all([runChild("0", a(s, "0/2")), runChild("1", a(s, "1/2"))]);
        (two[s] ??= []).push(Math.max(xs[0].ms, xs[1].ms)); // in-process time of the slower shard
      }
    }
  }
  const docs = meta.docs;
  const mb = meta.textBytes / 1e6;
  const lines: string[] = [];
  const sizes = meta.docBytes
    ? ` (doc bytes mean ${meta.docBytes.mean}, p10 ${meta.docBytes.p10}, median ${meta.docBytes.median}, p90 ${meta.docBytes.p90})`
    : ` (mean ${((meta.textBytes / docs) / 1000).toFixed(2)} KB)`;
  lines.push(`corpus: ${docs} docs, ${mb.toFixed(1)} MB text${sizes}, 4 ${format === "jsonl" ? "JSONL" : "Parquet"} files, ` +
    `stage 4 writes ${outFormat}${level === undefined ? "" : ` at level ${level}`}; stages 1 and 4 with ${workers} worker thread(s); ` +
    `${runs} runs, medians; pinned with taskset -c ${pin} (CPU time counts every thread)`);
  let totalMs = 0;
  let totalCpuMs = 0;
  const names: Record<string, string> = { "1": "signatures", "2": "buckets", "3": "clusters", "4": "filter" };
  for (const s of all.filter((x) => timed.includes(x))) {
    const ms = median(one[s].ms);
    const cpuMs = median(one[s].cpu);
    totalMs += ms;
    totalCpuMs += cpuMs;
    const scale = two[s] ? `, 2 shards: ${(docs / (median(two[s]) / 1000)).toFixed(0)} docs/s (x${(ms / median(two[s])).toFixed(2)}, slower shard)` : "";
    lines.push(`stage ${s} ${names[s].padEnd(10)} ${(ms / 1000).toFixed(2)} s  ${(docs / (ms / 1000)).toFixed(0)} docs/s/core  ` +
      `${(mb / (ms / 1000)).toFixed(1)} MB/s/core  peak RSS ${median(one[s].rss).toFixed(0)} MiB${scale}`);
    // CPU time (user + system of the pinned child) is what a loaded, shared machine does not distort.
    lines.push(`        cpu ${(cpuMs / 1000).toFixed(2)} CPU-s  ${(docs / (cpuMs / 1000)).toFixed(0)} docs/CPU-s  ` +
      `${(mb / (cpuMs / 1000)).toFixed(1)} MB/CPU-s`);
  }
  const which = timed.length === 4 ? "stages 1-4" : `stages ${timed.join("+")}`;
  if (timed.length !== 4) {
    process.stdout.write(lines.concat(`${which} by CPU time: ${(totalCpuMs / 1000).toFixed(2)} CPU-s, ` +
      `${(docs / (totalCpuMs / 1000)).toFixed(0)} docs/CPU-s, ${(mb / (totalCpuMs / 1000)).toFixed(1)} MB/CPU-s`).join("\n") + "\n");
    return;
  }
  const perCore = docs / (totalMs / 1000);
  lines.push(`stages 1-4: ${(totalMs / 1000).toFixed(2)} s, ${perCore.toFixed(0)} docs/s/core, ${(mb / (totalMs / 1000)).toFixed(1)} MB/s/core ` +
    `(datatrove on this machine: 444 docs/s/core => x${(perCore / 444).toFixed(1)})`);
  const perCpu = docs / (totalCpuMs / 1000);
  lines.push(`stages 1-4 by CPU time: ${(totalCpuMs / 1000).toFixed(2)} CPU-s, ${perCpu.toFixed(0)} docs/CPU-s, ` +
    `${(mb / (totalCpuMs / 1000)).toFixed(1)} MB/CPU-s; 100M docs of this size = ${(100e6 / perCpu / 3600).toFixed(1)} core-hours ` +
    `(issue #5 target: >= 3,552 docs/CPU-s = 8 x datatrove's 444 on its 4.45 KB docs => x${(perCpu / 444).toFixed(1)})`);
  const inter = dirBytes(work);
  lines.push(`intermediate disk: ${(inter / 1e6).toFixed(1)} MB = ${((inter / docs) * 1e6 / 1e6).toFixed(0)} MB per million docs`);
  const bytesPerToken = 3.7; // Llama-3 tokenizer on the peer-baseline corpus (peer-baselines.md)
  const tokHours = (264e9 * bytesPerToken) / 1e6 / (mb / (totalMs / 1000)) / 3600;
  lines.push(`projection: 100M docs = ${(100e6 / perCore / 3600).toFixed(1)} core-hours; 264B tokens (~${(264e9 * bytesPerToken / 1e12).toFixed(2)} TB ` +
    `text at ${bytesPerToken} B/token) = ${tokHours.toFixed(0)} core-hours at this corpus's MB/s`);
  process.stdout.write(lines.join("\n") + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + "\n");
  process.exit(1);
});
