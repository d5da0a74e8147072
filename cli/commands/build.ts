import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { packagePath } from "../../lib/paths.js";
import { defineCommand, UsageError } from "../command.js";
import { loadRecipe, planRecipe } from "../../pipelines/recipe/load.js";
import { finalFolder, type StepOptions } from "../../pipelines/recipe/plan.js";
import { runPlanLocally } from "../../pipelines/recipe/run.js";
import { emit, type EmitTarget } from "../../pipelines/recipe/emit.js";
import { writeReport } from "../../pipelines/report/folder.js";
import { writePlanFile } from "../../pipelines/recipe/plan-file.js";


export default defineCommand({
  name: "build",
  usage: "build [RECIPE.json] [--output DIR] [--llm URL --model NAME] [--train] [--emit slurm|k8s|local --shards N]",
  positionals: 1,
  details: [
    "With no recipe, runs the shipped demo Pro-Max recipe (pipelines/pro-max-demo.json) on the bundled demo corpus (fixtures/demo).",
    "Without --llm, annotation and refinement cannot run: the demo classifier learns from the fixture's `label` column",
    "and refinement is skipped; the report says so. Steps already completed with the same arguments are skipped.",
  ].join("\n"),
  options: {
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
    seed: { type: "integer", description: "Seed for every step (default: the recipe's)." },
    workers: { type: "integer", description: "Worker threads per step (0: none, all on the main thread; default: one per core).", identity: false },
    force: { type: "boolean", description: "Recompute every step." },
  },
  async run({ positionals, opts, ctx }) {
    if (positionals.length > 1) throw new UsageError("usage: megamath build [RECIPE.json]");
    const recipePath = resolve(positionals[0] ?? packagePath("pipelines", "pro-max-demo.json"));
    let recipe;
    try {
      recipe = await loadRecipe(recipePath);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (opts.input) recipe.inputs = opts.input.map((p) => resolve(p));
    if (Boolean(opts.llm) !== Boolean(opts.model)) throw new UsageError("--llm and --model go together");
    const outDir = resolve(opts.output);
    const common: StepOptions = {};
    if (opts.quiet) common.quiet = true;
    if (opts.workers !== undefined) common.workers = opts.workers;
    const { plan, specs } = await planRecipe(recipe, {
      recipeDir: dirname(recipePath), outDir, seed: opts.seed ?? recipe.seed,
      llm: opts.llm && opts.model ? { url: opts.llm, model: opts.model, apiKeyEnv: opts["api-key-env"] } : undefined,
      train: Boolean(opts.train), common,
    });
    const planFile = { recipe: recipe.name, differences: recipe.differences_from_paper ?? {}, finalDir: finalFolder(recipe, plan), plan };
    if (opts.emit) {
      // No public image or registry package holds megamath, so the defaults point at what surely exists: this very
      // installation (a shared file system) for slurm/local, and an image the user names for k8s.
      if (opts.emit === "k8s" && !opts.image) throw new UsageError("--emit k8s needs --image IMAGE: a container image with megamath installed (e.g. built FROM node:22 with `npm install -g` of this package)");
      const dir = join(outDir, "launch", opts.emit);
      await mkdir(outDir, { recursive: true });
      await writePlanFile(outDir, planFile);
      const files = await emit(opts.emit, plan, dir, {
        shards: opts.shards, megamath: opts.launcher, specOf: (c) => specs.get(c) ?? {},
        image: opts.image, k8sClaim: opts["k8s-claim"], k8sMount: opts["k8s-mount"], reportDir: outDir,
      });
      ctx.stdout.write(`wrote ${files.length} file(s) to ${dir}:\n${files.map((f) => `  ${f}`).join("\n")}\n`);
      return 0;
    }
    await mkdir(outDir, { recursive: true });
    await writePlanFile(outDir, planFile);
    ctx.log.info(`build "${recipe.name}" → ${outDir}`);
    if (!opts.llm) ctx.log.warn("no LLM server given: annotation and refinement will not run (see the report); pass --llm URL --model NAME to run them");
    const t0 = performance.now();
    // Read back from the folder, as `megamath report` does: the same report however the steps ran (a step done
    // before shows the time it took then).
    await runPlanLocally(plan, ctx, { force: Boolean(opts.force) });
    const report = await writeReport(outDir);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const lines = [`build "${recipe.name}" finished in ${secs} s`];
    for (const s of report.steps) lines.push(`  ${s.step.padEnd(18)} ${s.status}${s.note ? ` — ${s.note}` : ""}`);
    if (report.finalCorpus) lines.push(`final corpus: ${report.finalCorpus.docs} documents in ${report.finalCorpus.folder}`);
    lines.push(`report: ${join(outDir, "report.html")}`);
    ctx.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
});

