// Cluster launch without a coordinator: every step becomes N independent shard tasks (`--shard i/N`) of the same
// subcommand; the consecutive per-document steps that `megamath build` runs as one fused pass (fuse.ts) become N
// tasks of `megamath pass`, each running all of them over its shard's files (one read and one write per pass, each
// step's markers and stats in its own folder as if it ran alone; the recipe's `fuse: false` or --no-fuse keeps them
// apart). Each step waits only for the steps it reads from (the recipe's step graph, found from the folders its
// options name; see cluster-tasks.ts), so independent steps (the four mixtures) run side by side. Slurm gets one job
// array per step (emit-slurm.ts, submitted and resubmitted by cluster-slurm.ts), Kubernetes one Indexed Job per step
// (emit-k8s.ts); "local" gets a bash script that runs the shards as background processes (the tests use it to prove
// sharded output equals a single-process run).
import { mkdir, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import type { Invocation } from "./plan.js";
import { packagePath } from "../lib/paths.js";
import { emitSlurm, type SlurmResources } from "./emit-slurm.js";
import { emitK8s, type K8sSettings } from "./emit-k8s.js";
import { clusterTasks, q, tailWords, type ClusterTask } from "./cluster-tasks.js";
import { planPasses, type Pass } from "./fuse.js";

export { clusterSteps, stepArgv, DEDUP_STAGES, mapPlanPaths, pathMover, type ClusterTask } from "./cluster-tasks.js";

export type EmitTarget = "slurm" | "k8s" | "local";

export interface EmitOptions extends K8sSettings {
  shards: number;
  /** How to call megamath inside a task (default: this installation's bin for slurm/local, `megamath` for k8s). */
  megamath?: string;
  /** Slurm: what every job asks for (none by default) and raw options, all steps or "STEP:OPTION" for one. */
  slurm?: SlurmResources;
  /** Container image for k8s Jobs, with megamath installed (required for k8s). */
  image?: string;
  /** Run fused passes as one task per shard (default true). */
  fuse?: boolean;
  /** The final corpus folder (its documents are written even when its step is fused with a later one). */
  finalDir?: string;
}

/** Write the launch files of `target` into `dir`; returns their names. */
export async function emit(target: EmitTarget, plan: Invocation[], dir: string, o: EmitOptions): Promise<string[]> {
  const passes = o.fuse === false ? new Map<string, Pass>() : await planPasses(plan, o.finalDir);
  const tasks = clusterTasks(plan, { ...o, passes });
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
  const line = (t: ClusterTask, shard: string) => `${mm} ${[t.command, ...t.argv.map(q)].join(" ")}${t.sharded ? ` --shard ${shard}/${t.tasks}` : ""}${tailWords(t)}`;
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
