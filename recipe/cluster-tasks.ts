// What a cluster runs of a planned build: the steps as shard tasks (dedup as its four stages; the steps of a fused pass
// as one `megamath pass` task, see recipe/fuse.ts), each with its command line, the earlier tasks it reads from, and
// the files it reads outside the build. The emitters (emit.ts, emit-slurm.ts, emit-k8s.ts) render these as scripts
// and manifests.
import { join, isAbsolute, normalize, resolve, sep } from "node:path";
import type { Invocation, StepOptions } from "./plan.js";
import type { Pass } from "./fuse.js";
import { escapeListItem, type OptionSpecs } from "../cli/command.js";

/** One step (or fused pass) as a cluster runs it: a command line, how many shard tasks, and the tasks it must wait for. */
export interface ClusterTask {
  /** The step's name; a fused pass's members' names joined by "+" (decontaminate+tokenize). */
  step: string;
  command: string;
  /** A fused pass: its steps' names, in order. */
  members?: string[];
  /** Words after --workers/--shard (a pass's steps: `-- COMMAND ARGS...` each). */
  tail?: string[];
  /** 1 for an unsharded step; else the shard count (each task gets `--shard i/N`). */
  tasks: number;
  sharded: boolean;
  /** The command's words after `megamath COMMAND`, without --shard. */
  argv: string[];
  /** The nearest earlier steps whose output this step reads (for the report: the steps nothing else waits for). */
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

/** The cluster's tasks in plan order, each with the earlier tasks it reads from: a task depends on every earlier
 * task with a folder holding a path it names (its input glob, a model, dedup's work folder), so the graph is the
 * recipe's `@STEP` and `${STEP}` references, whatever they became. The steps of each of `passes` (fuse.ts
 * planPasses, keyed by their first step) become one `megamath pass` task. The report task waits for every step. */
export function clusterTasks(plan: Invocation[], o: { shards: number; reportDir?: string; specOf: (command: string) => OptionSpecs; passes?: Map<string, Pass> }): ClusterTask[] {
  const steps = clusterSteps(plan, o.specOf);
  // The units a task runs: one step, or the members of a pass (consecutive steps of the plan).
  const units: { invs: Invocation[]; keep: boolean[] }[] = [];
  for (let i = 0; i < steps.length; i++) {
    const pass = o.passes?.get(steps[i].step);
    const names = pass?.members.map((m) => m.step) ?? [];
    if (pass && names.every((n, k) => steps[i + k]?.step === n)) {
      units.push({ invs: steps.slice(i, i + names.length), keep: pass.keep });
      i += names.length - 1;
    } else units.push({ invs: [steps[i]], keep: [true] });
  }
  const nameOf = (u: { invs: Invocation[] }) => u.invs.map((s) => s.step).join("+");
  const tasks: ClusterTask[] = [];
  const ancestors = new Map<string, Set<string>>();
  // Only the nearest of them: a task that another of its dependencies already waits for is left out (dedup-filter
  // waits for dedup-clusters, not also for filter and the other dedup stages before it).
  const nearest = (deps: string[], step: string) => {
    const all = new Set(deps.flatMap((d) => [d, ...ancestors.get(d)!]));
    ancestors.set(step, all);
    return deps.filter((d) => !deps.some((e) => e !== d && ancestors.get(e)!.has(d)));
  };
  for (const [i, u] of units.entries()) {
    const paths = u.invs.flatMap(pathsOf);
    const earlier = units.slice(0, i).filter((d) => d.invs.some((s) => paths.some((p) => within(p, s.outDir))));
    const name = nameOf(u);
    const deps = nearest(earlier.map(nameOf), name);
    const externals = [...new Set(paths.filter((p) => !(o.reportDir && within(p, o.reportDir)) && !steps.some((d) => within(p, d.outDir))))];
    const threaded = u.invs.some((s) => "workers" in o.specOf(s.command) && s.options.workers !== 0 && s.runOptions.workers !== 0);
    const s = u.invs[0];
    if (u.invs.length === 1) {
      tasks.push({ step: s.step, command: s.command, tasks: s.shard === "none" ? 1 : o.shards, sharded: s.shard !== "none",
        argv: stepArgv(s), deps, externals, threaded, about: s.about });
      continue;
    }
    // A pass shards over files like each of its steps (planPasses fuses only those).
    const keep = u.keep.flatMap((k, j) => (k && j < u.invs.length - 1 ? ["--keep", String(j)] : []));
    tasks.push({ step: name, command: "pass", members: u.invs.map((m) => m.step), tasks: o.shards, sharded: true, argv: keep,
      tail: u.invs.flatMap((m) => ["--", m.command, ...stepArgv(m)]), deps, externals, threaded,
      about: `one fused pass: ${u.invs.map((m) => m.step).join(" → ")}` });
  }
  if (o.reportDir) {
    tasks.push({ step: "report", command: "report", tasks: 1, sharded: false, argv: [o.reportDir], deps: nearest(units.map(nameOf), "report"),
      externals: [], threaded: false, about: "report.json and report.html from what the steps left in their folders" });
  }
  return tasks;
}

/** Whether the task's command line sets --workers itself (the recipe does): the emitters then add none. */
export const setsWorkers = (t: ClusterTask) => t.argv.includes("--workers") || Boolean(t.tail?.includes("--workers"));

/** The task's words after --workers/--shard, each ready for bash. */
export const tailWords = (t: ClusterTask) => (t.tail?.length ? ` ${t.tail.map(q).join(" ")}` : "");

/** A word for bash: as it is when safe, else single-quoted. */
export const q = (s: string) => (/^[A-Za-z0-9_./=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

