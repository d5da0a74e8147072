// The emitted build through a real Slurm: a one-node cluster on localhost (slurm-local.sh, started and stopped
// here), the demo recipe without its Decay mixtures, 2 shards. One running array task is cancelled mid-build: the
// status names it failed (with its log) and what waits for it blocked; submit.sh run again submits only what is not
// done, and the build completes with outputs byte-identical to a local build's and report.html from the report
// task. A third submit.sh submits nothing.
//
// Cost: about 2-4 minutes of wall time on 2 cores (most of it Node starting in each of about 30 tasks). It runs once
// per CI: .ci/node-versions sets MEGAMATH_SLURM_TEST=skip for the suites under the other Node versions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpDir, repoRoot } from "../helpers.js";
import { megamath, digestTree, cli } from "../build/cli-run.js";
import { needs } from "../oracles.js";
import { reducedRecipe } from "./recipes.js";

const skip = process.env.MEGAMATH_SLURM_TEST === "skip"
  ? "MEGAMATH_SLURM_TEST=skip (CI runs the Slurm build once, under the machine's Node)"
  : needs("slurm");

const helper = join(repoRoot, "test", "cluster", "slurm-local.sh");
// The tasks run in the launch folder, so the launcher names tsx by its full path (not resolved from the cwd).
const launcher = [process.execPath, "--import", import.meta.resolve("tsx"), ...cli.slice(2)].join(" ");

function withoutTimes(report: unknown, dir: string): unknown {
  const TIMES = new Set(["seconds", "cpuSeconds", "mbPerSec", "docsPerSec", "mbPerCpuSec"]);
  return JSON.parse(JSON.stringify(report, (k, v) => (TIMES.has(k) ? undefined : typeof v === "string" ? v.split(dir).join("DIR") : v)));
}

test("the demo build through a one-node Slurm: same outputs as a local build, recovery after a cancelled task", { skip, timeout: 20 * 60_000 }, async () => {
  const root = tmpDir("megamath-slurm-");
  const cluster = join(root, "cluster");
  // Every child (the Slurm tools, megamath build --status/--submit) finds the cluster through SLURM_CONF.
  process.env.SLURM_CONF = join(cluster, "slurm.conf");
  const env = { ...process.env, NO_COLOR: "1" };
  // The daemons' pids, read once they run: the exit-time stop works even if the temp folder (with the pid files) was
  // removed first; a pid is signalled only while it still names that daemon.
  let daemons: { pid: number; name: string }[] = [];
  const stop = () => {
    spawnSync("bash", [helper, "stop", cluster], { stdio: "ignore" });
    for (const d of daemons) {
      try {
        if (readFileSync(`/proc/${d.pid}/comm`, "utf8").trim() === d.name) process.kill(d.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  };
  // The daemons are stopped whatever happens: at the end, on a failed assertion, and if the test process is ended.
  process.on("exit", stop);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => { stop(); process.exit(130); });
  try {
    execFileSync("bash", [helper, "start", cluster], { stdio: ["ignore", "ignore", "pipe"] });
    daemons = ["slurmd", "slurmctld", "munged"].map((name) => ({ name, pid: Number(readFileSync(join(cluster, `${name}.pid`), "utf8")) }));
    const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, encoding: "utf8" });
    const recipe = reducedRecipe(root);
    const local = join(root, "local");
    const out = join(root, "slurm");
    const l = megamath(["build", recipe, "--output", local, "--quiet"]);
    assert.equal(l.code, 0, l.err);

    const e = megamath(["build", recipe, "--output", out, "--emit", "slurm", "--shards", "2", "--launcher", launcher,
      "--slurm-partition", "debug", "--slurm-time", "30:00", "--slurm-opt", "dedup-clusters:--comment=index-merge"]);
    assert.equal(e.code, 0, e.err);
    const launch = join(out, "launch", "slurm");
    const clusters = readFileSync(join(launch, readdirSync(launch).find((f) => f.endsWith("-dedup-clusters.sbatch"))!), "utf8");
    assert.match(clusters, /#SBATCH --partition=debug\n[\s\S]*#SBATCH --time=30:00\n#SBATCH --comment=index-merge\n/);
    assert.match(clusters, /#SBATCH --cpus-per-task=1\n/);
    const ours = () => sh("squeue", ["-h", "-r", "-o", "%i|%T|%j"]).split("\n").filter((x) => x.includes("|megamath-"));
    const drained = async (what: string) => {
      for (let i = 0; i < 2400 && ours().length; i++) await sleep(250);
      assert.deepEqual(ours(), [], `${what}: jobs still in the queue`);
    };

    // 1. Submit, cancel the first running array task of a step after sample, let the queue drain.
    const first = sh(join(launch, "submit.sh"), []);
    assert.match(first, /mix-stable: 1 task → job \d+ \(after \d+\)/);
    let victim: { job: string; step: string; shard: string } | undefined;
    for (let i = 0; i < 4800 && !victim; i++) {
      for (const line of ours()) {
        const [job, state, name] = line.split("|");
        const m = /_(\d+)$/.exec(job);
        const step = name.replace(/^megamath-[0-9a-f]+-/, "");
        // Running in the queue and started by its own record (the batch script runs, its log is open).
        const started = () => readFileSync(join(launch, "state", `${step}.${m![1]}`), "utf8").startsWith("running");
        if (state === "RUNNING" && m && step !== "sample" && existsSync(join(launch, "state", `${step}.${m[1]}`)) && started()) victim = { job, step, shard: m[1] };
      }
      if (!victim) await sleep(200);
    }
    assert.ok(victim, "no array task was seen running");
    sh("scancel", [victim.job]);
    await drained("after the cancel");
    const st1 = megamath(["build", "--status", out]);
    assert.equal(st1.code, 0, st1.err);
    // (A fused pass's task is named by its steps joined with "+": score+filter.)
    const re = (step: string) => step.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const line = (st: string, step: string, shard: string | number) => st.split("\n").find((x) => new RegExp(`^\\s+${re(step)}\\s+${shard}\\s`).test(x)) ?? "";
    assert.match(line(st1.out, victim.step, victim.shard), /failed .*log: .*\.out$/, st1.out);
    const log = /log: (.*)$/.exec(line(st1.out, victim.step, victim.shard))![1];
    assert.ok(log.endsWith(`logs/${victim.step}-${victim.shard}.out`) && existsSync(log), log);
    assert.match(line(st1.out, "sample", 0), /done$/);
    assert.match(line(st1.out, "report", 0), /blocked/);
    assert.ok(!existsSync(join(out, "report.html")));

    // 2. Run submit.sh again: only what is not done goes to the queue, and the build completes.
    const second = sh(join(launch, "submit.sh"), []);
    assert.match(second, /sample: done \(2\/2\), not submitted/);
    assert.match(second, new RegExp(`${re(victim.step)}: shard\\(s\\) ${victim.shard} of 2 → job`));
    await drained("after the resubmission");
    const st2 = megamath(["build", "--status", out]);
    assert.match(st2.out, /^\d+ task\(s\): \d+ done$/m, st2.out);

    // 3. The outputs equal the local build's; the report task wrote the report.
    // (score and filter, decontaminate and tokenize ran as one pass task per shard, as in the local build.)
    for (const step of ["sample", "score", "filter", "dedup", "decontaminate", "tokenize", "mix-stable"]) {
      assert.equal(digestTree(join(out, step)), digestTree(join(local, step)), `step ${step} differs between the Slurm and the local build`);
    }
    assert.deepEqual(withoutTimes(JSON.parse(readFileSync(join(out, "report.json"), "utf8")), out),
      withoutTimes(JSON.parse(readFileSync(join(local, "report.json"), "utf8")), local));
    assert.ok(readFileSync(join(out, "report.html"), "utf8").includes("final.docs"));
    const logs = readdirSync(join(launch, "logs"));
    assert.ok(logs.includes("score+filter-0.out") && logs.includes("decontaminate+tokenize-1.out") && logs.includes("report.out"), logs.join(" "));
    assert.ok(!logs.some((f) => f.includes("4294967294")), logs.join(" "));

    // 4. A finished build: submit.sh submits nothing, nothing is pending.
    const third = sh(join(launch, "submit.sh"), []);
    assert.match(third, /submitted 0 job\(s\), 0 task\(s\)/);
    assert.deepEqual(ours(), []);
  } finally {
    stop();
  }
});
