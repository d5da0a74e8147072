// Kubernetes launch files: one Indexed Job per step (a pod per shard), a ConfigMap holding the build's plan.json (the
// report task copies it onto the volume), and apply.sh, which starts each Job once the Jobs it reads from have
// completed, so independent steps run side by side, and stops at the first failed Job with its pods' logs.
//
// Every step reads and writes through one shared volume (a ReadWriteMany PersistentVolumeClaim mounted at the same
// path in every pod), so every path a task names must lie on it: the emitter refuses, naming the path, when one does
// not. It writes only the launch folder on this machine; the build folder is a path inside the pods.
import { mkdir, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { hashOf } from "../lib/runtime/fingerprint.js";
import { clusterSteps, pathsOf, within, q, setsWorkers, type ClusterTask } from "./cluster-tasks.js";
import type { OptionSpecs } from "../cli/command.js";
import type { Invocation } from "./plan.js";

/** The paths of a plan (its steps' options and positionals, and the build folder) that lie outside `mount`. */
export function pathsOffVolume(plan: Invocation[], mount: string, buildDir: string | undefined, specOf: (command: string) => OptionSpecs): string[] {
  const paths = clusterSteps(plan, specOf).flatMap(pathsOf);
  if (buildDir) paths.push(buildDir);
  return [...new Set(paths.filter((p) => !within(p, mount)))];
}

/** What the k8s target reads of the emit options (emit.ts's EmitOptions extends it). */
export interface K8sSettings {
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

export interface K8sOptions extends K8sSettings {
  image: string;
  /** How a pod calls megamath (`megamath` on the image's PATH). */
  megamath: string;
}

export async function emitK8s(tasks: ClusterTask[], plan: Invocation[], dir: string, o: K8sOptions): Promise<string[]> {
  if (!o.k8sClaim) throw new Error("emit k8s: a shared volume is required (--k8s-claim PVC, ReadWriteMany): steps read each other's files");
  const mount = o.k8sMount ?? "/data";
  const off = pathsOffVolume(plan, mount, o.reportDir, o.specOf);
  if (off.length) {
    throw new Error(`emit k8s: every path must lie on the shared volume mounted at ${mount} (--k8s-mount); not on it: ${off.slice(0, 5).join(", ")}` +
      `${off.length > 5 ? ` and ${off.length - 5} more` : ""}. Put the inputs (--input) and the recipe's other files on the volume and give their paths as the pods see them, and --output under ${mount}.`);
  }
  await mkdir(dir, { recursive: true });
  const tag = hashOf([o.reportDir ?? dir, mount, o.k8sClaim]).slice(0, 6);
  // A fused pass's task is named by its steps joined with "+", which Kubernetes names and labels do not allow.
  const label = (step: string) => step.replaceAll("+", "-");
  const jobName = (step: string) => `megamath-${tag}-${label(step)}`;
  const planMap = `megamath-${tag}-plan`;
  const files: string[] = [];
  const cpus = o.k8sCpus ?? 1;
  const volumeMounts = [{ name: "data", mountPath: mount }];
  const volumes: unknown[] = [{ name: "data", persistentVolumeClaim: { claimName: o.k8sClaim } }];
  const mm = o.megamath.split(" ");
  const jobs: { step: string; file: string; deps: string[] }[] = [];
  for (const [i, t] of tasks.entries()) {
    const file = `${String(i + 1).padStart(2, "0")}-${t.step}.yaml`;
    const workers = t.threaded && !setsWorkers(t) ? ["--workers", String(cpus)] : [];
    let command = [...mm, t.command, ...t.argv, ...workers, ...(t.sharded ? ["--shard", `$(JOB_COMPLETION_INDEX)/${t.tasks}`] : []), ...(t.tail ?? [])];
    const mounts: unknown[] = [...volumeMounts];
    const vols = [...volumes];
    if (t.command === "report" && o.reportDir) {
      // The report reads plan.json from the build folder: copied there from the ConfigMap first.
      mounts.push({ name: "plan", mountPath: "/etc/megamath-plan", readOnly: true });
      vols.push({ name: "plan", configMap: { name: planMap } });
      command = ["sh", "-c", `cp /etc/megamath-plan/plan.json ${q(join(o.reportDir, "plan.json"))} && exec ${command.map(q).join(" ")}`];
    }
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: jobName(t.step), labels: { "app.kubernetes.io/name": "megamath", "megamath/build": tag, "megamath/step": label(t.step) } },
      spec: {
        completionMode: "Indexed",
        completions: t.tasks,
        parallelism: t.tasks,
        backoffLimitPerIndex: 2,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "megamath", "megamath/build": tag, "megamath/step": label(t.step) } },
          spec: {
            restartPolicy: "Never",
            containers: [{
              name: "megamath",
              image: o.image,
              command,
              resources: { requests: { cpu: String(t.threaded ? cpus : 1) } },
              volumeMounts: mounts,
            }],
            volumes: vols,
          },
        },
      },
    };
    // JSON is YAML: one document, no YAML library needed to write or to read it back.
    await writeFile(join(dir, file), JSON.stringify(job, null, 1) + "\n");
    files.push(file);
    jobs.push({ step: t.step, file, deps: t.deps });
  }
  // The plan file travels as a ConfigMap: nothing is written under the build folder from here.
  if (o.reportDir) {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: planMap, labels: { "megamath/build": tag } },
      data: { "plan.json": JSON.stringify(o.planFile ?? { plan }, null, 1) + "\n" } };
    await writeFile(join(dir, "00-plan.yaml"), JSON.stringify(cm, null, 1) + "\n");
    files.unshift("00-plan.yaml");
  }
  await writeFile(join(dir, "apply.sh"), applyScript(jobs, jobName, o.reportDir ? "00-plan.yaml" : null));
  await chmod(join(dir, "apply.sh"), 0o755);
  files.push("apply.sh");
  return files;
}

function applyScript(jobs: { step: string; file: string; deps: string[] }[], jobName: (s: string) => string, planFile: string | null): string {
  const arr = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => `[${k}]=${q(v)}`).join(" ");
  return [
    "#!/usr/bin/env bash",
    "# Run the build's Jobs: each starts once the Jobs of the steps it reads from have completed, so independent steps",
    "# run side by side. Stops at the first failed Job, printing its failed pods' logs. Safe to rerun: a Job that",
    "# completed before with the same manifest is kept; any other is deleted and applied again (the shards that finished",
    "# keep their completion markers on the volume, so their work is not redone). POLL=seconds between checks (10).",
    "set -euo pipefail",
    'cd "$(dirname "$0")"',
    `steps=(${jobs.map((j) => j.step).join(" ")})`,
    `declare -A file=(${arr(Object.fromEntries(jobs.map((j) => [j.step, j.file])))})`,
    `declare -A deps=(${arr(Object.fromEntries(jobs.map((j) => [j.step, j.deps.join(" ")])))})`,
    `declare -A name=(${arr(Object.fromEntries(jobs.map((j) => [j.step, jobName(j.step)])))})`,
    "declare -A state=()",
    'conditions() { kubectl get job "${name[$1]}" --ignore-not-found -o \'jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}\'; }',
    "failed_logs() {",
    '  echo "apply.sh: job ${name[$1]} (step $1) failed; logs of its failed pods:" >&2',
    '  for pod in $(kubectl get pods -l "job-name=${name[$1]}" --field-selector=status.phase=Failed -o name); do',
    '    echo "----- $pod" >&2; kubectl logs "$pod" --all-containers --tail=200 >&2 || true',
    "  done",
    '  echo "apply.sh: fix the cause, then run apply.sh again (completed steps are kept)" >&2',
    "  exit 1",
    "}",
    ...(planFile ? [`kubectl apply -f ${planFile}`] : []),
    'while :; do',
    "  left=0",
    '  for s in "${steps[@]}"; do',
    '    [ "${state[$s]:-}" = complete ] && continue',
    "    left=1",
    '    if [ -z "${state[$s]:-}" ]; then',
    '      for d in ${deps[$s]}; do [ "${state[$d]:-}" = complete ] || continue 2; done',
    '      if [[ " $(conditions "$s") " == *" Complete "* ]] && kubectl diff -f "${file[$s]}" >/dev/null 2>&1; then',
    '        state[$s]=complete; echo "$s: completed before with the same manifest, kept"; continue',
    "      fi",
    '      kubectl delete job "${name[$s]}" --ignore-not-found --wait=true >/dev/null',
    '      kubectl apply -f "${file[$s]}" >/dev/null',
    '      state[$s]=started; echo "$s: started job ${name[$s]}"',
    "    else",
    '      c=" $(conditions "$s") "',
    '      if [[ $c == *" Complete "* ]]; then state[$s]=complete; echo "$s: complete"',
    '      elif [[ $c == *" Failed "* || $c == *" FailureTarget "* ]]; then failed_logs "$s"; fi',
    "    fi",
    "  done",
    '  [ "$left" = 0 ] && break',
    '  sleep "${POLL:-10}"',
    "done",
    'echo "apply.sh: every step completed"',
    "",
  ].join("\n");
}
