// Benchmark of the classifier hot path against the native fastText tool, on the same model and documents:
//   node --import tsx bench/classify.ts [--docs 4000] [--bucket 2000000] [--dim 256] [--runs 3] [--model M.bin]
//     [--save-model M.bin] [--only math|lid]
//   node --import tsx bench/classify.ts --score-input 'bench/out/corpus-100MB-s1/*.parquet' --model M.bin [--runs 3]
//     [--workers 2]: the real `megamath score --langid --year-column year` command end to end (Parquet read and
//     write, worker start-up, packing, both models), run in this process: MB of input text per CPU-second of the
//     whole process (all threads), median of --runs, and the sha256 of the outputs (must not change with an edit).
// 1. Math scoring: our `score` stage (MegaMath preprocessing included; 1 worker (projected rows, the default),
//    1 worker with --exact-rows, 2 workers) vs the Debian `fasttext predict-prob M.bin FILE -1` on one thread over the already-preprocessed lines
//    (so the native side does less work than ours), runs alternated; our scores are checked against native's. Without --model, a model is trained first with the native tool using MegaMath's
//    settings (dim 256, lr 0.1, wordNgrams 3, minCount 3, epoch 3, bucket 2M: a ~2 GB model, as in production).
// 2. Language ID on lid.176.ftz: ours (one thread) vs `fasttext predict-prob lid.176.ftz FILE 1`.
// 3. With --train: training time of our trainSupervised vs `fasttext supervised`, same file, options, threads.
// Documents: real math and web documents from ../shared/data (bench/corpus/sources.ts), cycled to --docs.
// Prints docs/s and MB/s (raw text bytes) per core, medians of --runs, peak RSS, and the ratios. Throughput is given
// per CPU-second (process.cpuUsage for ours, which counts every thread of the process incl. workers; user+sys from
// /usr/bin/time for native), which stays meaningful on a loaded machine, and by wall time.
import { parseArgs } from "node:util";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSources } from "./corpus/sources.js";
import { makeBatch, type Batch } from "../lib/arrow/batch.js";
import { StageStats } from "../lib/runtime/stats.js";
import { memoryLogger } from "../lib/runtime/log.js";
import type { StageContext } from "../lib/runtime/stage.js";
import { scoreStage } from "../lib/classify/score-stage.js";
import { preprocessForFastText } from "../lib/classify/preprocess.js";
import { FastTextModel } from "../classifiers/fasttext/model.js";
import { trainSupervised } from "../classifiers/fasttext/train.js";
import { main as megamath } from "../cli/main.js";
import { expandInputs, readDocuments } from "../lib/io/index.js";
import { defaultLidModelPath, identifyLanguage, identifyLanguageBytes, langidText } from "../lib/classify/langid.js";

const { values: args } = parseArgs({
  options: {
    docs: { type: "string", default: "4000" },
    bucket: { type: "string", default: "2000000" },
    dim: { type: "string", default: "256" },
    runs: { type: "string", default: "3" },
    model: { type: "string" },
    "save-model": { type: "string" },
    only: { type: "string" },
    "batch-rows": { type: "string", default: "512" },
    train: { type: "boolean", default: false },
    "score-input": { type: "string" },
    workers: { type: "string", default: "2" },
  },
});
if (args["score-input"]) {
  await scoreCommandBench(args["score-input"], args.model, Number(args.runs), Number(args.workers));
  process.exit(0);
}
const nDocs = Number(args.docs), runs = Number(args.runs), batchRows = Number(args["batch-rows"]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rssMB = () => process.resourceUsage().maxRSS / 1024;

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.MEGAMATH_SHARED_DATA ?? resolve(here, "..", "..", "shared", "data");
const set = loadSources(dataDir);
const pool = [...set.math, ...set.web];
// Interleave classes deterministically (every 7th doc of the pooled list, cycled) so batches are mixed.
const texts = Array.from({ length: nDocs }, (_, i) => pool[(i * 7919) % pool.length].text);
const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
const dir = mkdtempSync(join(tmpdir(), "megamath-bench-classify-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
console.log(`documents: ${nDocs} (${(bytes / 1e6).toFixed(1)} MB raw text) from ${pool.length} real docs; runs: ${runs}`);

/** CPU seconds (user + system, all threads) used by this process since `since`. */
const cpuSince = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

/** Wall seconds, CPU seconds (user + sys) and peak RSS (MB) of a native command, via /usr/bin/time. */
function timeNative(cmd: string[]): { s: number; cpu: number; rssMB: number } {
  const t = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%U %S %M", ...cmd], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 26 });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  const lines = r.stderr.toString().trim().split("\n");
  const [user, sys, rss] = lines[lines.length - 1].split(" ").map(Number);
  return { s, cpu: user + sys, rssMB: rss / 1024 };
}
const doMath = !args.only || args.only === "math";
const doLid = !args.only || args.only === "lid";

// ---- the math model -------------------------------------------------------------------------------------------
let modelPath = args.model;
const train = pool.map((d) => `${d.label ? "__label__MATH" : "__label__NON_MATH"} ${preprocessForFastText(d.text)}`);
writeFileSync(join(dir, "train.txt"), train.join("\n") + "\n");
if (!modelPath && doMath) {
  const t = performance.now();
  execFileSync("fasttext", ["supervised", "-input", join(dir, "train.txt"), "-output", join(dir, "math"), "-dim", args.dim!,
    "-lr", "0.1", "-wordNgrams", "3", "-minCount", "3", "-epoch", "3", "-bucket", args.bucket!, "-thread", "2", "-verbose", "0"]);
  modelPath = join(dir, "math.bin");
  if (args["save-model"]) execFileSync("cp", [modelPath, args["save-model"]]);
  console.log(`model: trained natively on ${train.length} docs in ${((performance.now() - t) / 1000).toFixed(1)} s ` +
    `(dim ${args.dim}, bucket ${args.bucket})`);
}

// ---- preprocessing alone (the part of our scoring the native side does not do) -------------------------------
if (doMath) {
  const times: number[] = [], cpus: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now(), c = process.cpuUsage();
    for (const text of texts) preprocessForFastText(text);
    cpus.push(cpuSince(c));
    times.push((performance.now() - t) / 1000);
  }
  const s = median(times), cpu = median(cpus);
  console.log(`MegaMath preprocessing alone: ${(nDocs / cpu).toFixed(0)} docs/CPU-s, ${(bytes / 1e6 / cpu).toFixed(1)} MB/CPU-s ` +
    `(wall ${(bytes / 1e6 / s).toFixed(1)} MB/s, 1 thread)`);
}

// ---- math scoring: native, then ours -------------------------------------------------------------------------
interface Timing { s: number; cpu: number }
const line = (name: string, t: Timing, cores: number) =>
  `${name.padEnd(44)} ${(bytes / 1e6 / t.cpu).toFixed(2).padStart(7)} MB/CPU-s ${(nDocs / t.cpu).toFixed(0).padStart(6)} docs/CPU-s` +
  `  | wall ${(bytes / 1e6 / t.s / cores).toFixed(2).padStart(6)} MB/s/core (${t.s.toFixed(2)} s, ${t.cpu.toFixed(2)} CPU-s, ` +
  `${cores} core${cores > 1 ? "s" : ""})`;
writeFileSync(join(dir, "empty.txt"), "");
if (doMath) {
  const prepFile = join(dir, "prep.txt");
  writeFileSync(prepFile, texts.map(preprocessForFastText).join("\n") + "\n");
  // Native's probabilities (6 significant digits, as it prints them), to check what ours write against.
  const nativeProbs = execFileSync("fasttext", ["predict-prob", modelPath!, prepFile, "-1"], { maxBuffer: 1 << 28 }).toString()
    .trim().split("\n").map((l) => { const t = l.split(" "); return Number(t[t.indexOf("__label__MATH") + 1]); });

  const batches: Batch[] = [];
  for (let i = 0; i < nDocs; i += batchRows) {
    const part = texts.slice(i, i + batchRows);
    batches.push(makeBatch({ id: part.map((_, j) => String(i + j)), text: part }));
  }
  const ctxFor = (workers: number): StageContext => ({ stats: new StageStats("score"), file: "bench",
    shard: { index: 0, count: 1 }, seed: 0, onError: "fail", workers, log: memoryLogger(), outDir: dir });
  async function* source() { yield* batches; }

  interface Variant { name: string; workers: number; exactRows: boolean; stage: ReturnType<typeof scoreStage>;
    loadS: number; times: number[]; cpus: number[]; scores: number[] }
  const variants: Variant[] = [];
  for (const [workers, exactRows] of [[1, false], [1, true], [2, false]] as const) {
    const stage = scoreStage({ modelPath, workers, exactRows });
    // First pass loads the model (and builds the projection) and starts the workers, timed separately.
    const t0 = performance.now();
    for await (const _ of stage.run((async function* () { yield batches[0]; })(), ctxFor(workers))) void _;
    variants.push({ name: `ours, preprocessing incl., ${workers} worker${workers > 1 ? "s" : ""}${exactRows ? ", --exact-rows" : ""}`,
      workers, exactRows, stage, loadS: (performance.now() - t0) / 1000, times: [], cpus: [], scores: [] });
  }
  // Runs alternate: native (its model load, then the file), then each of ours, so load changes hit all alike.
  const natLoad: ReturnType<typeof timeNative>[] = [], natFull: ReturnType<typeof timeNative>[] = [];
  const loadAvg: number[] = [];
  for (let r = 0; r < runs; r++) {
    loadAvg.push(Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]));
    natLoad.push(timeNative(["fasttext", "predict-prob", modelPath!, join(dir, "empty.txt"), "-1"]));
    natFull.push(timeNative(["fasttext", "predict-prob", modelPath!, prepFile, "-1"]));
    for (const v of variants) {
      const t = performance.now(), c = process.cpuUsage();
      const scores: number[] = [];
      for await (const b of v.stage.run(source(), ctxFor(v.workers))) scores.push(...(b.getChild("math_score")!.toArray() as Float64Array));
      if (scores.length !== nDocs) throw new Error(`scored ${scores.length} of ${nDocs}`);
      v.cpus.push(cpuSince(c));
      v.times.push((performance.now() - t) / 1000);
      v.scores = scores;
    }
  }
  for (const v of variants) await v.stage.close!();
  const native = {
    s: Math.max(1e-9, median(natFull.map((r) => r.s)) - median(natLoad.map((r) => r.s))),
    cpu: Math.max(1e-9, median(natFull.map((r) => r.cpu)) - median(natLoad.map((r) => r.cpu))),
    rssMB: Math.max(...natFull.map((r) => r.rssMB)),
  };

  console.log(`\nmath scoring (P(__label__MATH), all labels), ${runs} alternated runs, load average ${loadAvg.map((x) => x.toFixed(1)).join(", ")}:`);
  console.log(line(`native predict-prob, 1 thread, net of load`, native, 1) + `  peak RSS ${native.rssMB.toFixed(0)} MB`);
  // --exact-rows is bit-identical to native (score-golden.test.ts), so it shows the differences below native's
  // 6 printed digits (which alone are up to 5e-6 apart from its float near 1).
  const exactScores = variants.find((v) => v.exactRows)!.scores;
  for (const v of variants) {
    const t = { s: median(v.times), cpu: median(v.cpus) };
    // Agreement with native, to its 6 printed digits: largest difference and decisions at 0.4 that differ.
    let maxDiff = 0, flips = 0, maxExact = 0;
    v.scores.forEach((p, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(p - nativeProbs[i]));
      maxExact = Math.max(maxExact, Math.abs(p - exactScores[i]));
      if ((p >= 0.4) !== (nativeProbs[i] >= 0.4)) flips++;
    });
    console.log(line(v.name, t, v.workers) + `  load+start ${v.loadS.toFixed(2)} s`);
    console.log(`  ratio per CPU-second vs native ${(native.cpu / t.cpu).toFixed(2)}x (wall ${(native.s / t.s).toFixed(2)}x, ` +
      `unreliable on a shared machine); vs native: max |p diff| ${maxDiff.toExponential(2)} (printed digits), ` +
      `${maxExact.toExponential(2)} (its float, via --exact-rows), ${flips} decisions at 0.4 differ`);
  }
}

// ---- language ID ------------------------------------------------------------------------------------------------
if (doLid) {
  const lidPath = defaultLidModelPath();
  const lidFile = join(dir, "lid.txt");
  writeFileSync(lidFile, texts.map(langidText).join("\n") + "\n");
  const warm = await FastTextModel.load(lidPath);
  for (const text of texts.slice(0, 200)) identifyLanguage(warm, text); // JIT warm-up
  // The score stage reads the UTF-8 bytes it already holds (identifyLanguageBytes); the string entry point is timed
  // too, for callers that have strings.
  const packed = Buffer.from(texts.join(""));
  const ends = texts.reduce((a, t) => (a.push(a[a.length - 1] + Buffer.byteLength(t)), a), [0]);
  const timeLid = (predict: (lid: FastTextModel) => void): { s: number; cpu: number } => {
    // A fresh model per run (load not timed): its token memo starts empty, as in a one-pass stream.
    const lid = FastTextModel.fromShared(warm.shareable());
    const t = performance.now(), c = process.cpuUsage();
    predict(lid);
    return { cpu: cpuSince(c), s: (performance.now() - t) / 1000 };
  };
  // Runs alternate: native (model load, then the file), ours from bytes, ours from strings.
  const natLoad: ReturnType<typeof timeNative>[] = [], natFull: ReturnType<typeof timeNative>[] = [];
  const oursRuns: Timing[] = [], stringRuns: Timing[] = [], loadAvg: number[] = [];
  for (let r = 0; r < runs; r++) {
    loadAvg.push(Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]));
    natLoad.push(timeNative(["fasttext", "predict-prob", lidPath, join(dir, "empty.txt"), "1"]));
    natFull.push(timeNative(["fasttext", "predict-prob", lidPath, lidFile, "1"]));
    oursRuns.push(timeLid((lid) => { for (let i = 0; i < texts.length; i++) identifyLanguageBytes(lid, packed, ends[i], ends[i + 1]); }));
    stringRuns.push(timeLid((lid) => { for (const text of texts) identifyLanguage(lid, text); }));
  }
  const native = {
    s: Math.max(1e-9, median(natFull.map((r) => r.s)) - median(natLoad.map((r) => r.s))),
    cpu: Math.max(1e-9, median(natFull.map((r) => r.cpu)) - median(natLoad.map((r) => r.cpu))),
    rssMB: Math.max(...natFull.map((r) => r.rssMB)),
  };
  const med = (xs: Timing[]): Timing => ({ s: median(xs.map((x) => x.s)), cpu: median(xs.map((x) => x.cpu)) });
  const ours = med(oursRuns), oursStrings = med(stringRuns);
  console.log(`\nlanguage ID (lid.176.ftz, top-1, newlines -> spaces), ${runs} alternated runs, load average ${loadAvg.map((x) => x.toFixed(1)).join(", ")}:`);
  console.log(line("native predict-prob, 1 thread, net of load", native, 1) + `  peak RSS ${native.rssMB.toFixed(0)} MB`);
  console.log(line("ours, main thread, UTF-8 bytes (score stage)", ours, 1));
  console.log(line("ours, main thread, from JS strings", oursStrings, 1));
  console.log(`ratio per CPU-second vs native: ${(native.cpu / ours.cpu).toFixed(2)}x (wall ${(native.s / ours.s).toFixed(2)}x); ` +
    `from strings ${(native.cpu / oursStrings.cpu).toFixed(2)}x`);
}
console.log(`\nour peak RSS (this process, all models): ${rssMB().toFixed(0)} MB`);

// ---- training -----------------------------------------------------------------------------------------------
if (args.train) {
  const trainWords = train.reduce((a, l) => a + l.split(" ").length, 0);
  console.log(`\ntraining (${train.length} docs, ${trainWords} tokens; dim ${args.dim}, lr 0.1, wordNgrams 3, minCount 3, epoch 3, bucket ${args.bucket}):`);
  for (const thread of [1, 2]) {
    const nat = median(Array.from({ length: runs }, () => timeNative(["fasttext", "supervised", "-input", join(dir, "train.txt"),
      "-output", join(dir, `nat${thread}`), "-dim", args.dim!, "-lr", "0.1", "-wordNgrams", "3", "-minCount", "3", "-epoch", "3",
      "-bucket", args.bucket!, "-thread", String(thread), "-verbose", "0"]).s));
    const mine: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      await trainSupervised(join(dir, "train.txt"), { dim: Number(args.dim), lr: 0.1, wordNgrams: 3, minCount: 3, epoch: 3,
        bucket: Number(args.bucket), thread, seed: r });
      mine.push((performance.now() - t) / 1000);
    }
    const ours = median(mine);
    console.log(`  ${thread} thread(s): native ${nat.toFixed(2)} s (incl. writing the .bin), ours ${ours.toFixed(2)} s (in memory) -> ours/native ${(ours / nat).toFixed(2)}x time`);
  }
}

/** The real score command end to end, in this process (so process.cpuUsage covers the main thread and workers). */
async function scoreCommandBench(input: string, model: string | undefined, runs: number, workers: number): Promise<void> {
  if (!model) throw new Error("--score-input needs --model M.bin (e.g. from megamath train-classifier)");
  const files = await expandInputs([input]);
  let bytes = 0, docs = 0;
  for (const f of files) {
    for await (const b of readDocuments(f)) {
      docs += b.numRows;
      for (const d of b.getChild("text")!.data) bytes += (d.valueOffsets as Int32Array)[d.length] - (d.valueOffsets as Int32Array)[0];
    }
  }
  // Own helpers: this runs before the module-level ones below are initialised.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cpuSince = (since: NodeJS.CpuUsage) => { const d = process.cpuUsage(since); return (d.user + d.system) / 1e6; };
  const out = mkdtempSync(join(tmpdir(), "megamath-bench-score-"));
  const times: number[] = [], cpus: number[] = [];
  let digest = "";
  try {
    for (let r = 0; r < runs; r++) {
      rmSync(out, { recursive: true, force: true });
      const t = performance.now(), c = process.cpuUsage();
      const code = await megamath(["score", "--model", model, "--langid", "--year-column", "year", ...files.flatMap((f) => ["--input", f]),
        "--output", out, "--workers", String(workers), "--quiet"]);
      cpus.push(cpuSince(c));
      times.push((performance.now() - t) / 1000);
      if (code !== 0) throw new Error(`score exited with ${code}`);
      const h = createHash("sha256");
      for (const f of readdirSync(out).filter((f) => f.endsWith(".parquet")).sort()) h.update(readFileSync(join(out, f)));
      digest = h.digest("hex");
      console.log(`  run ${r + 1}: ${cpus[r].toFixed(2)} CPU-s, wall ${times[r].toFixed(2)} s`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const cpu = median(cpus), s = median(times);
  console.log(`megamath score --langid --year-column year, ${workers} worker(s), ${docs} docs, ${(bytes / 1e6).toFixed(1)} MB text: ` +
    `${(bytes / 1e6 / cpu).toFixed(2)} MB/CPU-s (median ${cpu.toFixed(2)} CPU-s of ${runs}), wall ${s.toFixed(2)} s ` +
    `(${(bytes / 1e6 / s).toFixed(2)} MB/s); outputs sha256 ${digest.slice(0, 16)}`);
}
