// What an emitted Slurm build stands at, and (re)submitting what is left of it. Both read the launch folder that
// emit-slurm.ts wrote (tasks.json, each task's record in state/, its log in logs/) and this build's jobs in the
// queue (`squeue`, found by job name), so they need no accounting database.
//
// A task is done when its record says "done" with the key computed now. The key hashes the step's command line,
// the size and modification time of every file it reads outside the build (inputs, mixture sources, models), and
// the keys of the steps it reads from: editing the recipe and emitting again, or replacing an input file, makes the
// task and everything downstream of it "outdated", and they are submitted again (the steps' own fingerprints then
// decide what inside them is redone).
import { mkdir, readFile, stat } from "node:fs/promises";
import { writeFileAtomic } from "../lib/io/atomic.js";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { hashOf } from "../lib/runtime/fingerprint.js";
import { expandInputs } from "../lib/io/glob.js";
import { TASKS_FILE, logOf, recordOf, type SlurmStep, type TasksFile } from "./emit-slurm.js";

export type TaskState = "done" | "running" | "pending" | "blocked" | "failed" | "outdated" | "not submitted";

export interface TaskStatus {
  step: string;
  shard: number;
  state: TaskState;
  /** The queue's job id ("123_4" for an array task), when the task is in the queue. */
  job?: string;
  /** Why: the queue's reason, the exit code, the step it waits for. */
  detail?: string;
  /** Absolute path of the task's log (given for failed tasks). */
  log?: string;
}

interface QueueEntry {
  job: string;
  step: string;
  shard: number;
  state: string;
  reason: string;
}

/** The launch folder of a build folder or launch folder given on the command line. */
export function slurmLaunchDir(dir: string): string {
  const d = resolve(dir);
  if (existsSync(join(d, TASKS_FILE))) return d;
  const nested = join(d, "launch", "slurm");
  if (existsSync(join(nested, TASKS_FILE))) return nested;
  throw new Error(`${dir} holds no ${TASKS_FILE}: give the folder \`megamath build --emit slurm\` wrote (or the build folder above it)`);
}

async function readTasks(launch: string): Promise<TasksFile> {
  const tf = JSON.parse(await readFile(join(launch, TASKS_FILE), "utf8")) as TasksFile;
  if (tf.version !== 1 || tf.target !== "slurm" || !Array.isArray(tf.steps)) throw new Error(`${join(launch, TASKS_FILE)}: not a Slurm task list of this version`);
  return tf;
}

/** Size and modification time of what a path names (a file, a folder's data files, a glob's matches). */
async function stamps(path: string): Promise<unknown> {
  try {
    const s = await stat(path);
    if (s.isFile()) return [path, s.size, Math.floor(s.mtimeMs)];
  } catch {
    // a glob, or missing: expanded below
  }
  let files: string[];
  try {
    files = await expandInputs([path]);
  } catch {
    return [path, "missing"];
  }
  return [path, await Promise.all(files.map(async (f) => {
    const s = await stat(f);
    return [f, s.size, Math.floor(s.mtimeMs)];
  }))];
}

/** Each step's key now (see the top of this file). */
export async function stepKeys(tf: TasksFile): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const s of tf.steps) {
    const ext = await Promise.all(s.externals.map(stamps));
    keys.set(s.step, hashOf([s.lineHash, ext, s.deps.map((d) => keys.get(d) ?? d)]));
  }
  return keys;
}

/** The task's record: [state, key, job, exit code]. */
async function readRecord(launch: string, step: string, shard: number): Promise<string[] | null> {
  try {
    return (await readFile(join(launch, recordOf(step, shard)), "utf8")).trim().split(/\s+/);
  } catch {
    return null;
  }
}

/** This build's jobs in the queue, one entry per array task (null when squeue cannot be run here). */
function queue(tf: TasksFile): QueueEntry[] | null {
  const r = spawnSync("squeue", ["--me", "-h", "-r", "-o", "%i|%T|%r|%j"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return null;
  const prefix = `megamath-${tf.tag}-`;
  const out: QueueEntry[] = [];
  for (const line of r.stdout.split("\n")) {
    const [job, state, reason, name] = line.trim().split("|");
    if (!name?.startsWith(prefix)) continue;
    const step = name.slice(prefix.length);
    const shard = /_(\d+)$/.exec(job)?.[1];
    out.push({ job, step, shard: shard === undefined ? 0 : Number(shard), state, reason });
  }
  return out;
}

const ACTIVE = new Set(["RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SUSPENDED", "RESIZING", "SIGNALING"]);

/** Every task's state, in plan order. `queued` is null when squeue is not available (no queue information). */
export async function slurmStatus(dir: string): Promise<{ launch: string; tasks: TaskStatus[]; queued: boolean }> {
  const launch = slurmLaunchDir(dir);
  const tf = await readTasks(launch);
  const keys = await stepKeys(tf);
  const q = queue(tf);
  const out: TaskStatus[] = [];
  const stateOf = new Map<string, TaskState[]>();
  for (const s of tf.steps) {
    const states: TaskState[] = [];
    for (let shard = 0; shard < s.tasks; shard++) {
      const t = await taskStatus(launch, s, shard, keys.get(s.step)!, q, stateOf);
      states.push(t.state);
      out.push(t);
    }
    stateOf.set(s.step, states);
  }
  return { launch, tasks: out, queued: q !== null };
}

async function taskStatus(launch: string, s: SlurmStep, shard: number, key: string, q: QueueEntry[] | null, before: Map<string, TaskState[]>): Promise<TaskStatus> {
  const base = { step: s.step, shard };
  const inQueue = q?.find((e) => e.step === s.step && e.shard === shard);
  if (inQueue) {
    if (ACTIVE.has(inQueue.state)) return { ...base, state: "running", job: inQueue.job, detail: inQueue.state.toLowerCase() };
    const blocked = /DependencyNeverSatisfied/.test(inQueue.reason);
    return { ...base, state: blocked ? "blocked" : "pending", job: inQueue.job, detail: inQueue.reason };
  }
  const rec = await readRecord(launch, s.step, shard);
  const log = join(launch, logOf(s, shard));
  if (rec?.[0] === "done") return rec[1] === key ? { ...base, state: "done" } : { ...base, state: "outdated", detail: "its command or inputs changed since it ran" };
  if (rec?.[0] === "failed") return { ...base, state: "failed", job: rec[2], detail: `exit code ${rec[3]}`, log };
  if (rec?.[0] === "submitted" && q) {
    // Submitted, never started, gone from the queue: cancelled (by Slurm when a task it waited for failed) or refused.
    const bad = s.deps.filter((d) => (before.get(d) ?? []).some((x) => x === "failed" || x === "blocked"));
    if (bad.length) return { ...base, state: "blocked", detail: `needs ${bad.join(", ")}, which failed` };
    return { ...base, state: "failed", detail: "left the queue without starting (cancelled, or its log could not be opened)", ...(existsSync(log) ? { log } : {}) };
  }
  if (rec?.[0] === "running" || rec?.[0] === "submitted") {
    // Running by its record but gone from the queue: ended without writing its record (killed hard, node lost).
    return q ? { ...base, state: "failed", job: rec[2], detail: "left the queue without finishing (killed, out of memory or time, node lost)", log }
      : { ...base, state: rec[0] === "running" ? "running" : "pending", job: rec[2], detail: "by its record (no squeue here to check)" };
  }
  const bad = s.deps.filter((d) => (before.get(d) ?? []).some((x) => x === "failed" || x === "blocked"));
  if (bad.length) return { ...base, state: "blocked", detail: `needs ${bad.join(", ")}, which failed` };
  return { ...base, state: "not submitted" };
}

/** The status as lines for a terminal: one per task, then counts. */
export function statusLines(st: { launch: string; tasks: TaskStatus[]; queued: boolean }): string[] {
  const lines = [`Slurm build in ${st.launch}${st.queued ? "" : " (squeue not found: states from the task records only)"}:`];
  const width = Math.max(...st.tasks.map((t) => t.step.length));
  for (const t of st.tasks) {
    lines.push(`  ${t.step.padEnd(width)} ${String(t.shard).padStart(3)}  ${t.state}${t.job ? ` (job ${t.job})` : ""}${t.detail ? ` — ${t.detail}` : ""}${t.log ? `; log: ${t.log}` : ""}`);
  }
  const counts = new Map<string, number>();
  for (const t of st.tasks) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  lines.push(`${st.tasks.length} task(s): ${[...counts].map(([k, n]) => `${n} ${k}`).join(", ")}`);
  const failed = st.tasks.filter((t) => t.state === "failed" || t.state === "blocked" || t.state === "outdated");
  if (failed.length && !st.tasks.some((t) => t.state === "running" || t.state === "pending")) {
    lines.push(`to finish the build: ${join(st.launch, "submit.sh")} (it cancels the blocked jobs and submits what is not done)`);
  }
  return lines;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.error) throw new Error(`${cmd} could not be run: ${r.error.message} (is this a Slurm login node?)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit code ${r.status}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Submit what is not done: cancel this build's pending jobs (and running ones of an outdated command), then submit
 * every step with tasks left, each after the steps it reads from (their new jobs, and their tasks still running).
 * `all`: submit every task not running, done or not. Returns the lines it printed. */
export async function slurmSubmit(dir: string, o: { all?: boolean; print: (line: string) => void }): Promise<{ jobs: number; tasks: number }> {
  const launch = slurmLaunchDir(dir);
  const tf = await readTasks(launch);
  const keys = await stepKeys(tf);
  const q = queue(tf);
  if (q === null) throw new Error("squeue could not be run: submit from a machine with the Slurm client tools (slurm-client)");
  const running = new Map<string, string>(); // "step/shard" → job id kept running
  const cancel: QueueEntry[] = [];
  for (const e of q) {
    const rec = await readRecord(launch, e.step, e.shard);
    if (ACTIVE.has(e.state) && (!rec || rec[1] === keys.get(e.step))) running.set(`${e.step}/${e.shard}`, e.job);
    else cancel.push(e);
  }
  if (cancel.length) {
    run("scancel", cancel.map((e) => e.job), launch);
    const why = (e: QueueEntry) => (ACTIVE.has(e.state) ? "running an outdated command" : e.reason === "DependencyNeverSatisfied" ? "blocked by a failed task" : `pending (${e.reason})`);
    for (const e of cancel) o.print(`cancelled ${e.step} shard ${e.shard} (job ${e.job}): ${why(e)}`);
  }
  // Slurm opens each task's log before the task starts: the folder must exist.
  await mkdir(join(launch, "logs"), { recursive: true });
  await mkdir(join(launch, "state"), { recursive: true });
  const refs = new Map<string, string[]>(); // step → the jobs a dependent step must wait for
  let jobs = 0;
  let submitted = 0;
  for (const s of tf.steps) {
    const key = keys.get(s.step)!;
    const todo: number[] = [];
    const waitFor: string[] = [];
    let done = 0;
    for (let shard = 0; shard < s.tasks; shard++) {
      const r = running.get(`${s.step}/${shard}`);
      if (r) {
        waitFor.push(r);
        continue;
      }
      const rec = await readRecord(launch, s.step, shard);
      if (!o.all && rec?.[0] === "done" && rec[1] === key) done++;
      else todo.push(shard);
    }
    if (todo.length) {
      const after = [...new Set(s.deps.flatMap((d) => refs.get(d) ?? []))];
      const args = ["--parsable", "--kill-on-invalid-dep=yes", `--export=ALL,MEGAMATH_TASK_KEY=${key}`,
        ...(s.sharded ? [`--array=${todo.join(",")}`] : []), ...(after.length ? [`--dependency=afterok:${after.join(":")}`] : []), s.file];
      // Recorded before sbatch (the task overwrites it when it starts): a task that leaves the queue unstarted
      // shows as failed or blocked, not as never submitted.
      for (const shard of todo) await writeFileAtomic(join(launch, recordOf(s.step, shard)), `submitted ${key}\n`);
      const id = run("sbatch", args, launch).split(";")[0];
      waitFor.push(id);
      jobs++;
      submitted += todo.length;
      o.print(`${s.step}: ${s.sharded ? `shard(s) ${todo.join(",")} of ${s.tasks}` : "1 task"} → job ${id}${after.length ? ` (after ${after.join(", ")})` : ""}`);
    } else if (waitFor.length) {
      o.print(`${s.step}: ${waitFor.length} task(s) still running (${waitFor.join(", ")})`);
    } else {
      o.print(`${s.step}: done (${done}/${s.tasks}), not submitted`);
    }
    refs.set(s.step, waitFor);
  }
  o.print(`submitted ${jobs} job(s), ${submitted} task(s); progress: megamath build --status ${tf.buildDir ?? launch}`);
  return { jobs, tasks: submitted };
}
