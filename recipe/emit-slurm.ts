// Slurm launch files: one batch script per step (a job array when the step is sharded), tasks.json (the steps, their
// dependencies and what they read outside the build), and submit.sh, which hands the folder to
// `megamath build --submit` (cluster-slurm.ts): that submits what is not done yet, each step after the steps it reads
// from, and can be rerun at any time.
//
// Each task keeps a one-line record in state/<step>.<shard> ("running|done|failed KEY JOB [EXIT]") and appends its
// output to logs/<step>-<shard>.out (logs/<step>.out for a one-task step), so that status and resubmission can tell,
// without Slurm's accounting database, which tasks finished and which log shows a failure.
import { writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { hashOf } from "../lib/runtime/fingerprint.js";
import { q, setsWorkers, tailWords, type ClusterTask } from "./cluster-tasks.js";

/** What the batch scripts ask Slurm for; nothing is asked for unless given (the site's defaults apply). */
export interface SlurmResources {
  partition?: string;
  account?: string;
  /** --time, e.g. "4:00:00". */
  time?: string;
  /** --mem, e.g. "8G". */
  mem?: string;
  /** CPUs per task of the steps that run worker threads (the others ask for one). */
  cpus?: number;
  /** Raw #SBATCH options: "--qos=high" for every step, "STEP:--mem=64G" for one step (a prefix such as
   * "dedup:" names every step that starts with "dedup-"). */
  opts?: string[];
}

export const TASKS_FILE = "tasks.json";

export interface SlurmStep {
  step: string;
  command: string;
  /** The batch script, relative to the launch folder. */
  file: string;
  tasks: number;
  sharded: boolean;
  deps: string[];
  externals: string[];
  /** Hash of the step's command line: part of each task's key (see cluster-slurm.ts). */
  lineHash: string;
}

export interface TasksFile {
  version: 1;
  target: "slurm";
  /** Job names are `megamath-<tag>-<step>`: the tag (from the launch folder's path) tells this build's jobs apart. */
  tag: string;
  buildDir?: string;
  steps: SlurmStep[];
}

/** The log of one task, relative to the launch folder. */
export const logOf = (s: Pick<SlurmStep, "step" | "sharded">, shard: number) => (s.sharded ? `logs/${s.step}-${shard}.out` : `logs/${s.step}.out`);
export const recordOf = (step: string, shard: number) => `state/${step}.${shard}`;

/** Raw options that apply to `step`: unprefixed ones, and "STEP:OPT" whose STEP is the step or a prefix of it. A
 * fused pass's task (its steps' names given) takes the options of each of its steps. */
export function optsFor(step: string | string[], opts: string[]): string[] {
  const names = typeof step === "string" ? [step] : step;
  const out: string[] = [];
  for (const o of opts) {
    const m = /^([a-z0-9][a-z0-9-]*):(-.*)$/.exec(o);
    if (!m) out.push(o);
    else if (names.some((n) => n === m[1] || n.startsWith(m[1] + "-"))) out.push(m[2]);
  }
  return out;
}

export async function emitSlurm(tasks: ClusterTask[], dir: string, o: { megamath: string; shards: number; resources: SlurmResources; buildDir?: string }): Promise<string[]> {
  const r = o.resources;
  for (const opt of r.opts ?? []) {
    const m = /^(?:([a-z0-9][a-z0-9-]*):)?(-.*)$/.exec(opt);
    if (!m) throw new Error(`--slurm-opt "${opt}": give an sbatch option ("--qos=high") or STEP:OPTION ("dedup-clusters:--mem=64G")`);
    if (m[1] && !tasks.some((t) => (t.members ?? [t.step]).some((n) => n === m[1] || n.startsWith(m[1] + "-")))) {
      throw new Error(`--slurm-opt "${opt}": no step is named ${m[1]} or starts with ${m[1]}- (steps: ${tasks.map((t) => t.step).join(", ")})`);
    }
  }
  const tag = hashOf(dir).slice(0, 6);
  const files: string[] = [];
  const steps: SlurmStep[] = [];
  for (const [i, t] of tasks.entries()) {
    const file = `${String(i + 1).padStart(2, "0")}-${t.step}.sbatch`;
    // Steps with worker threads get the CPUs asked for and as many workers (unless the recipe sets --workers);
    // single-threaded steps (dedup's clustering, the mixtures, the report) ask for one CPU.
    const workers = t.threaded && !setsWorkers(t) ? ["--workers", "${SLURM_CPUS_PER_TASK:-1}"] : [];
    const command = `${o.megamath} ${[t.command, ...t.argv.map(q)].join(" ")}${workers.length ? ` --workers "${workers[1]}"` : ""}${t.sharded ? ` --shard "$shard/${t.tasks}"` : ""}${tailWords(t)}`;
    const sbatch = [
      `--job-name=megamath-${tag}-${t.step}`,
      `--output=${t.sharded ? `logs/${t.step}-%a.out` : `logs/${t.step}.out`}`,
      "--open-mode=append",
      ...(t.threaded ? (r.cpus ? [`--cpus-per-task=${r.cpus}`] : []) : ["--cpus-per-task=1"]),
      ...(r.partition ? [`--partition=${r.partition}`] : []),
      ...(r.account ? [`--account=${r.account}`] : []),
      ...(r.time ? [`--time=${r.time}`] : []),
      ...(r.mem ? [`--mem=${r.mem}`] : []),
      ...optsFor(t.members ?? t.step, r.opts ?? []),
    ];
    const rec = `state/${t.step}.$shard`;
    const body = [
      "#!/usr/bin/env bash",
      ...sbatch.map((s) => `#SBATCH ${s}`),
      `# ${t.about ?? t.command}`,
      `# Submitted by submit.sh (with --array for a sharded step, and MEGAMATH_TASK_KEY); runs in the launch folder.`,
      "set -euo pipefail",
      "shard=${SLURM_ARRAY_TASK_ID:-0}",
      `record() { echo "$1 \${MEGAMATH_TASK_KEY:-} \${SLURM_JOB_ID:-}\${2:+ $2}" >"${rec}.tmp" && mv "${rec}.tmp" "${rec}"; }`,
      `echo "== $(date -u +%FT%TZ) job \${SLURM_JOB_ID:-} on $(hostname): ${t.step}${t.sharded ? ` shard $shard/${t.tasks}` : ""}"`,
      "mkdir -p state",
      "record running",
      // A failure (or scancel's SIGTERM, which ends the command first) leaves "failed" with the exit code.
      `trap 'rc=$?; [ $rc = 0 ] || record failed $rc' EXIT`,
      "trap 'exit 143' TERM",
      command,
      "record done",
      "",
    ].join("\n");
    await writeFile(join(dir, file), body);
    files.push(file);
    steps.push({ step: t.step, command: t.command, file, tasks: t.tasks, sharded: t.sharded, deps: t.deps, externals: t.externals,
      lineHash: hashOf(t.tail ? [t.command, t.argv, t.tasks, t.tail] : [t.command, t.argv, t.tasks]) });
  }
  const tf: TasksFile = { version: 1, target: "slurm", tag, buildDir: o.buildDir, steps };
  await writeFile(join(dir, TASKS_FILE), JSON.stringify(tf, null, 1) + "\n");
  files.push(TASKS_FILE);
  const submit = [
    "#!/usr/bin/env bash",
    "# Submit this build to Slurm, or what is left of it: safe to rerun at any time. Tasks whose record says done with",
    "# the same command and inputs are skipped; this build's jobs still pending (e.g. stuck behind a failed task) are",
    "# cancelled and submitted again with the rest, each step after the steps it reads from. `--force` resubmits every",
    "# task (each step's fingerprints then skip the work already done). It prints every job it submits.",
    "# Progress: megamath build --status <this folder>",
    "set -euo pipefail",
    'cd "$(dirname "$0")"',
    `exec ${o.megamath} build --submit "$PWD" "$@"`,
    "",
  ];
  await writeFile(join(dir, "submit.sh"), submit.join("\n"));
  await chmod(join(dir, "submit.sh"), 0o755);
  files.push("submit.sh");
  return files;
}
