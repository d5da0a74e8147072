// Every command README.md shows is run here, so the README cannot drift from the code. The commands are found in
// the README at run time (fenced bash and ts blocks, and inline `megamath ...` code spans), in README order, in one
// sandbox folder, so later commands see what earlier ones wrote (`megamath-out/` of the quick start). What cannot
// run here takes its nearest runnable form: GPUs and clusters are replaced by `--dry-run` (train) or the emitted
// scripts (build --emit), the LLM server by test/llm/server.ts on a loopback port. A command that is knowingly
// not run is listed in NOT_RUN with the reason; a command added to the README is run without anyone telling this
// test, and fails it if it does not work.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../cli/main.js";
import { repoRoot, tmpDir } from "../helpers.js";
import { startServer, type ScriptedServer } from "../llm/server.js";
import { commandsOf, inlineCommands, fencedBlocks } from "./markdown.js";

/** Commands shown but not run, by their exact text, with the reason. */
const NOT_RUN: Record<string, string> = {
  "npm install": "installs this checkout's dependencies: the test runs inside that installation",
  "npm test": "the test suite itself",
  "vllm serve meta-llama/Llama-3.1-70B-Instruct --tensor-parallel-size 4 --port 8000":
    "needs GPUs and vLLM; the annotate and refine commands run against the test server on that port's URL instead",
  "megamath extract -i 'CC-MAIN-*.warc.gz' -o DIR [--blocklist DIR] [--curated FILE] [--whitelist FILE] [--banned-words FILE] [--soft-banned-words FILE] [--banned-subwords FILE] [--dump CC-MAIN-YYYY-WW]":
    "a usage synopsis ([optional] flags, placeholders); its flags are checked against --help, and test/extract runs the command on real WARC files",
  "megamath train megamath-out/mix-stable -o runs/stable-1b --preset 1b":
    "the quick start's demo mixture (1M tokens) is less than one step of the 1b preset (512 x 8192 tokens), so even " +
    "--dry-run refuses it; test/trainer/cli.test.ts runs train --dry-run and the tiny preset on a demo mixture",
  "megamath mix --dry-run": "a flag named in prose (a mix needs --spec); its flags are checked against --help",
  "megamath tokenize --shard i/N": "a flag named in prose (tokenize needs -i/-o); its flags are checked against --help",
  "megamath plan-cost -i GLOB --step annotate|refine --tokens-per-sec N [--prompt-tokens-per-sec N]":
    "a usage synopsis (alternatives, [optional] flags); its flags are checked against --help, and test/recipe-numbers/cost-plan.test.ts runs the command",
  "megamath dedup --clustering bucket --seeds T": "flags named in prose (dedup needs -i/-o; T is a count); its flags are checked against --help, and test/dedup/bucket.test.ts runs multi-seed dedup",
  "megamath mix --source-template NAME=TEMPLATE": "a flag named in prose (a mix needs --preset or --spec); its flags are checked against --help, and test/recipe-numbers/layouts.test.ts runs it",
  "megamath-out/launch/slurm/submit.sh": "needs a Slurm cluster; test/cluster/slurm.test.ts starts one on localhost and runs submit.sh (twice, with a cancelled task between)",
  "docker build -t registry.example.com/megamath:0.1.0 .": "needs a Docker daemon and network; test/cluster/k8s.test.ts checks the Dockerfile and what npm pack puts in the image",
  "docker push registry.example.com/megamath:0.1.0": "needs a registry",
  "kubectl cp fixtures/demo megamath-shell:/data/demo": "needs a Kubernetes cluster",
  "megamath build --emit k8s --shards 8 --image registry.example.com/megamath:0.1.0 --k8s-claim megamath-data --k8s-mount /data --k8s-cpus 4 --path-map fixtures/demo=/data/demo --output /data/megamath-out --launch-dir megamath-k8s":
    "run from a checkout (fixtures/demo); test/cluster/k8s.test.ts runs this emit with --path-map onto a volume path and validates the manifests against the Kubernetes API schemas",
  "megamath-k8s/apply.sh": "needs a Kubernetes cluster",
};

/** Placeholders in the README's commands and what stands in for them here (relative to the sandbox). */
function substitute(word: string, command: string, llmUrl: string): string {
  if (word === "http://127.0.0.1:8000/v1" || word === "URL") return llmUrl;
  if (word === "NAME") return "test-model";
  if (word === "FILE") return "data/megamath-web-00000.parquet";
  // a step's folder: one with completion markers for stats, the tokenize step's shards for tokenize and inspect
  if (word === "DIR") {
    if (command === "stats") return "megamath-out/score";
    // card and report take a build folder (plan.json), not a step's.
    if (command === "card" || command === "report") return "megamath-out";
    return "megamath-out/tokenize";
  }
  return word;
}

const sandbox = tmpDir("megamath-readme-");
const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
let srv: ScriptedServer | undefined;
after(() => srv?.close());

/** A stand-in for the LLM: FineMath scores from how mathematical the text looks (so the demo's classifier has
 * two classes to learn), and refinements that keep most of the document. */
function llmServer(): Promise<ScriptedServer> {
  return startServer((r) => {
    if (r.prompt.startsWith("Task:")) return { answer: r.doc.slice(0, Math.ceil(r.doc.length * 0.8)) };
    const marks = (r.doc.match(/[=$\\^]|\d/g) ?? []).length / Math.max(1, r.doc.length);
    return { answer: `Looks ${marks > 0.02 ? "mathematical" : "like prose"}.\nFinal score: ${marks > 0.02 ? 4 : 1}` };
  }, { record: false });
}

/** The CLI's --help, in this process (cheap: no start-up of its own). */
async function helpOf(command: string): Promise<{ code: number; output: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let output = "";
  process.stdout.write = ((chunk: unknown) => {
    output += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main([command, "--help"]), output };
  } finally {
    process.stdout.write = write;
  }
}

/** Run the CLI as a user does: its own process, the sandbox as working folder (asynchronously, so the LLM test
 * server in this process can answer it). */
function megamath(args: string[]): Promise<{ code: number | null; output: string }> {
  return run(process.execPath, ["--import", import.meta.resolve("tsx"), join(repoRoot, "cli", "main.ts"), ...args], sandbox);
}

/** Each `--flag` of a README command must be one its command's --help lists. */
async function assertFlagsExist(words: string[], where: string): Promise<void> {
  const help = await helpOf(words[0]);
  assert.equal(help.code, 0, `${where}: megamath ${words[0]} --help failed:\n${help.output}`);
  for (const w of words.slice(1)) {
    const flag = /^\[?(--[a-z0-9-]+)/.exec(w)?.[1];
    if (flag) assert.ok(help.output.includes(flag), `${where}: megamath ${words[0]} has no ${flag} (its --help does not list it)`);
  }
}

test("every command in README.md runs (or is listed in NOT_RUN with a reason)", async (t) => {
  for (const f of ["megamath-web-00000.parquet", "megamath-web-00001.parquet"]) {
    mkdirSync(join(sandbox, "data"), { recursive: true });
    symlinkSync(join(repoRoot, "fixtures", "demo", f), join(sandbox, "data", f));
  }
  // The LLM commands read 'sample/*.parquet' and 'kept/*.parquet': a small real Parquet file in each.
  for (const d of ["sample", "kept"]) {
    mkdirSync(join(sandbox, d));
    symlinkSync(join(repoRoot, "fixtures", "demo", "sources", "megamath-translated-code.parquet"), join(sandbox, d, "part-0.parquet"));
  }
  srv = await llmServer();
  const env: Record<string, string | undefined> = {};
  const ran: string[] = [];
  const unused = new Set(Object.keys(NOT_RUN));

  const commands = [
    ...fencedBlocks(readme).flatMap((b) => (b.lang === "bash" ? commandsOf(b.body).map((c) => ({ ...c, line: b.line + c.line })) : [])),
    ...inlineCommands(readme),
  ].sort((a, b) => a.line - b.line);
  assert.ok(commands.length >= 8, `only ${commands.length} commands found in README.md: did the extraction break?`);

  for (const { text, words, line, inline } of commands) {
    const where = `README.md:${line}: ${text}`;
    if (NOT_RUN[text] !== undefined) {
      unused.delete(text);
      if (words[0] === "megamath") await assertFlagsExist(words.slice(1), where);
      continue;
    }
    if (words[0] === "export" && words.length === 2 && words[1].includes("=")) {
      const [k, v] = words[1].split(/=(.*)/s);
      env[k] = process.env[k];
      process.env[k] = v;
      continue;
    }
    const cli = words[0] === "npx" ? words.slice(1) : words;
    assert.equal(cli[0], "megamath", `${where}: not a megamath command; run it here or add it to NOT_RUN with the reason`);
    let args = cli.slice(1).map((w) => substitute(w, cli[1], srv!.url));
    if (inline && args.length === 1) {
      // A command named in prose (`megamath dedup`): it exists and has help.
      await assertFlagsExist(args, where);
      continue;
    }
    await assertFlagsExist(args, where);
    // No GPU here: training shows its plan instead of running.
    if (args[0] === "train" && !args.includes("--dry-run")) args = [...args, "--dry-run"];
    const r = await megamath([...args, "--quiet"]);
    assert.equal(r.code, 0, `${where} exited ${r.code}:\n${r.output}`);
    ran.push(text);
  }
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  assert.deepEqual([...unused], [], "NOT_RUN lists commands the README no longer shows: remove them");
  // What the quick start promised is there, and what the later commands made.
  for (const p of ["megamath-out/report.html", "megamath-out/report.json", "megamath-out/mix-stable", "annotated", "refined"]) {
    assert.ok(existsSync(join(sandbox, p)), `${p} was not written`);
  }
  t.diagnostic(`ran: ${ran.join("; ")}`);
});

test("the library example in README.md runs against the demo corpus", async () => {
  const blocks = fencedBlocks(readme).filter((b) => b.lang === "ts");
  assert.ok(blocks.length >= 1, "no ts block in README.md");
  for (const [i, b] of blocks.entries()) {
    const dir = tmpDir("megamath-readme-ts-");
    mkdirSync(join(dir, "data"));
    for (const f of ["megamath-web-00000.parquet", "megamath-web-00001.parquet"]) {
      symlinkSync(join(repoRoot, "fixtures", "demo", f), join(dir, "data", f));
    }
    // Examples may load the shipped recipes by their path in the package (pipelines/pro-max-demo.json), whose demo
    // inputs are package paths too.
    symlinkSync(join(repoRoot, "pipelines"), join(dir, "pipelines"));
    symlinkSync(join(repoRoot, "fixtures"), join(dir, "fixtures"));
    // `from "megamath"` is the package's own entry: this checkout's index.ts.
    const file = join(dir, `example-${i}.mts`); // an ES module, as in a "type": "module" package
    writeFileSync(file, b.body.replace(/from "megamath"/g, `from ${JSON.stringify(join(repoRoot, "index.ts"))}`));
    const r = await run(process.execPath, ["--import", import.meta.resolve("tsx"), file], dir);
    assert.equal(r.code, 0, `README.md:${b.line}: the ts block failed:\n${r.output}`);
    assert.ok(existsSync(join(dir, "out")), `README.md:${b.line}: the example wrote no out/ folder`);
  }
});

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    p.stdout.on("data", (d) => (output += d));
    p.stderr.on("data", (d) => (output += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, output }));
  });
}
