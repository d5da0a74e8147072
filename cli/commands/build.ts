import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { defineCommand, UsageError } from "../command.js";
import { loadRecipe, planRecipe } from "../../recipe/load.js";
import { finalFolder, type StepOptions } from "../../recipe/plan.js";
import { runPlanLocally } from "../../recipe/run.js";
import { emit, mapPlanPaths, pathMover, type EmitTarget } from "../../recipe/emit.js";
import { slurmStatus, slurmSubmit, statusLines } from "../../recipe/cluster-slurm.js";
import { writeReport } from "../../recipe/report/folder.js";
import { writeCards } from "../../recipe/card/folder.js";
import { writePlanFile } from "../../recipe/plan-file.js";
import { DEFAULT_RECIPE, SHIPPED_RECIPES, recipeFile, usesSources, bindSources, parseOverride, applyOverrides, unmetDependencies } from "../../recipe/settings.js";
import { planText } from "../../recipe/plan-text.js";


export default defineCommand({
  name: "build",
  usage: "build [--recipe NAME|FILE] [--input GLOB] [--output DIR] [--llm URL --model NAME] [--sources DIR] [--set STEP.OPTION=V] [--plan] [--train] [--emit slurm|k8s|local --shards N] | --status DIR | --submit DIR",
  positionals: 1,
  details: [
    `Shipped recipes (--recipe NAME): ${Object.entries(SHIPPED_RECIPES).map(([k, v]) => `${k}: ${v}`).join("; ")}.`,
    `With no recipe, runs ${DEFAULT_RECIPE} (pipelines/${DEFAULT_RECIPE}.json) on the bundled demo corpus (fixtures/demo). With --input`,
    "and no --recipe, it runs that demo recipe, at demo sizes (120 documents per year, a small fastText model, 1M-token",
    "mixtures of stand-in sources), on your files; give --recipe pro-max for the paper's sizes and the released datasets.",
    "Without --llm, annotation and refinement cannot run: the demo classifier learns from the fixture's `label` column",
    "and refinement is skipped; the report says so. A rerun redoes only the tasks whose inputs or settings changed",
    "(each task's marker holds the fingerprint of what it read), also over a folder the emitted --emit tasks filled.",
    "A finished build also writes Hugging Face dataset cards (README.md) into the final corpus and each mixture folder.",
    "--plan prints every step with its inputs, outputs, expected sizes, token budgets, the LLM steps' cost and the",
    "differences from the paper, and runs nothing. --set STEP.OPTION=VALUE changes one option of one step (e.g.",
    "--set sample.per-year=1000 to try the paper's recipe small); each change is listed among the differences.",
    "--emit slurm writes a batch script per step and submit.sh (which runs `build --submit`: safe to rerun, it submits",
    "what is not done); `build --status DIR` says which step/shard is done, running, pending, failed or blocked.",
  ].join("\n"),
  options: {
    recipe: { type: "string", placeholder: "NAME|FILE", description: `A shipped recipe (${Object.keys(SHIPPED_RECIPES).join(", ")}) or a recipe file (default: ${DEFAULT_RECIPE}).` },
    plan: { type: "boolean", description: "Print the plan (steps, sizes, budgets, LLM cost, differences from the paper) and run nothing." },
    sources: { type: "string", placeholder: "DIR", description: "Folder of the mixtures' other datasets, each at DIR/OWNER/NAME as downloaded from the Hub (the recipe's ${sources})." },
    set: { type: "list", placeholder: "STEP.OPTION=V", description: "Change one option of one step (repeatable); recorded among the differences from the paper." },
    "tokens-per-sec": { type: "number", placeholder: "N", description: "--plan: generated tokens per second per GPU of the LLM server, for GPU-hours." },
    "prompt-tokens-per-sec": { type: "number", placeholder: "N", description: "--plan: prompt (prefill) tokens per second per GPU." },
    output: { type: "string", short: "o", placeholder: "DIR", default: "megamath-out", description: "Build folder (one subfolder per step, report.html, report.json)." },
    input: { type: "list", short: "i", placeholder: "GLOB", description: "Override the recipe's inputs." },
    llm: { type: "string", placeholder: "URL", description: "OpenAI-compatible server base URL (e.g. http://127.0.0.1:8000/v1) for annotation and refinement." },
    model: { type: "string", placeholder: "NAME", description: "Model name on the LLM server." },
    "api-key-env": { type: "string", placeholder: "VAR", description: "Environment variable holding the LLM API key." },
    train: { type: "boolean", description: "Also run the training step(s) of the recipe." },
    emit: { type: "string", choices: ["slurm", "k8s", "local"], description: "Write cluster launch scripts instead of running." },
    shards: { type: "integer", default: 4, description: "Shard tasks per step for --emit." },
    launcher: { type: "string", placeholder: "CMD", description: "How emitted tasks call megamath. Default for slurm/local: `node <this installation>/bin/megamath.js` (the cluster must see the same path, e.g. a shared file system); for k8s: `megamath` on the image's PATH." },
    image: { type: "string", placeholder: "IMAGE", description: "Container image of the emitted Kubernetes Jobs, with megamath installed (required with --emit k8s)." },
    "k8s-claim": { type: "string", placeholder: "PVC", description: "PersistentVolumeClaim (ReadWriteMany) every emitted Job mounts; inputs and --output must live on it." },
    "k8s-mount": { type: "string", default: "/data", placeholder: "PATH", description: "Where the Jobs mount --k8s-claim." },
    "k8s-cpus": { type: "integer", placeholder: "N", description: "CPUs each task of a step with worker threads requests (and its --workers); others request 1 (default 1)." },
    "path-map": { type: "list", placeholder: "LOCAL=REMOTE", description: "--emit: files under LOCAL (as this machine sees them) are at REMOTE in the tasks (e.g. the checkout's fixtures/demo copied onto a Kubernetes volume). Repeatable." },
    "launch-dir": { type: "string", placeholder: "DIR", description: "Where --emit writes its files (default: <output>/launch/<target> for slurm/local; ./megamath-k8s for k8s, whose --output is a path in the pods)." },
    "slurm-partition": { type: "string", placeholder: "NAME", description: "--emit slurm: the partition every job asks for (default: the site's)." },
    "slurm-account": { type: "string", placeholder: "NAME", description: "--emit slurm: the account jobs are charged to." },
    "slurm-time": { type: "string", placeholder: "LIMIT", description: "--emit slurm: time limit of each task (e.g. 4:00:00)." },
    "slurm-mem": { type: "string", placeholder: "SIZE", description: "--emit slurm: memory of each task (e.g. 8G)." },
    "slurm-cpus": { type: "integer", placeholder: "N", description: "--emit slurm: CPUs per task of the steps with worker threads (they get as many workers); the others ask for 1." },
    "slurm-opt": { type: "list", placeholder: "OPT", description: "--emit slurm: a raw #SBATCH option for every step (--qos=high) or for one step, STEP:OPT (dedup-clusters:--mem=64G; a prefix, dedup:, names every dedup-* step). Repeatable; write a comma inside one option as \\,." },
    status: { type: "string", placeholder: "DIR", description: "Say which task of an emitted Slurm build (its build or launch folder) is done, running, pending, failed (with its log) or blocked." },
    submit: { type: "string", placeholder: "DIR", description: "Submit what is not done of an emitted Slurm build (what submit.sh runs); with --force, every task." },
    seed: { type: "integer", description: "Seed for every step (default: the recipe's)." },
    workers: { type: "integer", description: "Worker threads per step (0: none, all on the main thread; default: one per core).", identity: false },
    jobs: { type: "integer", default: 2, description: "Steps that do not depend on each other (e.g. the mixtures) run at once, at most this many (1: one after another).", identity: false },
    force: { type: "boolean", description: "Recompute every step." },
    "no-fuse": { type: "boolean", description: "Run every step on its own, even consecutive per-document steps the recipe would run as one pass (same outputs; more reading and writing).", identity: false },
  },
  async run({ positionals, opts, ctx }) {
    if (positionals.length > 1) throw new UsageError("usage: megamath build [--recipe NAME|FILE] (one recipe)");
    if (opts.status) {
      ctx.stdout.write(statusLines(await slurmStatus(opts.status)).join("\n") + "\n");
      return 0;
    }
    if (opts.submit) {
      await slurmSubmit(opts.submit, { all: Boolean(opts.force), print: (l) => ctx.stdout.write(l + "\n") });
      return 0;
    }
    if (positionals.length && opts.recipe) throw new UsageError("give the recipe once: --recipe NAME|FILE or a positional RECIPE.json");
    const given = opts.recipe ?? positionals[0];
    let recipePath: string;
    let recipe;
    try {
      recipePath = recipeFile(given ?? DEFAULT_RECIPE);
      recipe = await loadRecipe(recipePath);
      recipe = applyOverrides(recipe, (opts.set ?? []).map(parseOverride));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (opts.input) recipe.inputs = opts.input.map((p) => resolve(p));
    if (opts.input && !given) {
      ctx.log.warn(`no --recipe given: running the demo recipe ${DEFAULT_RECIPE} (demo sizes, stand-in mixture sources) on your --input; --recipe pro-max is the paper's`);
    }
    if (!recipe.inputs.length && !opts.plan) {
      throw new UsageError(`recipe "${recipe.name}" has no inputs: give --input GLOB (e.g. 'megamath-web/*/*.parquet', MegaMath-Web as released)`);
    }
    if (usesSources(recipe)) {
      if (opts.sources) recipe = bindSources(recipe, resolve(opts.sources));
      else if (opts.plan) recipe = bindSources(recipe, "<--sources DIR>");
      else throw new UsageError(`recipe "${recipe.name}" reads the mixtures' other datasets from --sources DIR (each dataset at DIR/OWNER/NAME, as \`huggingface-cli download OWNER/NAME --repo-type dataset --local-dir DIR/OWNER/NAME\` lays it out); see megamath build --recipe ${given ?? DEFAULT_RECIPE} --plan`);
    }
    if (Boolean(opts.llm) !== Boolean(opts.model)) throw new UsageError("--llm and --model go together");
    const outDir = resolve(opts.output);
    const common: StepOptions = {};
    if (opts.quiet) common.quiet = true;
    if (opts.workers !== undefined) common.workers = opts.workers;
    // Run here, the mixtures share their document sources (DCLM, instruction data, ...): tokenized once into one
    // folder, one mixture at a time per source (lib/mix/run.ts). Emitted mixtures may run at once in separate
    // processes (Slurm runs them side by side), which must not share a folder: each tokenizes its own.
    if (!opts.emit) common["source-cache"] = join(outDir, "mix-sources");
    const { plan, specs } = await planRecipe(recipe, {
      recipeDir: dirname(recipePath), outDir, seed: opts.seed ?? recipe.seed,
      llm: opts.llm && opts.model ? { url: opts.llm, model: opts.model, apiKeyEnv: opts["api-key-env"] } : undefined,
      train: Boolean(opts.train), common,
    });
    let planFile = { recipe: recipe.name, differences: recipe.differences_from_paper ?? {}, finalDir: finalFolder(recipe, plan), plan };
    const unmet = unmetDependencies(recipe, plan);
    if (opts.plan) {
      ctx.stdout.write(await planText(recipe, plan, { model: opts.model, tokensPerSec: opts["tokens-per-sec"], promptTokensPerSec: opts["prompt-tokens-per-sec"], warnings: unmet }));
      return 0;
    }
    if (unmet.length) throw new UsageError(unmet.join("\n"));
    if (opts["path-map"] && !opts.emit) throw new UsageError("--path-map goes with --emit (it moves the paths the emitted tasks name)");
    if (opts.emit) {
      // No public image or registry package holds megamath: the k8s Jobs run an image the user builds (Dockerfile).
      if (opts.emit === "k8s" && !opts.image) throw new UsageError("--emit k8s needs --image IMAGE: a container image with megamath installed (the repository's Dockerfile builds one: docker build -t IMAGE .)");
      let remoteOut = outDir; // the build folder as the tasks see it
      if (opts["path-map"]) {
        let move: (p: string) => string;
        try {
          move = pathMover(opts["path-map"]);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        planFile = { ...planFile, plan: mapPlanPaths(plan, move), finalDir: planFile.finalDir && move(planFile.finalDir) };
        remoteOut = move(outDir);
      }
      // k8s: --output is a path inside the pods (on the shared volume), so nothing is created under it here; the
      // plan travels in the manifests.
      const dir = resolve(opts["launch-dir"] ?? (opts.emit === "k8s" ? "megamath-k8s" : join(outDir, "launch", opts.emit)));
      if (opts.emit !== "k8s") {
        await mkdir(outDir, { recursive: true });
        await writePlanFile(outDir, planFile);
      }
      let files: string[];
      try {
        files = await emit(opts.emit, planFile.plan, dir, {
          shards: opts.shards, megamath: opts.launcher, specOf: (c) => specs.get(c) ?? {}, fuse: !opts["no-fuse"], finalDir: planFile.finalDir,
          image: opts.image, k8sClaim: opts["k8s-claim"], k8sMount: opts["k8s-mount"], k8sCpus: opts["k8s-cpus"], reportDir: remoteOut, planFile,
          slurm: { partition: opts["slurm-partition"], account: opts["slurm-account"], time: opts["slurm-time"], mem: opts["slurm-mem"],
            cpus: opts["slurm-cpus"], opts: opts["slurm-opt"] },
        });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const next = opts.emit === "slurm" ? `submit: ${join(dir, "submit.sh")}; progress: megamath build --status ${dir}`
        : opts.emit === "k8s" ? `run: ${join(dir, "apply.sh")}` : `run: ${join(dir, "run-local.sh")}`;
      ctx.stdout.write(`wrote ${files.length} file(s) to ${dir}:\n${files.map((f) => `  ${f}`).join("\n")}\n${next}\n`);
      return 0;
    }
    await mkdir(outDir, { recursive: true });
    await writePlanFile(outDir, planFile);
    ctx.log.info(`build "${recipe.name}" → ${outDir}`);
    if (!opts.llm) ctx.log.warn("no LLM server given: annotation and refinement will not run (see the report); pass --llm URL --model NAME to run them");
    const t0 = performance.now();
    // Read back from the folder, as `megamath report` does: the same report however the steps ran (a step done
    // before shows the time it took then).
    if (opts.jobs < 1) throw new UsageError("--jobs must be >= 1");
    await runPlanLocally(plan, ctx, { force: Boolean(opts.force), jobs: opts.jobs, fuse: !opts["no-fuse"], finalDir: planFile.finalDir });
    const report = await writeReport(outDir);
    // Hub dataset cards (README.md) for the finished corpus and every mixture, as `megamath card DIR` writes them. A
    // card that cannot be written (say, the final step was skipped) does not fail a finished build: it says why.
    let cards: string[] = [];
    try {
      cards = await writeCards(outDir, { report });
    } catch (e) {
      ctx.log.warn(`no dataset card written: ${(e as Error).message}`);
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const lines = [`build "${recipe.name}" finished in ${secs} s`];
    for (const s of report.steps) lines.push(`  ${s.step.padEnd(18)} ${s.status}${s.note ? ` — ${s.note}` : ""}`);
    if (report.finalCorpus) lines.push(`final corpus: ${report.finalCorpus.docs} documents in ${report.finalCorpus.folder}`);
    lines.push(`report: ${join(outDir, "report.html")}`);
    for (const c of cards) lines.push(`card: ${resolve(c)}`);
    ctx.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
});

