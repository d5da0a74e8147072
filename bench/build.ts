// Time the whole Pro-Max recipe on a generated MegaMath-Web-like corpus and project the cost of the real thing.
//   node --import tsx bench/build.ts --size 200MB --seed 1 [--workers 2] [--set score.exact-rows=true ...] [--out DIR]
// Prints, per step: docs/s and MB/s per core, CPU-seconds per GB of the build's input text, and the projected
// core-hours to run that step on all of MegaMath-Web (~1 TB of text), scaled by the share of bytes that reaches the
// step in this run; then the total CPU-seconds per GB and core-hours per GB of the pre-LLM part (every step the
// table lists). Steps run one at a time (--jobs 1) so each one's CPU-seconds are its own. Peak RSS is the whole
// process's (all steps run in it).
import { parseArgs } from "node:util";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { availableParallelism } from "node:os";
import { makeCorpus, parseSize } from "./make-corpus.js";
import { main as megamath } from "../cli/main.js";
import type { Report } from "../recipe/report/collect.js";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "200MB" }, seed: { type: "string", default: "1" },
    workers: { type: "string", default: String(availableParallelism()) }, keep: { type: "boolean", default: false },
    "corpus-bytes": { type: "string", default: "1TB" },
    // Recipe settings passed to `megamath build --set` (e.g. a variant to compare); --out keeps two checkouts' runs apart.
    set: { type: "string", multiple: true, default: [] }, out: { type: "string" },
  },
});
const size = parseSize(values.size!);
const workers = Number(values.workers);
const corpusDir = resolve(`bench/out/corpus-${values.size}-s${values.seed}`);
const outDir = resolve(values.out ?? `bench/out/build-${values.size}-s${values.seed}`);
if (!existsSync(join(corpusDir, "corpus.json"))) {
  console.log(`building a ${values.size} corpus in ${corpusDir} ...`);
  await makeCorpus({ out: corpusDir, seed: Number(values.seed), sizeBytes: size });
}
rmSync(outDir, { recursive: true, force: true });
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const code = await megamath(["build", "--input", join(corpusDir, "*.parquet"), "--output", outDir, "--workers", String(workers), "--jobs", "1", "--quiet",
  ...values.set!.flatMap((x) => ["--set", x])]);
const wall = (performance.now() - t0) / 1000;
if (code !== 0) throw new Error(`build failed with exit code ${code}`);
const report = JSON.parse(readFileSync(join(outDir, "report.json"), "utf8")) as Report;
const rssGB = process.resourceUsage().maxRSS / 1e6;
const total = parseSize(values["corpus-bytes"]!);
const firstBytes = report.funnel.find((f) => f.step === "score")?.bytesIn ?? report.funnel[0]?.bytesIn ?? 1;
// Per-core throughput = input bytes / CPU seconds of the whole process (all threads) during the step. Unlike wall
// time divided by a guessed core count, this stays meaningful when other work shares the machine.
const rows = report.funnel.map((f) => {
  const cpu = f.cpuSeconds ?? f.seconds;
  const mbCore = cpu > 0 ? f.bytesIn / 1e6 / cpu : 0;
  const docsCore = cpu > 0 ? f.docsIn / cpu : 0;
  const share = f.bytesIn / firstBytes;
  const coreHours = mbCore > 0 ? (total * share) / 1e6 / mbCore / 3600 : 0;
  return { step: f.step, docs: f.docsIn, mb: f.bytesIn / 1e6, seconds: f.seconds, cpu, mbCore, docsCore, share, coreHours, cpuPerGB: (cpu * 1e9) / firstBytes };
});
const others = report.otherSteps.map((o) => ({ ...o, cpu: o.cpuSeconds ?? o.seconds }));
const totalCpu = rows.reduce((a, r) => a + r.cpu, 0) + others.reduce((a, o) => a + o.cpu, 0);
const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(`\nmegamath build on ${values.size} (${report.funnel[0]?.docsIn ?? 0} docs), ${workers} worker(s), wall ${wall.toFixed(1)} s, peak RSS ${rssGB.toFixed(2)} GB`);
console.log(`${"step".padEnd(18)}${pad("docs in", 10)}${pad("MB in", 9)}${pad("wall s", 8)}${pad("CPU s", 8)}${pad("CPU s/GB", 10)}${pad("MB/s/core", 11)}${pad("docs/s/core", 13)}${pad("share", 7)}${pad(`core-h @${values["corpus-bytes"]}`, 15)}`);
for (const r of rows) {
  console.log(`${r.step.padEnd(18)}${pad(r.docs, 10)}${pad(r.mb.toFixed(1), 9)}${pad(r.seconds.toFixed(1), 8)}${pad(r.cpu.toFixed(1), 8)}${pad(r.cpuPerGB.toFixed(0), 10)}${pad(r.mbCore.toFixed(1), 11)}${pad(Math.round(r.docsCore), 13)}${pad(r.share.toFixed(2), 7)}${pad(Math.round(r.coreHours), 15)}`);
}
for (const o of others) console.log(`${o.step.padEnd(18)}${" ".repeat(28)}${pad(o.seconds.toFixed(1), 8)}${pad(o.cpu.toFixed(1), 8)}${pad(((o.cpu * 1e9) / firstBytes).toFixed(0), 10)}`);
console.log(`${"total".padEnd(18)}${" ".repeat(36)}${pad(totalCpu.toFixed(1), 8)}${pad(((totalCpu * 1e9) / firstBytes).toFixed(0), 10)}${" ".repeat(31)}${pad(Math.round(rows.reduce((a, r) => a + r.coreHours, 0)), 15)}`);
console.log(`pre-LLM part: ${((totalCpu * 1e9) / firstBytes).toFixed(0)} CPU-s = ${((totalCpu * 1e9) / firstBytes / 3600).toFixed(3)} core-hours per GB of input text (goal ≤ 0.05); mixture steps scale with their token budgets, not the corpus`);
// Issue #19's end-to-end figure counts score → filter → dedup → decontaminate → tokenize → mixtures; sample and
// train-classifier (a fixed-size sample, not the corpus) are listed apart. The whole process adds start-up, planning,
// the report and the cards.
const perGB = (cpu: number) => `${((cpu * 1e9) / firstBytes).toFixed(0)} CPU-s = ${((cpu * 1e9) / firstBytes / 3600).toFixed(4)} core-hours per GB`;
const corpusSteps = [...rows, ...others].filter((r) => !["sample", "train-classifier"].includes(r.step));
console.log(`score → mix (issue #19's steps): ${perGB(corpusSteps.reduce((a, r) => a + r.cpu, 0))}; sample + train-classifier: ${perGB(totalCpu - corpusSteps.reduce((a, r) => a + r.cpu, 0))}`);
const proc = process.cpuUsage(cpu0);
console.log(`whole build (planning, report and cards included; not the corpus generation): ${((proc.user + proc.system) / 1e6).toFixed(1)} CPU-s`);
console.log("(LLM annotation/refinement and tokenization of other mixture sources are not included; mixture steps scale with their token budgets, not the corpus.)");
if (!values.keep) rmSync(outDir, { recursive: true, force: true });
