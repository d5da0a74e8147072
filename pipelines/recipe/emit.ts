// Cluster launch without a coordinator: every step becomes N independent shard tasks (`--shard i/N`) of the same
// subcommand, and steps run in order. Slurm gets one job array per step chained with afterok dependencies;
// Kubernetes gets one Indexed Job per step applied in order; "local" gets a bash script that runs the shards as
// background processes (the test uses it to prove sharded output equals a single-process run).
import { mkdir, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import type { Invocation, StepOptions } from "./plan.js";
import { packagePath } from "../../lib/paths.js";
import { escapeListItem, type OptionSpecs } from "../../cli/command.js";

export type EmitTarget = "slurm" | "k8s" | "local";

export interface EmitOptions {
  shards: number;
  /** How to call megamath inside a task (default: this installation's bin for slurm/local, `megamath` for k8s). */
  megamath?: string;
  cpusPerTask?: number;
  /** Container image for k8s Jobs, with megamath installed (required for k8s). */
  image?: string;
  /** Kubernetes: a PersistentVolumeClaim every Job mounts, so steps see each other's files (ReadWriteMany). */
  k8sClaim?: string;
  /** Kubernetes: where the claim is mounted; the build's inputs and outputs must live under it. */
  k8sMount?: string;
  /** The build folder (holding plan.json): the pipeline ends with a task writing its report there. */
  reportDir?: string;
  /** Each subcommand's declared options (to give dedup's stage commands only the flags they take). */
  specOf: (command: string) => OptionSpecs;
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

const q = (s: string) => (/^[A-Za-z0-9_./=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function emit(target: EmitTarget, plan: Invocation[], dir: string, o: EmitOptions): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const steps = clusterSteps(plan, o.specOf);
  if (o.reportDir) {
    steps.push({ step: "report", command: "report", options: {}, runOptions: {}, positionals: [o.reportDir], shard: "none",
      outDir: o.reportDir, about: "report.json and report.html from what the steps left in their folders" });
  }
  // Defaults that surely exist: this installation (seen through a shared file system) for slurm/local; for k8s,
  // `megamath` on the PATH of the image the caller names (no public image or registry package holds megamath).
  if (target === "k8s" && !o.image) throw new Error("emit k8s: an image with megamath installed is required (image option)");
  const mm = o.megamath ?? (target === "k8s" ? "megamath" : `node ${q(packagePath("bin", "megamath.js"))}`);
  const files: string[] = [];
  const tasks = (s: Invocation) => (s.shard === "none" ? 1 : o.shards);
  const line = (s: Invocation, shardExpr: string) =>
    `${mm} ${s.command} ${stepArgv(s).map(q).join(" ")}${s.shard === "none" ? "" : ` --shard ${shardExpr}/${o.shards}`}`;
  if (target === "slurm") {
    const submit = ["#!/usr/bin/env bash", "# Submit every step as a Slurm job array; each waits for the previous one.", "set -euo pipefail", 'cd "$(dirname "$0")"', "mkdir -p logs", "prev="];
    for (const [i, s] of steps.entries()) {
      const name = `${String(i + 1).padStart(2, "0")}-${s.step}.sbatch`;
      const n = tasks(s);
      const body = [
        "#!/usr/bin/env bash",
        `#SBATCH --job-name=megamath-${s.step}`,
        ...(n > 1 ? [`#SBATCH --array=0-${n - 1}`] : []),
        `#SBATCH --cpus-per-task=${o.cpusPerTask ?? 2}`,
        `#SBATCH --output=logs/%x-%A_%a.out`,
        "set -euo pipefail",
        `# ${s.about ?? s.command}`,
        line(s, "${SLURM_ARRAY_TASK_ID:-0}"),
        "",
      ].join("\n");
      await writeFile(join(dir, name), body);
      submit.push(`prev=$(sbatch --parsable \${prev:+--dependency=afterok:$prev} ${name})`, `echo "${s.step}: job $prev"`);
      files.push(name);
    }
    await writeFile(join(dir, "submit.sh"), submit.join("\n") + "\n");
    await chmod(join(dir, "submit.sh"), 0o755);
    files.push("submit.sh");
  } else if (target === "k8s") {
    const apply = ["#!/usr/bin/env bash", "# Apply each Indexed Job in order, waiting for the previous one to complete. Steps exchange files, so every",
      "# Job mounts one shared volume (--k8s-claim, ReadWriteMany) at the same path. Rerunnable: a Job of the same name",
      "# is deleted first (its finished shards keep their completion markers on the volume, so work is not redone).",
      "set -euo pipefail", 'cd "$(dirname "$0")"'];
    if (!o.k8sClaim) apply.push(`echo "warning: no --k8s-claim given: each pod writes to its own disk, so steps cannot see each other's files" >&2`);
    const mount = o.k8sMount ?? "/data";
    const volume = o.k8sClaim
      ? [`          volumeMounts: [{ name: data, mountPath: ${JSON.stringify(mount)} }]`, "      volumes:", `        - name: data`, `          persistentVolumeClaim: { claimName: ${JSON.stringify(o.k8sClaim)} }`]
      : [];
    for (const [i, s] of steps.entries()) {
      const name = `${String(i + 1).padStart(2, "0")}-${s.step}.yaml`;
      const n = tasks(s);
      const argv = [...mm.split(" "), s.command, ...stepArgv(s), ...(s.shard === "none" ? [] : ["--shard", `$(JOB_COMPLETION_INDEX)/${o.shards}`])];
      const yaml = [
        "apiVersion: batch/v1",
        "kind: Job",
        "metadata:",
        `  name: megamath-${s.step}`,
        "spec:",
        "  completionMode: Indexed",
        `  completions: ${n}`,
        `  parallelism: ${n}`,
        "  backoffLimitPerIndex: 2",
        "  template:",
        "    spec:",
        "      restartPolicy: Never",
        "      containers:",
        "        - name: megamath",
        `          image: ${o.image}`,
        `          command: ${JSON.stringify(argv)}`,
        `          resources: { requests: { cpu: "${o.cpusPerTask ?? 2}" } }`,
        ...volume,
        "",
      ].join("\n");
      await writeFile(join(dir, name), yaml);
      apply.push(`kubectl delete job megamath-${s.step} --ignore-not-found`, `kubectl apply -f ${name}`,
        `kubectl wait --for=condition=complete --timeout=-1s job/megamath-${s.step}`);
      files.push(name);
    }
    await writeFile(join(dir, "apply.sh"), apply.join("\n") + "\n");
    await chmod(join(dir, "apply.sh"), 0o755);
    files.push("apply.sh");
  } else {
    const sh = ["#!/usr/bin/env bash", "# Every step's shards as parallel local processes, steps in order.", "set -euo pipefail"];
    for (const s of steps) {
      sh.push(`# ${s.step}`);
      if (tasks(s) === 1) sh.push(line(s, "0"));
      else {
        sh.push("pids=()");
        for (let i = 0; i < o.shards; i++) sh.push(`${line(s, String(i))} & pids+=($!)`);
        sh.push('for p in "${pids[@]}"; do wait "$p"; done');
      }
    }
    await writeFile(join(dir, "run-local.sh"), sh.join("\n") + "\n");
    await chmod(join(dir, "run-local.sh"), 0o755);
    files.push("run-local.sh");
  }
  return files;
}
