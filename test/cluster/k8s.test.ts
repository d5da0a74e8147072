// `megamath build --emit k8s`: the manifests pass the Kubernetes API's own schemas (the kubernetes-models package,
// generated from the API's OpenAPI definitions), every path a pod names lies on the shared volume, the emitter
// refuses (naming the path) a build whose files are not on it and creates nothing on this machine for a pod's path,
// and apply.sh starts each Job after the Jobs it reads from, stops at a failed Job with its pods' logs and, run again,
// keeps what completed (against a scripted stand-in for kubectl: no cluster here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { tmpDir, repoRoot } from "../helpers.js";
import { megamath } from "../build/cli-run.js";
import { demoRecipePath, reducedRecipe } from "./recipes.js";

// A mount path that exists nowhere on this machine: the test also checks that emitting creates nothing under it.
const mount = `/megamath-test-volume-${process.pid}`;

test("k8s manifests: valid against the API schemas, every path on the volume, plan as a ConfigMap, nothing created locally", () => {
  const dir = tmpDir("megamath-k8s-");
  // The recipe reads the checkout's fixtures/demo; a copy of it is on the volume at <mount>/demo.
  const recipe = reducedRecipe(dir);
  const launch = join(dir, "launch");
  const r = megamath(["build", recipe, "--emit", "k8s", "--shards", "3", "--path-map", `${join(repoRoot, "fixtures", "demo")}=${mount}/demo`,
    "--output", `${mount}/build`, "--image", "registry.example/megamath:0.1.0", "--k8s-claim", "megamath-data",
    "--k8s-mount", mount, "--k8s-cpus", "4", "--launch-dir", launch]);
  assert.equal(r.code, 0, r.err);
  assert.ok(!existsSync(mount), `the emitter created ${mount} on this machine`);
  const files = readdirSync(launch).sort();
  assert.ok(files.includes("apply.sh") && files.includes("00-plan.yaml"), files.join(" "));
  const jobs = files.filter((f) => /^\d\d-.*\.yaml$/.test(f) && f !== "00-plan.yaml");
  // 7 steps, dedup as 4 stages, score + filter and decontaminate + tokenize each as one fused pass, the report.
  assert.equal(jobs.length, 10, jobs.join(" "));
  for (const f of jobs) {
    const obj = JSON.parse(readFileSync(join(launch, f), "utf8"));
    new Job(obj).validate(); // throws with the schema's message when a field is wrong
    const pod = obj.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.image, "registry.example/megamath:0.1.0");
    assert.deepEqual(pod.volumes[0], { name: "data", persistentVolumeClaim: { claimName: "megamath-data" } });
    assert.ok(c.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === "data" && m.mountPath === mount));
    // Every absolute path in the command lies on the volume, or (the report's plan file) on a mounted ConfigMap.
    const mounts: string[] = c.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    const words = c.command.flatMap((w: string) => w.split(/[\s'=]+/));
    for (const p of words.filter((w: string) => w.startsWith("/"))) {
      assert.ok(mounts.some((m) => p === m || p.startsWith(m + "/")), `${f}: ${p} is not on a mounted volume`);
    }
    assert.equal(c.command[0] === "sh" ? "megamath" : c.command[0], "megamath");
  }
  const score = JSON.parse(readFileSync(join(launch, jobs.find((f) => f.endsWith("-score+filter.yaml"))!), "utf8"));
  assert.equal(score.spec.completionMode, "Indexed");
  assert.equal(score.spec.completions, 3);
  assert.match(score.metadata.name, /^megamath-[0-9a-f]+-score-filter$/);
  // One pod per shard runs the fused pass: both steps, the shard and the workers given once for the two.
  const words: string[] = score.spec.template.spec.containers[0].command;
  assert.deepEqual(words.slice(1, 7), ["pass", "--workers", "4", "--shard", "$(JOB_COMPLETION_INDEX)/3", "--"]);
  assert.deepEqual(words.filter((w) => w === "--").length, 2);
  assert.ok(words[7] === "score" && words[words.indexOf("--", 7) + 1] === "filter", words.join(" "));
  assert.equal(score.spec.template.spec.containers[0].resources.requests.cpu, "4");
  const clusters = JSON.parse(readFileSync(join(launch, jobs.find((f) => f.endsWith("-dedup-clusters.yaml"))!), "utf8"));
  assert.equal(clusters.spec.completions, 1);
  assert.equal(clusters.spec.template.spec.containers[0].resources.requests.cpu, "1", "a single-threaded step asks for one CPU");
  const cm = JSON.parse(readFileSync(join(launch, "00-plan.yaml"), "utf8"));
  new ConfigMap(cm).validate();
  const plan = JSON.parse(cm.data["plan.json"]);
  assert.ok(plan.plan.every((s: { outDir: string }) => s.outDir.startsWith(`${mount}/build/`)));
  const mixSources = plan.plan.find((s: { step: string }) => s.step === "mix-stable").options.source as string[];
  assert.ok(mixSources.slice(1).every((v) => v.includes(`=${mount}/demo/sources/`)), mixSources.join(" "));
  assert.deepEqual(plan.plan[0].options.input, [`${mount}/demo/megamath-web-*.parquet`]);
  // apply.sh: valid bash; mixtures wait for tokenize only (so they run side by side), the report for the mixtures.
  const apply = readFileSync(join(launch, "apply.sh"), "utf8");
  execFileSync("bash", ["-n", join(launch, "apply.sh")]);
  assert.match(apply, /\[mix-stable\]=decontaminate\+tokenize[ )]/);
  assert.match(apply, /\[report\]=mix-stable[ )]/);
  assert.doesNotMatch(apply, /--timeout=-1s/);
  assert.match(apply, /kubectl logs/);
});

test("k8s: a path off the volume is refused, naming it, and nothing is written", () => {
  const dir = tmpDir("megamath-k8s-refuse-");
  const launch = join(dir, "launch");
  // The demo recipe as shipped reads the checkout's fixtures: not on the volume.
  const r = megamath(["build", reducedRecipe(dir), "--emit", "k8s", "--output", `${mount}/build`, "--image", "megamath:dev",
    "--k8s-claim", "megamath-data", "--k8s-mount", mount, "--launch-dir", launch]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, new RegExp(`not on it: ${join(repoRoot, "fixtures", "demo").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/`));
  const out = megamath(["build", reducedRecipe(dir, `${mount}/demo`), "--input", `${mount}/demo/x.parquet`, "--emit", "k8s",
    "--output", join(dir, "local-out"), "--image", "megamath:dev", "--k8s-claim", "megamath-data", "--k8s-mount", mount, "--launch-dir", launch]);
  assert.equal(out.code, 2, out.err);
  assert.match(out.err, /local-out/);
  const noClaim = megamath(["build", reducedRecipe(dir, `${mount}/demo`), "--input", `${mount}/demo/x.parquet`, "--emit", "k8s",
    "--output", `${mount}/build`, "--image", "megamath:dev", "--k8s-mount", mount, "--launch-dir", launch]);
  assert.equal(noClaim.code, 2, noClaim.err);
  assert.match(noClaim.err, /--k8s-claim/);
  assert.ok(!existsSync(launch) && !existsSync(mount) && !existsSync(join(dir, "local-out")), "a refused emit wrote files");
});

test("the Dockerfile the manifests' image is built from: Node 22 or later, megamath installed from this checkout", () => {
  const text = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
  const bases = [...text.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
  assert.ok(bases.length > 0 && bases.every((v) => v >= 22), `base images: node ${bases.join(", ")}`);
  assert.match(text, /^COPY \. \.$/m);
  assert.match(text, /npm install --global .*megamath\.tgz/);
  // What `npm pack` puts in the image holds what the tasks run: the CLI and the demo recipe's files.
  const files = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }))[0].files.map((f: { path: string }) => f.path);
  const demo = relative(repoRoot, demoRecipePath());
  for (const f of ["bin/megamath.js", demo, "fixtures/demo/megamath-web-00000.parquet"]) assert.ok(files.includes(f), `npm pack leaves out ${f}`);
});

test("apply.sh: stops at the first failed Job with its pods' logs; run again, keeps the completed Jobs and finishes", () => {
  const dir = tmpDir("megamath-k8s-apply-");
  const launch = join(dir, "launch");
  const r = megamath(["build", reducedRecipe(dir), "--emit", "k8s", "--shards", "2", "--path-map", `${join(repoRoot, "fixtures", "demo")}=${mount}/demo`,
    "--output", `${mount}/build`, "--image", "megamath:dev", "--k8s-claim", "megamath-data", "--k8s-mount", mount, "--launch-dir", launch]);
  assert.equal(r.code, 0, r.err);
  // kubectl is the scripted stand-in (no cluster here): Jobs complete when applied, except those listed in "fail".
  const bin = join(dir, "bin");
  const state = join(dir, "api");
  mkdirSync(bin);
  mkdirSync(state);
  symlinkSync(join(repoRoot, "test", "cluster", "kubectl-standin.sh"), join(bin, "kubectl"));
  const score = JSON.parse(readFileSync(join(launch, readdirSync(launch).find((f) => f.endsWith("-score+filter.yaml"))!), "utf8")).metadata.name;
  writeFileSync(join(state, "fail"), `${score}\n`);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECTL_STANDIN: state, POLL: "0" };
  const first = spawnSync("bash", [join(launch, "apply.sh")], { env, encoding: "utf8" });
  assert.equal(first.status, 1, first.stdout + first.stderr);
  assert.match(first.stdout, /sample: started[\s\S]*train-classifier: started[\s\S]*score\+filter: started/);
  assert.match(first.stderr, new RegExp(`job ${score} \\(step score\\+filter\\) failed; logs of its failed pods:\\n----- pod/${score}-1-x7k2p\\nerror: shard 1`));
  assert.doesNotMatch(first.stdout, /dedup-signatures: started/, "a step after the failed one was started");
  const calls = readFileSync(join(state, "calls.log"), "utf8");
  assert.match(calls, /^apply -f 00-plan\.yaml$/m);
  // Fixed: the second run keeps what completed with the same manifest and runs the rest.
  writeFileSync(join(state, "fail"), "");
  const second = spawnSync("bash", [join(launch, "apply.sh")], { env, encoding: "utf8" });
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /sample: completed before with the same manifest, kept/);
  assert.match(second.stdout, /score\+filter: started[\s\S]*report: started[\s\S]*every step completed/);
  assert.doesNotMatch(second.stdout, /sample: started/);
});
