// Cluster launch without a coordinator: every step becomes N independent shard tasks (`--shard i/N`) of the same
// subcommand. Each step waits only for the steps it reads from (the recipe's step graph, found from the folders its
// options name), so independent steps (the four mixtures) run side by side. Slurm gets one job array per step
// (emit-slurm.ts, resubmitted by cluster-slurm.ts), Kubernetes one Indexed Job per step (emit-k8s.ts); "local" gets a
// bash script that runs the shards as background processes (the tests use it to prove sharded output equals a
// single-process run).
import { mkdir, writeFile, chmod } from "node:fs/promises";
import { join, isAbsolute, normalize, resolve, sep } from "node:path";
import type { Invocation, StepOptions } from "./plan.js";
import { packagePath } from "../../lib/paths.js";
import { escapeListItem, type OptionSpecs } from "../../cli/command.js";
import { emitSlurm, type SlurmResources } from "./emit-slurm.js";
import { emitK8s } from "./emit-k8s.js";

export type EmitTarget = "slurm" | "k8s" | "local";

export interface EmitOptions {
  shards: number;
  /** How to call megamath inside a task (default: this installation's bin for slurm/local, `megamath` for k8s). */
  megamath?: string;
  /** Slurm: what every job asks for (none by default) and raw options, all steps or "STEP:OPTION" for one. */
  slurm?: SlurmResources;
  /** Container image for k8s Jobs, with megamath installed (required for k8s). */
  image?: string;
  /** Kubernetes: a PersistentVolumeClaim every Job mounts, so steps see each other's files (ReadWriteMany). */
  k8sClaim?: string;
  /** Kubernetes: where the claim is mounted; the build's inputs and outputs must live under it. */
  k8sMount?: string;
  /** Kubernetes: CPUs each task requests (default 1). */
  k8sCpus?: number;
  /** The build folder (holding plan.json): the pipeline ends with a task writing its report there. */
  reportDir?: string;
  /** Kubernetes: the build's plan.json content (a ConfigMap carries it to the volume). */
  planFile?: unknown;
  /** Each subcommand's declared options (to give dedup's stage commands only the flags they take). */
  specOf: (command: string) => OptionSpecs;
}

/** One step as a cluster runs it: a command line, how many shard tasks, and the steps it must wait for. */
export interface ClusterTask {
  step: string;
  command: string;
  /** 1 for an unsharded step; else the shard count (each task gets `--shard i/N`). */
  tasks: number;
  sharded: boolean;
  /** The command's words after `megamath COMMAND`, without --shard. */
  argv: string[];
  /** Earlier steps whose output this step reads (or, for the report, every step). */
  deps: string[];
  /** Absolute paths (files, folders, globs) outside the build folder that the step reads. */
  externals: string[];
  /** Whether the command runs worker threads (`--workers`): it gets the CPUs asked for; the others get one. */
  threaded: boolean;
  about?: string;
}

/** A task list: the invocations a cluster runs, with dedup split into its four file-exchanging stages. */
export function clusterSteps(plan: Invocation[], specOf: (command: string) => OptionSpecs): Invocation[] {
  return plan.filter((p) => !p.skipped).flatMap((inv) => expandForCluster(inv, specOf));
}

/** The dedup stage commands `megamath dedup` runs in one process, in order, with how each one shards. */
export const DEDUP_STAGES = [
  { suffix: "signatures", command: "dedup-signatures", shard: "files" },
  { suffix: "buckets", command: "dedup-buckets", shard: "bands" },
  { suffix: "clusters", command: "dedup-clusters", shard: "none" },
  { suffix: "filter", command: "dedup-filter", shard: "files" },
] as const;

/** `dedup` runs its four stages in one process locally; on a cluster each stage is its own step so stage 2 can
 * fan out over bands and stages 1 and 4 over files. They share the work folder `megamath dedup` uses. */
function expandForCluster(inv: Invocation, specOf: (command: string) => OptionSpecs): Invocation[] {
  if (inv.command !== "dedup") return [inv];
  const workDir = join(inv.outDir, "dedup-work");
  return DEDUP_STAGES.map((st) => ({
    ...inv, step: `${inv.step}-${st.suffix}`, command: st.command, shard: st.shard,
    options: { ...accepted(inv.options, specOf(st.command)), "work-dir": workDir },
    runOptions: accepted(inv.runOptions, specOf(st.command)),
  }));
}

/** The options of `options` that a command declares. */
function accepted(options: StepOptions, spec: OptionSpecs): StepOptions {
  return Object.fromEntries(Object.entries(options).filter(([k]) => k in spec));
}

/** A planned step as the words of a command line: positionals, then --flag [value] per option. A list is written as
 * one flag per item, each item escaped so that the command's list splitting gives it back whole (a path with a
 * comma stays one path). */
export function stepArgv(inv: Pick<Invocation, "options" | "runOptions" | "positionals">): string[] {
  const argv = [...inv.positionals];
  for (const [k, v] of [...Object.entries(inv.options), ...Object.entries(inv.runOptions)]) {
    if (Array.isArray(v)) for (const item of v) argv.push(`--${k}`, escapeListItem(item));
    else if (v === true) argv.push(`--${k}`);
    else if (v !== false) argv.push(`--${k}`, String(v));
  }
  return argv;
}

/** Every absolute path a step names: positionals, option values, and the PATH of "NAME=PATH" values (mix sources). */
export function pathsOf(inv: Pick<Invocation, "options" | "runOptions" | "positionals">): string[] {
  const values = [...inv.positionals, ...[...Object.values(inv.options), ...Object.values(inv.runOptions)].flat()];
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== "string") continue;
    const path = isAbsolute(v) ? v : /^[^=/]+=(\/.*)$/.exec(v)?.[1];
    if (path) out.push(normalize(path));
  }
  return out;
}

/** A function moving every path under a LOCAL folder to its REMOTE folder ("LOCAL=REMOTE": LOCAL as this machine
 * sees a folder, relative paths from the current folder; REMOTE as the cluster's tasks see it, e.g. a volume's mount
 * path). Other paths are returned as they are. */
export function pathMover(maps: string[]): (p: string) => string {
  const pairs = maps.map((m) => {
    const i = m.indexOf("=");
    if (i <= 0 || !isAbsolute(m.slice(i + 1))) throw new Error(`--path-map "${m}": give LOCAL=REMOTE, REMOTE an absolute path`);
    return [resolve(m.slice(0, i)), normalize(m.slice(i + 1))] as const;
  });
  return (p: string) => {
    const n = normalize(p);
    for (const [from, to] of pairs) if (within(n, from)) return to + n.slice(from.length);
    return p;
  };
}

/** The plan with its paths moved (see pathMover): option values, NAME=PATH values (mix sources), positionals. */
export function mapPlanPaths(plan: Invocation[], move: (p: string) => string): Invocation[] {
  const value = (v: string) => {
    if (isAbsolute(v)) return move(v);
    const m = /^([^=/]+=)(\/.*)$/.exec(v);
    return m ? m[1] + move(m[2]) : v;
  };
  const opts = (o: StepOptions): StepOptions =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v.map(value) : typeof v === "string" ? value(v) : v]));
  return plan.map((inv) => ({ ...inv, options: opts(inv.options), runOptions: opts(inv.runOptions), positionals: inv.positionals.map(value),
    outDir: move(inv.outDir), ...(inv.effectiveDir ? { effectiveDir: move(inv.effectiveDir) } : {}) }));
}

/** `path` is `dir` or lies below it. */
export const within = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** The cluster's tasks in plan order, each with the earlier steps it reads from: a step depends on every earlier
 * step whose folder holds a path it names (its input glob, a model, dedup's work folder), so the graph is the
 * recipe's `@STEP` and `${STEP}` references, whatever they became. The report task waits for every step. */
export function clusterTasks(plan: Invocation[], o: Pick<EmitOptions, "shards" | "reportDir" | "specOf">): ClusterTask[] {
  const steps = clusterSteps(plan, o.specOf);
  const tasks: ClusterTask[] = [];
  const ancestors = new Map<string, Set<string>>();
  // Only the nearest of them: a step that another of its dependencies already waits for is left out (dedup-filter
  // waits for dedup-clusters, not also for filter and the other dedup stages before it).
  const nearest = (deps: string[], step: string) => {
    const all = new Set(deps.flatMap((d) => [d, ...ancestors.get(d)!]));
    ancestors.set(step, all);
    return deps.filter((d) => !deps.some((e) => e !== d && ancestors.get(e)!.has(d)));
  };
  for (const [i, s] of steps.entries()) {
    const paths = pathsOf(s);
    const deps = nearest(steps.slice(0, i).filter((d) => paths.some((p) => within(p, d.outDir))).map((d) => d.step), s.step);
    const externals = [...new Set(paths.filter((p) => !(o.reportDir && within(p, o.reportDir)) && !steps.some((d) => within(p, d.outDir))))];
    tasks.push({ step: s.step, command: s.command, tasks: s.shard === "none" ? 1 : o.shards, sharded: s.shard !== "none",
      argv: stepArgv(s), deps, externals, threaded: "workers" in o.specOf(s.command) && s.options.workers !== 0 && s.runOptions.workers !== 0,
      about: s.about });
  }
  if (o.reportDir) {
    tasks.push({ step: "report", command: "report", tasks: 1, sharded: false, argv: [o.reportDir], deps: nearest(steps.map((s) => s.step), "report"),
      externals: [], threaded: false, about: "report.json and report.html from what the steps left in their folders" });
  }
  return tasks;
}

/** A word for bash: as it is when safe, else single-quoted. */
export const q = (s: string) => (/^[A-Za-z0-9_./=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Write the launch files of `target` into `dir`; returns their names. */
export async function emit(target: EmitTarget, plan: Invocation[], dir: string, o: EmitOptions): Promise<string[]> {
  const tasks = clusterTasks(plan, o);
  // Defaults that surely exist: this installation (seen through a shared file system) for slurm/local; for k8s,
  // `megamath` on the PATH of the image the caller names (the repository's Dockerfile builds one).
  if (target === "k8s") {
    if (!o.image) throw new Error("emit k8s: an image with megamath installed is required (image option)");
    // Checked before anything is written: a refused emit leaves nothing behind.
    return emitK8s(tasks, plan, dir, { ...o, image: o.image, megamath: o.megamath ?? "megamath" });
  }
  await mkdir(dir, { recursive: true });
  const mm = o.megamath ?? `node ${q(packagePath("bin", "megamath.js"))}`;
  if (target === "slurm") return emitSlurm(tasks, dir, { megamath: mm, shards: o.shards, resources: o.slurm ?? {}, buildDir: o.reportDir });
  const line = (t: ClusterTask, shard: string) => `${mm} ${t.command} ${t.argv.map(q).join(" ")}${t.sharded ? ` --shard ${shard}/${t.tasks}` : ""}`;
  const sh = ["#!/usr/bin/env bash", "# Every step's shards as parallel local processes, steps in order.", "set -euo pipefail"];
  for (const t of tasks) {
    sh.push(`# ${t.step}`);
    if (t.tasks === 1) sh.push(line(t, "0"));
    else {
      sh.push("pids=()");
      for (let i = 0; i < t.tasks; i++) sh.push(`${line(t, String(i))} & pids+=($!)`);
      sh.push('for p in "${pids[@]}"; do wait "$p"; done');
    }
  }
  await writeFile(join(dir, "run-local.sh"), sh.join("\n") + "\n");
  await chmod(join(dir, "run-local.sh"), 0o755);
  return ["run-local.sh"];
}
