// The paper recipe's LLM path end to end: `megamath build --recipe pro-max --llm URL --model NAME` on the bundled
// corpus (laid out like MegaMath-Web: text, url, cc-path) and a --sources folder holding every mixture dataset in
// its released layout (paper-sources.ts), at the demo's size (--set), against a real HTTP server that misbehaves now and then (429 with Retry-After, 500, answers past the deadline, truncated bodies and
// answers without a readable score), to report.json; then the same build emitted with `--emit local` and run as
// shard processes, which must give the same bytes. The server answers from the document alone (deterministic), and
// transient faults only hit a prompt's first attempt, so both runs see the same answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tmpDir, repoRoot } from "../helpers.js";
import { startServer, type Action, type SeenRequest } from "../llm/server.js";
import { writePaperSources, REDUCED_SIZE } from "./paper-sources.js";

const cli = ["--import", "tsx", join(repoRoot, "cli/main.ts")];
// The deadline of one attempt: a held request costs this long before its retry (0.5-1 s later, the client's default
// backoff). Not shorter: on a loaded 2-core machine honest answers can take a second or two.
const env = { ...process.env, MEGAMATH_LLM_TIMEOUT_S: "5" };

/** Run a child without blocking this process's event loop (the LLM server lives here). */
function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; err: string; cpu: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (err += d));
    c.on("error", reject);
    c.on("close", (code) => resolve({ code, out, err, cpu: childCpuSeconds() }));
  });
}

/** CPU seconds used by finished children so far (user + system), to keep this test's cost in view (Linux; else NaN). */
function childCpuSeconds(): number {
  try {
    const t = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(t[13]) + Number(t[14])) / 100; // cutime + cstime, in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

const h = (s: string) => createHash("sha256").update(s).digest().readUInt32BE(0) % 100;
type Faults = { rate429: number; rate500: number; timeouts: number; truncated: number; unparseable: number };

/** FineMath-style answers scored from the text (math notation → 4, else 1); refinement echoes the text after a
 * lead-in line. About 1% of prompts each: 429, 500, no answer (held past the deadline), truncated JSON (first
 * attempt only, so retries recover), and 1% of answers are useless on every attempt (no score; an empty refinement). */
function faultyServer() {
  const faults: Faults = { rate429: 0, rate500: 0, timeouts: 0, truncated: 0, unparseable: 0 };
  const script = (req: SeenRequest): Action => {
    const k = h(req.doc);
    if (req.attempt === 1) {
      if (k === 0) return (faults.rate429++, { status: 429, headers: { "retry-after": "0" } });
      if (k === 1) return (faults.rate500++, { status: 500 });
      if (k === 2) return (faults.timeouts++, { hold: true });
      if (k === 3) return (faults.truncated++, { truncated: true });
    }
    const annotate = req.prompt.startsWith("Evaluate the following text extract");
    if (k === 4) return (faults.unparseable++, { answer: annotate ? "This extract is hard to judge; I would rather not score it." : "" });
    if (annotate) {
      const math = /\$|\\[a-z]+|\d\s*[-+*/=]\s*\d/.test(req.doc);
      return { answer: `The extract ${math ? "works through a math problem" : "is not about math"}.\nFinal score: ${math ? 4 : 1}` };
    }
    return { answer: `Here is the refined text:\n${req.doc.trim()}` };
  };
  return { faults, start: () => startServer(script, { record: false }) };
}

/** Hash of every data file under a folder (markers, stats and journals hold timings and paths). */
function digestTree(dir: string): string {
  const d = createHash("sha256");
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith(".")) continue;
      const q = join(p, e.name);
      if (e.isDirectory()) walk(q);
      else if (/\.(parquet|bin|idx)$/.test(e.name)) d.update(q.slice(dir.length)).update(readFileSync(q));
    }
  };
  walk(dir);
  return d.digest("hex");
}

test("megamath build --recipe pro-max --llm runs every step of the paper recipe (reduced size, released layouts) against a faulty LLM server, locally and through --emit local", async () => {
  // One server per run: faults hit a prompt's first attempt on that server, so each run meets all of them.
  const one = faultyServer();
  const two = faultyServer();
  const [s1, s2] = await Promise.all([one.start(), two.start()]);
  try {
    const sources = tmpDir("megamath-llm-build-sources-");
    await writePaperSources(sources);
    const paper = ["--recipe", "pro-max", "--input", join(repoRoot, "fixtures/demo/megamath-web-*.parquet"), "--sources", sources,
      ...REDUCED_SIZE.flatMap((x) => ["--set", x])];
    const local = tmpDir("megamath-llm-build-");
    const cpu0 = childCpuSeconds();
    const r = await run(process.execPath, [...cli, "build", ...paper, "--output", local, "--quiet", "--llm", s1.url, "--model", "test-model"]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(readFileSync(join(local, "report.json"), "utf8"));
    const status = Object.fromEntries(report.steps.map((s: { step: string; status: string }) => [s.step, s.status]));
    for (const s of ["sample", "annotate", "train-classifier", "score", "filter", "dedup", "decontaminate", "refine", "tokenize",
      "instruction-tulu3", "instruction-wildchat", "instruction-ultrachat", "mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid"]) {
      assert.equal(status[s], "ran", `step ${s}: ${status[s]}`);
    }
    // refine → tokenize ran as one pass (the emitted run below, one step at a time, must give the same token files).
    assert.deepEqual(JSON.parse(readFileSync(join(local, "tokenize", ".step.json"), "utf8")).fused?.slice(-2), ["refine", "tokenize"]);
    const funnel = (step: string) => report.funnel.find((f: { step: string }) => f.step === step);
    assert.ok(funnel("annotate").failed.unparseable_score > 0, JSON.stringify(funnel("annotate")));
    assert.ok(funnel("refine").failed.refine_empty_answer > 0, JSON.stringify(funnel("refine")));
    assert.ok(funnel("refine").docsOut > 1000, JSON.stringify(funnel("refine")));
    for (const [kind, n] of Object.entries(one.faults)) assert.ok(n > 0, `the server never injected ${kind}`);
    // The build step that writes the Hub cards: the final corpus and each mixture get a README.md with the YAML header.
    for (const dir of ["refine", "mix-stable", "mix-decay-long", "mix-decay-short", "mix-decay-hybrid"]) {
      const card = readFileSync(join(local, dir, "README.md"), "utf8");
      assert.match(card, /^---\nlicense: /, dir);
      assert.ok(r.out.includes(`card: ${join(local, dir, "README.md")}`), r.out);
    }
    // The paper recipe's mixtures read the released datasets: Decay's web source is Web-Pro from --sources.
    const decay = JSON.parse(readFileSync(join(local, "mix-decay-long", "mixture.json"), "utf8"));
    assert.deepEqual(decay.sources.map((s: { name: string }) => s.name).sort(), ["am-deepseek-distilled-40m", "dclm-baseline", "instruction", "megamath-web-pro", "openr1-math-220k"]);
    const cpuLocal = childCpuSeconds() - cpu0;

    // The same build from the emitted script, one process per step or fused pass (the sharded mechanics are
    // build.test.ts's): the LLM flags reach annotate and refine, and no other command.
    const emitted = tmpDir("megamath-llm-build-emitted-");
    const e = await run(process.execPath, [...cli, "build", ...paper, "--output", emitted, "--emit", "local", "--shards", "1",
      "--launcher", `${process.execPath} ${cli.join(" ")}`, "--llm", s2.url, "--model", "test-model"]);
    assert.equal(e.code, 0, e.err);
    const sh = readFileSync(join(emitted, "launch", "local", "run-local.sh"), "utf8");
    // A fused pass's line holds its steps, each after " -- ".
    const lines = (cmd: string) => sh.split("\n").flatMap((l) => l.split(" -- ")).filter((l) => l.includes(` ${cmd} `) || l.startsWith(`${cmd} `));
    for (const cmd of ["annotate", "refine"]) {
      assert.ok(lines(cmd).length === 1 && lines(cmd).every((l) => l.includes(`--base-url ${s2.url}`) && l.includes("--model test-model")), cmd);
    }
    for (const cmd of ["train-classifier", "score", "tokenize", "mix"]) {
      assert.ok(lines(cmd).length > 0 && lines(cmd).every((l) => !/--base-url|--api-key-env/.test(l)), `${cmd} was given LLM flags`);
    }
    const x = await run("bash", [join(emitted, "launch", "local", "run-local.sh")]);
    assert.equal(x.code, 0, x.err);
    for (const [kind, n] of Object.entries(two.faults)) assert.ok(n > 0, `the server never injected ${kind} in the emitted run`);
    // (The emitted tasks run the same fused passes, e.g. decontaminate → refine → tokenize, as one task.)
    assert.ok(sh.split("\n").some((l) => / pass .*-- decontaminate .* -- refine .* -- tokenize /.test(l)), "decontaminate → refine → tokenize is not one task");
    for (const step of ["annotate", "train-classifier", "score", "filter", "decontaminate", "refine", "tokenize", "mix-stable", "mix-decay-long"]) {
      assert.equal(digestTree(join(emitted, step)), digestTree(join(local, step)), `step ${step} differs between the emitted and the local run`);
    }
    console.log(`# LLM build: ${cpuLocal.toFixed(1)} CPU-s locally, ${(childCpuSeconds() - cpu0 - cpuLocal).toFixed(1)} CPU-s emitted and run`);
  } finally {
    await Promise.all([s1.close(), s2.close()]);
  }
});
