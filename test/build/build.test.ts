// The product as a user meets it: `megamath build` on the bundled demo, the same build emitted as shard tasks and
// run as parallel processes, and the report rendered by a real headless browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tmpDir, repoRoot } from "../helpers.js";
import { cli, megamath, digestTree } from "./cli-run.js";
import { cardMetadata, hubProblems } from "../card/hub-metadata.js";
import { needs } from "../oracles.js";



const single = tmpDir("megamath-build-");

test("megamath build with no arguments runs the Pro-Max recipe on the bundled demo", () => {
  const r = megamath(["build", "--output", single, "--quiet"]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(readFileSync(join(single, "report.json"), "utf8"));
  const status = Object.fromEntries(report.steps.map((s: { step: string; status: string }) => [s.step, s.status]));
  // Without an LLM server: annotation and refinement are skipped, the classifier learns from the fixture's labels.
  assert.equal(status.annotate, "skipped");
  assert.equal(status.refine, "skipped");
  assert.equal(status["train-classifier"], "substituted");
  for (const s of ["sample", "score", "filter", "dedup", "decontaminate", "mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid"]) {
    assert.equal(status[s], "ran", `step ${s}: ${status[s]}`);
  }
  // Every step's accounting holds, and the planted problems were found.
  for (const f of report.funnel) {
    const removed = Object.values(f.removed as Record<string, number>).reduce((a, b) => a + b, 0);
    const failed = Object.values(f.failed as Record<string, number>).reduce((a, b) => a + b, 0);
    if (!["sample"].includes(f.step)) assert.equal(f.docsIn, f.docsOut + removed + failed, `funnel ${f.step}`);
  }
  const dedup = report.funnel.find((f: { step: string }) => f.step === "dedup");
  assert.ok(dedup.removed.duplicate > 0, "dedup removed nothing");
  assert.ok(report.decontamination.length > 0, "decontamination found no planted leak");
  assert.ok(report.finalCorpus.docs > 500);
  // Mixture shares within 0.5% of their weights.
  assert.equal(report.mixtures.length, 4);
  for (const m of report.mixtures) {
    for (const s of m.sources) assert.ok(Math.abs(s.share - s.weight) <= 0.005, `${m.name}/${s.name}: share ${s.share} vs weight ${s.weight}`);
  }
  // A second run skips every step.
  const again = megamath(["build", "--output", single]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /done before, skipped/);
});

test("megamath card describes the finished demo build: Hub header, the report's figures, no local paths", () => {
  const report = JSON.parse(readFileSync(join(single, "report.json"), "utf8"));
  // The build wrote its cards from the report it had just written; `megamath card` collects the report itself.
  const byBuild = readFileSync(join(report.finalCorpus.folder, "README.md"), "utf8");
  const r = megamath(["card", single]);
  assert.equal(r.code, 0, r.err);
  const card = readFileSync(join(report.finalCorpus.folder, "README.md"), "utf8");
  assert.equal(card, byBuild);
  const meta = cardMetadata(card);
  assert.deepEqual(hubProblems(meta), []);
  assert.deepEqual(meta.configs, [{ config_name: "default", data_files: [{ split: "train", path: ["*.parquet"] }] }]);
  assert.match(card, new RegExp(`\\*\\*${report.finalCorpus.docs.toLocaleString("en-US")} documents\\*\\*`));
  for (const f of report.funnel) assert.ok(card.includes(`| ${f.step} | ${f.command} | ${f.status} | ${f.docsIn.toLocaleString("en-US")} | ${f.docsOut.toLocaleString("en-US")} |`), f.step);
  for (const d of report.decontamination) assert.match(card, new RegExp(`\\| ${d.benchmark} \\| [0-9,]+ \\| ${d.documents} \\|`));
  for (const k of Object.keys(report.differencesFromPaper)) assert.ok(card.includes(`| ${k} |`), k);
  assert.ok(!card.includes(single) && !card.includes(repoRoot), "absolute paths in the card");
  for (const m of ["mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid"]) {
    assert.deepEqual(hubProblems(cardMetadata(readFileSync(join(single, m, "README.md"), "utf8"))), [], m);
  }
});

test("the build emitted as shard tasks and run as parallel processes gives identical output", () => {
  const sharded = tmpDir("megamath-build-sharded-");
  const launcher = `${process.execPath} ${cli.join(" ")}`;
  const e = megamath(["build", "--output", sharded, "--emit", "local", "--shards", "2", "--launcher", launcher]);
  assert.equal(e.code, 0, e.err);
  const noImage = megamath(["build", "--output", sharded, "--emit", "k8s", "--k8s-claim", "megamath-data"]);
  assert.equal(noImage.code, 2, "k8s without --image is a usage error");
  assert.match(noImage.err, /--image/);
  // (The Kubernetes manifests, whose paths must lie on a volume, are test/cluster/k8s.test.ts's.)
  const r = megamath(["build", "--output", sharded, "--emit", "slurm", "--shards", "3"]);
  assert.equal(r.code, 0, r.err);
  const slurm = readdirSync(join(sharded, "launch", "slurm"));
  assert.ok(slurm.includes("submit.sh") && slurm.some((f) => /dedup-buckets\.sbatch$/.test(f)));
  // score and filter run as one fused pass, as in `megamath build`: one array task per shard.
  const scoreBatch = readFileSync(join(sharded, "launch", "slurm", slurm.find((f) => /-score\+filter\.sbatch$/.test(f))!), "utf8");
  assert.match(scoreBatch, /--shard "\$shard\/3" -- score .* -- filter /);
  assert.ok(scoreBatch.includes(`node ${join(repoRoot, "bin", "megamath.js")} pass`), "slurm tasks call this installation's bin by default");
  // The local script: decontaminate → tokenize as one `megamath pass` process per shard, no task of either alone.
  const sh = readFileSync(join(sharded, "launch", "local", "run-local.sh"), "utf8").split("\n");
  const passLines = sh.filter((l) => / pass (--keep \d+ )?--shard \d\/2 -- decontaminate .* -- tokenize /.test(l));
  assert.deepEqual(passLines.map((l) => / --shard (\d)\/2 /.exec(l)![1]), ["0", "1"], sh.join("\n"));
  assert.ok(!sh.some((l) => new RegExp(`${cli.at(-1)} (decontaminate|tokenize|score|filter) `).test(l)), "a fused step runs on its own");
  execFileSync("bash", [join(sharded, "launch", "local", "run-local.sh")], { cwd: repoRoot, stdio: "ignore" });
  // score's documents are read within the pass and never written (nothing else reads them), as in the local build;
  // its markers and stats are in its folder.
  assert.deepEqual(readdirSync(join(sharded, "score")).filter((n) => n.endsWith(".parquet")), []);
  assert.ok(readdirSync(join(sharded, "score")).includes("stats.json"));
  for (const step of ["score", "filter", "dedup", "decontaminate", "tokenize", "mix-stable"]) {
    assert.equal(digestTree(join(sharded, step)), digestTree(join(single, step)), `step ${step} differs between sharded and single-process runs`);
  }
  // The emitted pipeline ends with `megamath report`: the same report as the local build's, times and folders aside.
  const local = JSON.parse(readFileSync(join(single, "report.json"), "utf8"));
  const emitted = JSON.parse(readFileSync(join(sharded, "report.json"), "utf8"));
  assert.deepEqual(withoutTimes(emitted, sharded), withoutTimes(local, single));
  assert.ok(readFileSync(join(sharded, "report.html"), "utf8").includes("final.docs"));
  // And `megamath report` over the local build folder gives its report again.
  const again = megamath(["report", single]);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(withoutTimes(JSON.parse(readFileSync(join(single, "report.json"), "utf8")), single), withoutTimes(local, single));
});

/** A report without what depends on when and where it ran: times, speeds, the build folder's path. */
function withoutTimes(report: unknown, dir: string): unknown {
  const TIMES = new Set(["seconds", "cpuSeconds", "mbPerSec", "docsPerSec", "mbPerCpuSec"]);
  return JSON.parse(JSON.stringify(report, (k, v) => (TIMES.has(k) ? undefined : typeof v === "string" ? v.split(dir).join("DIR") : v)));
}

test("report.html renders in headless Chromium, shows report.json's numbers and makes no request", { skip: needs("chromium") }, () => {
  const html = join(single, "report.html");
  const dom = execFileSync("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000", "--dump-dom", `file://${html}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const report = JSON.parse(readFileSync(join(single, "report.json"), "utf8"));
  const shown = new Map<string, string>();
  const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  for (const m of dom.matchAll(/data-key="([^"]+)" data-value="([^"]+)"/g)) shown.set(unescape(m[1]), m[2]);
  assert.ok(shown.size > 20, `only ${shown.size} numbers rendered`);
  for (const f of report.funnel) {
    assert.equal(Number(shown.get(`funnel.${f.step}.docsIn`)), f.docsIn);
    assert.equal(Number(shown.get(`funnel.${f.step}.docsOut`)), f.docsOut);
    for (const [k, v] of Object.entries(f.removed)) assert.equal(Number(shown.get(`funnel.${f.step}.removed.${k}`)), v);
  }
  for (const m of report.mixtures) for (const s of m.sources) assert.equal(Number(shown.get(`mix.${m.name}.${s.name}.tokens`)), s.tokens);
  assert.equal(Number(shown.get("final.docs")), report.finalCorpus.docs);
  const resources = /<p id="resources"[^>]*>([^<]*)<\/p>/.exec(dom)?.[1];
  assert.equal(resources, "0", "the page requested resources");
});
