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
  /** Does `command` take option `name`? (from the command's declaration; see stepAccepts in ./steps.ts) */
  accepts: (command: string, option: string) => boolean;
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
}

/** Option names the LLM steps take for the server (see cli/options/llm.ts). Only steps whose command declares them
 * get them: an `llm` step such as train-classifier (which learns from the annotations) takes no server. The model
 * decides the answers, so it is part of the identity; the address and the key's variable are not. */
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
    const options: StepOptions = {};
    // Paths travel as list items, so a comma in a folder name needs no escaping here (emit.ts escapes when it
    // writes a command line).
    if (use.input) options.input = [...resolveInput(use.input)];
    if (use.output !== false) options.output = stepDir(step.name);
    for (const [k, v] of Object.entries(use.options ?? {})) {
      const value = substituteValue(v, folder);
      if (value !== undefined) options[k] = value;
    }
    if (s.seed !== undefined && !("seed" in options) && s.accepts(use.command, "seed")) options.seed = s.seed;
    const runOptions: StepOptions = {};
    for (const [k, v] of Object.entries(s.common ?? {})) {
      if (!(k in (use.options ?? {})) && s.accepts(use.command, k)) runOptions[k] = substituteValue(v, folder) ?? v;
    }
    if (active && s.llm && s.accepts(use.command, LLM_FLAGS.url)) {
      runOptions[LLM_FLAGS.url] = s.llm.url;
      options[LLM_FLAGS.model] = s.llm.model;
      if (s.llm.apiKeyEnv) runOptions[LLM_FLAGS.apiKeyEnv] = s.llm.apiKeyEnv;
    }
    effective.set(step.name, [join(stepDir(step.name), "*.parquet")]);
    out.push({ step: step.name, command: use.command, options, runOptions, positionals, shard: use.shard ?? "none",
      outDir: stepDir(step.name), about: step.about, substituted, effectiveDir: stepDir(step.name) });
  }
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
