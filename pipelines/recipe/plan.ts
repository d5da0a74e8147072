// Turn a recipe into concrete subcommand invocations: inputs resolved to paths, ${STEP} references to folders,
// conditional steps replaced by their fallbacks or marked skipped with the reason.
import { resolve, dirname, join, isAbsolute } from "node:path";
import type { Recipe, RecipeStep, ShardMode } from "./types.js";
import { escapeListItem } from "../../cli/command.js";

export interface BuildSettings {
  /** Where the recipe file lives (relative inputs resolve against it). */
  recipeDir: string;
  outDir: string;
  /** OpenAI-compatible server for the LLM steps; absent = those steps use their fallback or are skipped. */
  llm?: { url: string; model: string; apiKeyEnv?: string };
  train?: boolean;
  seed?: number;
  /** Options for every step that accepts them and that do not change its output, e.g. { quiet: true, workers: 2 }. */
  common?: Record<string, string | number | boolean>;
  /** Does `command` take option `name`? (from the command's declaration) */
  accepts: (command: string, option: string) => boolean;
}

export interface Invocation {
  step: string;
  command: string;
  /** Arguments after the command name, without --shard: what the step computes (its identity for resume). */
  args: string[];
  /** Flags that change how it runs but not what it computes (--quiet, --workers). */
  extra: string[];
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

/** Option names the LLM steps take for the server (see lib/llm). */
export const LLM_FLAGS = { url: "base-url", model: "model", apiKeyEnv: "api-key-env" };

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
      out.push({ step: step.name, command: step.command, args: [], extra: [], shard: "none", outDir: stepDir(step.name), about: step.about, skipped,
        effectiveDir: passThrough.length ? dirname(passThrough[0]) : undefined });
      continue;
    }
    const folder = (name: string) => folderOf(name, effective, s.recipeDir);
    const args: string[] = (use.args ?? []).map((a) => substituteRefs(a, folder));
    // --input is a list flag: a comma in a folder name would split the path, so it is escaped.
    if (use.input) for (const p of resolveInput(use.input)) args.push("--input", escapeListItem(p));
    if (use.output !== false) args.push("--output", stepDir(step.name));
    for (const [k, v] of Object.entries(use.options ?? {})) args.push(...optionArgs(k, v, folder));
    if (s.seed !== undefined && !("seed" in (use.options ?? {})) && s.accepts(use.command, "seed")) args.push("--seed", String(s.seed));
    const extra: string[] = [];
    for (const [k, v] of Object.entries(s.common ?? {})) {
      if (!(k in (use.options ?? {})) && s.accepts(use.command, k)) extra.push(...optionArgs(k, v, folder));
    }
    // The server flags go only to the commands that talk to the server (annotate, refine): an llm-conditional step
    // such as train-classifier only reads their output. The model changes the answers, so it is part of the step's
    // identity (args); where the server lives and which variable holds the key are not (extra), so moving the server
    // resumes rather than redoes finished steps.
    if (active && step.when === "llm" && s.llm && s.accepts(use.command, LLM_FLAGS.url)) {
      args.push(`--${LLM_FLAGS.model}`, s.llm.model);
      extra.push(`--${LLM_FLAGS.url}`, s.llm.url);
      if (s.llm.apiKeyEnv) extra.push(`--${LLM_FLAGS.apiKeyEnv}`, s.llm.apiKeyEnv);
    }
    effective.set(step.name, [join(stepDir(step.name), "*.parquet")]);
    out.push({ step: step.name, command: use.command, args, extra, shard: use.shard ?? "none", outDir: stepDir(step.name), about: step.about, substituted,
      effectiveDir: stepDir(step.name) });
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

/** {"min": ["a=1","b=2"], "langid": true, "dim": 16} → --min a=1 --min b=2 --langid --dim 16 */
export function optionArgs(key: string, value: unknown, folder: (step: string) => string): string[] {
  const sub = (v: unknown) => substituteRefs(String(v), folder);
  if (Array.isArray(value)) return value.flatMap((v) => [`--${key}`, sub(v)]);
  if (value === true) return [`--${key}`];
  if (value === false || value === null || value === undefined) return [];
  return [`--${key}`, sub(value)];
}

/** Replace ${STEP} references by folders. */
export function substituteRefs(v: string, folder: (step: string) => string): string {
  return v.replace(/\$\{([a-z0-9-]+)\}/g, (_, n) => folder(n));
}

/** The final corpus folder of a plan (the `final` step's documents, or what it passed through if skipped). */
export function finalFolder(recipe: Recipe, plan: Invocation[]): string | undefined {
  return recipe.final ? plan.find((p) => p.step === recipe.final)?.effectiveDir : undefined;
}
