// Turn a recipe into typed step objects: inputs resolved to paths, ${STEP} references to folders, conditional steps
// replaced by their fallbacks or marked skipped with the reason. A planned step holds option values as its command
// declares them (what a --config file would hold), never argv: `megamath build` hands them to the command in-process
// (run.ts) and only the cluster emitter (emit.ts) renders them as command lines.
import { resolve, dirname, join, isAbsolute } from "node:path";
import type { Recipe, RecipeStep, ShardMode } from "./types.js";

/** One option value, typed as the command declares it. */
export type OptionValue = string | number | boolean | string[];
export type StepOptions = Record<string, OptionValue>;

export interface BuildSettings {
  /** Where the recipe file lives (relative inputs resolve against it). */
  recipeDir: string;
  outDir: string;
  /** OpenAI-compatible server for the LLM steps; absent = those steps use their fallback or are skipped. */
  llm?: { url: string; model: string; apiKeyEnv?: string };
  train?: boolean;
  seed?: number;
  /** Options for every step that accepts them and that do not change its output, e.g. { quiet: true, workers: 2 }. */
  common?: StepOptions;
  /** How `command` declares option `name` (undefined: it does not take it); see planRecipe in ./load.ts. Whether an
   * option is part of a step's identity is read from here (`identity: false`). */
  optionSpec: (command: string, option: string) => { identity?: false } | undefined;
}

/** One planned step. The name Invocation is kept for the library's callers. */
export interface Invocation {
  step: string;
  command: string;
  /** Option values that decide what the step computes (its identity for resume), without shard. */
  options: StepOptions;
  /** Options that change how it runs but not what it computes (quiet, workers, the LLM server's address). */
  runOptions: StepOptions;
  /** Positional arguments (e.g. the mixture folder of `train`). */
  positionals: string[];
  shard: ShardMode;
  outDir: string;
  about?: string;
  /** Set when the step does not run, with the reason. */
  skipped?: string;
  /** Set when a fallback replaced the step, with its note. */
  substituted?: string;
  /** Folder holding this step's documents: its own, or (when skipped) its input's. */
  effectiveDir?: string;
  /** Write the documents even when fused with a later step (recipe keepIntermediate / step keep). */
  keep?: true;
  /** Never run fused with a neighbour (recipe or step "fuse": false). */
  noFuse?: true;
  /** The bounds the step's command enforces on what it keeps (lib/runtime/expect.ts), from its allow-empty and
   * min-kept-share options; absent for a command that keeps no documents (train-classifier, mix, ...). */
  expect?: { allowEmpty: boolean; minKeptShare?: number };
}

/** Option names the LLM steps take for the server (see cli/options/llm.ts). Only steps whose command declares them
 * get them: an `llm` step such as train-classifier (which learns from the annotations) takes no server. */
export const LLM_FLAGS = { url: "base-url", model: "model", apiKeyEnv: "api-key-env" } as const;

export function planBuild(recipe: Recipe, s: BuildSettings): Invocation[] {
  const stepDir = (name: string) => join(s.outDir, name);
  // Each step's "effective output": its own folder, or (when skipped) whatever its input was.
  const effective = new Map<string, string[]>();
  const inputs = recipe.inputs.map((g) => (isAbsolute(g) ? g : resolve(s.recipeDir, g)));
  const resolveInput = (ref: string): string[] => (ref === "@input" ? inputs : effective.get(ref.slice(1))!);
  const out: Invocation[] = [];
  for (const step of recipe.steps) {
    const active = step.when === undefined || step.when === "always" || (step.when === "llm" ? Boolean(s.llm) : Boolean(s.train));
    let use: Pick<RecipeStep, "command" | "input" | "options" | "args" | "shard" | "output"> | null = step;
    let substituted: string | undefined;
    let skipped: string | undefined;
    if (!active) {
      if (step.otherwise) {
        use = step.otherwise;
        substituted = step.otherwise.note;
      } else {
        use = null;
        skipped = step.when === "llm" ? "no LLM server given (--llm URL --model NAME)" : "training not requested (--train)";
      }
    }
    if (!use) {
      const passThrough = step.input ? resolveInput(step.input) : [];
      effective.set(step.name, passThrough);
      out.push({ step: step.name, command: step.command, options: {}, runOptions: {}, positionals: [], shard: "none",
        outDir: stepDir(step.name), about: step.about, skipped, effectiveDir: passThrough.length ? dirname(passThrough[0]) : undefined });
      continue;
    }
    const folder = (name: string) => folderOf(name, effective, s.recipeDir);
    const positionals = (use.args ?? []).map((a) => substituteRefs(a, folder));
    const given: StepOptions = {};
    // Paths travel as list items, so a comma in a folder name needs no escaping here (emit.ts escapes when it
    // writes a command line).
    if (use.input) given.input = [...resolveInput(use.input)];
    if (use.output !== false) given.output = stepDir(step.name);
    for (const [k, v] of Object.entries(use.options ?? {})) {
      const value = substituteValue(v, folder);
      if (value !== undefined) given[k] = value;
    }
    const takes = (k: string) => s.optionSpec(use.command, k) !== undefined;
    if (s.seed !== undefined && !("seed" in given) && takes("seed")) given.seed = s.seed;
    for (const [k, v] of Object.entries(s.common ?? {})) if (!(k in given) && takes(k)) given[k] = v;
    // The server settings go only to the commands that talk to the server (annotate, refine): an llm-conditional
    // step such as train-classifier only reads their output. The model changes the answers (identity); where the
    // server lives and which variable holds the key do not (declared identity: false), so a moved server resumes.
    if (active && step.when === "llm" && s.llm && takes(LLM_FLAGS.url)) {
      given[LLM_FLAGS.url] = s.llm.url;
      given[LLM_FLAGS.model] = s.llm.model;
      if (s.llm.apiKeyEnv) given[LLM_FLAGS.apiKeyEnv] = s.llm.apiKeyEnv;
    }
    // What the command declares `identity: false` (threads, the server's address) changes how the step runs, not
    // what it computes: it is left out of the step's identity. Its input and output folders stay in: a step that
    // reads other files must run again (per-file markers leave paths to the folder they sit in).
    const options: StepOptions = {};
    const runOptions: StepOptions = {};
    for (const [k, v] of Object.entries(given)) {
      const runOnly = s.optionSpec(use.command, k)?.identity === false && k !== "input" && k !== "output";
      (runOnly ? runOptions : options)[k] = v;
    }
    effective.set(step.name, [join(stepDir(step.name), "*.parquet")]);
    // A command that takes --allow-empty checks the bounds (non-empty output unless allowed, min-kept-share): the
    // plan says which, so the report shows every bound however the step ran.
    const minKept = given["min-kept-share"];
    const expect = takes("allow-empty")
      ? { allowEmpty: given["allow-empty"] === true, ...(typeof minKept === "number" ? { minKeptShare: minKept } : {}) }
      : undefined;
    out.push({ step: step.name, command: use.command, options, runOptions, positionals, shard: use.shard ?? "none",
      outDir: stepDir(step.name), about: step.about, substituted, effectiveDir: stepDir(step.name), ...(expect ? { expect } : {}),
      ...(step.keep ?? recipe.keepIntermediate ? { keep: true as const } : {}),
      ...(step.fuse === false || recipe.fuse === false ? { noFuse: true as const } : {}) });
  }
  // The final corpus is always written, even when its step runs fused with a later one (recipe/fuse.ts).
  const fin = recipe.final ? out.find((p) => p.step === recipe.final)?.effectiveDir : undefined;
  for (const p of out) if (fin && !p.skipped && p.outDir === fin) p.keep = true;
  return out;
}

/** ${STEP} is that step's documents folder; ${recipe-dir} is the folder of the recipe file. */
function folderOf(name: string, effective: Map<string, string[]>, recipeDir: string): string {
  if (name === "recipe-dir") return recipeDir;
  const e = effective.get(name);
  if (!e) throw new Error(`option references \${${name}}, which is not an earlier step`);
  return dirname(e[0]);
}

/** A recipe option value with ${STEP} references replaced; null/undefined (unset) gives undefined. */
function substituteValue(v: unknown, folder: (step: string) => string): OptionValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.map((x) => substituteRefs(String(x), folder));
  if (typeof v === "string") return substituteRefs(v, folder);
  return v as number | boolean;
}

/** Replace ${STEP} references by folders. */
export function substituteRefs(v: string, folder: (step: string) => string): string {
  return v.replace(/\$\{([a-z0-9-]+)\}/g, (_, n) => folder(n));
}

/** The final corpus folder of a plan (the `final` step's documents, or what it passed through if skipped). */
export function finalFolder(recipe: Recipe, plan: Invocation[]): string | undefined {
  return recipe.final ? plan.find((p) => p.step === recipe.final)?.effectiveDir : undefined;
}
