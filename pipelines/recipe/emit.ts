// Cluster launch without a coordinator: every step becomes N independent shard tasks (`--shard i/N`) of the same
// subcommand, and steps run in order. Slurm gets one job array per step chained with afterok dependencies;
// Kubernetes gets one Indexed Job per step applied in order; "local" gets a bash script that runs the shards as
// background processes (the test uses it to prove sharded output equals a single-process run).
import { mkdir, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import type { Invocation } from "./plan.js";

export type EmitTarget = "slurm" | "k8s" | "local";

export interface EmitOptions {
  shards: number;
  /** How to call megamath inside a task (default `npx megamath`). */
  megamath?: string;
  cpusPerTask?: number;
  image?: string;
}

/** A task list: the invocations a cluster runs, with dedup split into its four file-exchanging stages. */
export function clusterSteps(plan: Invocation[]): Invocation[] {
  return plan.filter((p) => !p.skipped).flatMap(expandForCluster);
}

/** `dedup` runs its four stages in one process locally; on a cluster each stage is its own step so stage 2 can
 * fan out over bands and stages 1 and 4 over files. */
function expandForCluster(inv: Invocation): Invocation[] {
  if (inv.command !== "dedup") return [inv];
  return [
    { ...inv, step: `${inv.step}-signatures`, command: "dedup-signatures", shard: "files" },
    { ...inv, step: `${inv.step}-buckets`, command: "dedup-buckets", shard: "bands" },
    { ...inv, step: `${inv.step}-clusters`, command: "dedup-clusters", shard: "none" },
    { ...inv, step: `${inv.step}-filter`, command: "dedup-filter", shard: "files" },
  ];
}

const q = (s: string) => (/^[A-Za-z0-9_./=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function emit(target: EmitTarget, plan: Invocation[], dir: string, o: EmitOptions): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const steps = clusterSteps(plan);
  const mm = o.megamath ?? "npx megamath";
  const files: string[] = [];
  const tasks = (s: Invocation) => (s.shard === "none" ? 1 : o.shards);
  const line = (s: Invocation, shardExpr: string) =>
    `${mm} ${s.command} ${s.args.map(q).join(" ")}${s.shard === "none" ? "" : ` --shard ${shardExpr}/${o.shards}`}`;
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
    const apply = ["#!/usr/bin/env bash", "# Apply each Indexed Job in order, waiting for the previous one to complete.", "set -euo pipefail", 'cd "$(dirname "$0")"'];
    for (const [i, s] of steps.entries()) {
      const name = `${String(i + 1).padStart(2, "0")}-${s.step}.yaml`;
      const n = tasks(s);
      const argv = [...mm.split(" "), s.command, ...s.args, ...(s.shard === "none" ? [] : ["--shard", `$(JOB_COMPLETION_INDEX)/${o.shards}`])];
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
        `          image: ${o.image ?? "node:22"}`,
        `          command: ${JSON.stringify(argv)}`,
        `          resources: { requests: { cpu: "${o.cpusPerTask ?? 2}" } }`,
        "",
      ].join("\n");
      await writeFile(join(dir, name), yaml);
      apply.push(`kubectl apply -f ${name}`, `kubectl wait --for=condition=complete --timeout=-1s job/megamath-${s.step}`);
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
