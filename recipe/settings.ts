// What a user changes about a shipped recipe without editing it: which recipe (a shipped name or a file), where the
// other datasets of the mixtures live (${sources}), and single option values (`--set STEP.OPTION=VALUE`, e.g. to run
// the paper's recipe at reduced size). Every change is written into the recipe's differences_from_paper, so the
// plan, plan.json and the report say what this build does differently from the recipe as shipped.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { packagePath } from "../lib/paths.js";
import type { Recipe, RecipeStep } from "./types.js";
import type { Invocation } from "./plan.js";

/** The recipes that ship in pipelines/, by the name `--recipe` takes. */
export const SHIPPED_RECIPES = {
  "pro-max": "the paper's Pro-Max recipe at full size (needs --input, --llm/--model and --sources)",
  "pro-max-demo": "the same steps at demo size on the bundled corpus (the default)",
  "megamath-web": "MegaMath-Web's stage 1 from Common Crawl WARC files",
} as const;

export const DEFAULT_RECIPE = "pro-max-demo";

/** A shipped recipe's name, or a path to a recipe file. */
export function recipeFile(nameOrPath: string): string {
  if (nameOrPath in SHIPPED_RECIPES) return packagePath("pipelines", `${nameOrPath}.json`);
  const file = resolve(nameOrPath);
  if (!existsSync(file) && !/[/\\]|\.json$/.test(nameOrPath)) {
    throw new Error(`no recipe "${nameOrPath}": give a recipe file or one of the shipped recipes: ${Object.keys(SHIPPED_RECIPES).join(", ")}`);
  }
  return file;
}

/** The placeholder a recipe uses for the folder of downloaded datasets (`--sources DIR`). */
export const SOURCES_REF = "${sources}";

/** Does any step option or argument read ${sources}? */
export function usesSources(recipe: Recipe): boolean {
  return JSON.stringify(recipe.steps).includes(SOURCES_REF);
}

/** Replace ${sources} in every option value and argument by `dir` (a copy of the recipe is returned). */
export function bindSources(recipe: Recipe, dir: string): Recipe {
  const sub = (v: unknown): unknown =>
    typeof v === "string" ? v.split(SOURCES_REF).join(dir) : Array.isArray(v) ? v.map(sub) : v;
  const step = <T extends Partial<RecipeStep>>(s: T): T => ({
    ...s,
    ...(s.options ? { options: Object.fromEntries(Object.entries(s.options).map(([k, v]) => [k, sub(v)])) } : {}),
    ...(s.args ? { args: s.args.map((a) => sub(a) as string) } : {}),
  });
  return { ...recipe, steps: recipe.steps.map((s) => ({ ...step(s), ...(s.otherwise ? { otherwise: step(s.otherwise) } : {}) })) };
}

/** One `--set STEP.OPTION=VALUE`: numbers and true/false are typed, a value with commas set on a list option is
 * a list, anything else a string. */
export interface OptionOverride { step: string; option: string; value: string | number | boolean | string[] }

export function parseOverride(text: string): OptionOverride {
  const m = /^([a-z0-9][a-z0-9-]*)\.([a-z0-9][a-z0-9-]*)=(.*)$/s.exec(text);
  if (!m) throw new Error(`--set ${text}: expected STEP.OPTION=VALUE, e.g. sample.per-year=120`);
  const raw = m[3];
  const value = /^-?\d+(\.\d+)?(e-?\d+)?$/i.test(raw) ? Number(raw) : raw === "true" ? true : raw === "false" ? false : raw;
  return { step: m[1], option: m[2], value };
}

/** Apply option overrides to a copy of the recipe. The step must exist; the value replaces the recipe's (a list
 * option takes the value as its one item). The change is recorded under differences_from_paper as
 * "set STEP.OPTION". */
export function applyOverrides(recipe: Recipe, overrides: OptionOverride[]): Recipe {
  if (!overrides.length) return recipe;
  const steps = recipe.steps.map((s) => ({ ...s, options: { ...(s.options ?? {}) }, ...(s.otherwise ? { otherwise: { ...s.otherwise, options: { ...(s.otherwise.options ?? {}) } } } : {}) }));
  const differences = { ...(recipe.differences_from_paper ?? {}) };
  for (const o of overrides) {
    const s = steps.find((x) => x.name === o.step);
    if (!s) throw new Error(`--set ${o.step}.${o.option}: the recipe "${recipe.name}" has no step "${o.step}"; its steps: ${steps.map((x) => x.name).join(", ")}`);
    const before = s.options[o.option];
    const value = Array.isArray(before) && !Array.isArray(o.value) ? [String(o.value)] : o.value;
    s.options[o.option] = value;
    // The fallback of an LLM step (what runs without a server) reads the same option when it has it.
    if (s.otherwise?.options && o.option in s.otherwise.options) s.otherwise.options[o.option] = value;
    differences[`set ${o.step}.${o.option}`] = `recipe "${recipe.name}": ${before === undefined ? "(the command's default)" : JSON.stringify(before)}; this build: ${JSON.stringify(value)}`;
  }
  return { ...recipe, steps, differences_from_paper: differences };
}

/** Steps that would run but read the output of a step that does not (e.g. score needs the classifier that
 * train-classifier only trains with an LLM server): one sentence each, empty when the plan is runnable. */
export function unmetDependencies(recipe: Recipe, plan: Invocation[]): string[] {
  const skipped = new Map(plan.filter((p) => p.skipped).map((p) => [p.step, p.skipped!]));
  const out: string[] = [];
  for (const inv of plan) {
    if (inv.skipped) continue;
    const step = recipe.steps.find((s) => s.name === inv.step)!;
    const used = inv.substituted && step.otherwise ? step.otherwise : step;
    const refs = JSON.stringify([used.options ?? {}, used.args ?? []]).match(/\$\{([a-z0-9-]+)\}/g) ?? [];
    for (const r of new Set(refs.map((x) => x.slice(2, -1)))) {
      if (skipped.has(r)) out.push(`step "${inv.step}" needs the output of step "${r}", which does not run: ${skipped.get(r)}`);
    }
  }
  return out;
}
