// A recipe from a file, planned against the commands its steps run: the two calls a library user needs before
// runPlanLocally (run.ts) or emit (emit.ts), with no command line involved.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { OptionSpecs } from "../cli/command.js";
import { stepCommands, stepOptionSpecs } from "../cli/steps.js";
import { validateRecipe, type Recipe } from "./types.js";
import { planBuild, type BuildSettings, type Invocation } from "./plan.js";
import { DEDUP_STAGES } from "./emit.js";

/** Read and validate a recipe file (errors name the file and the bad field). */
export async function loadRecipe(path: string): Promise<Recipe> {
  const file = resolve(path);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read recipe ${file}: ${(e as Error).message}`);
  }
  return validateRecipe(raw, file, Object.keys(stepCommands));
}

/** Plan a recipe, each step given only the shared settings its command declares. Returns the plan and the option
 * declarations of every command it may run (emit needs them to split dedup into its stage commands). */
export async function planRecipe(recipe: Recipe, settings: Omit<BuildSettings, "optionSpec">): Promise<{ plan: Invocation[]; specs: Map<string, OptionSpecs> }> {
  const used = new Set(recipe.steps.flatMap((s) => [s.command, s.otherwise?.command].filter(Boolean) as string[]));
  if (used.has("dedup")) for (const st of DEDUP_STAGES) used.add(st.command);
  const specs = await stepOptionSpecs(used);
  checkStepOptions(recipe, specs);
  const plan = planBuild(recipe, { ...settings, optionSpec: (c, o) => specs.get(c)?.[o] });
  return { plan, specs };
}

/** Every option a step sets (in the recipe or through --set) must be one its command declares: a misspelled option
 * would otherwise pass --plan and --emit and fail only when the task runs, on the cluster. */
function checkStepOptions(recipe: Recipe, specs: Map<string, OptionSpecs>): void {
  for (const step of recipe.steps) {
    for (const use of [step, step.otherwise]) {
      if (!use?.command || !use.options) continue;
      const known = specs.get(use.command) ?? {};
      const unknown = Object.keys(use.options).filter((k) => !(k in known));
      if (unknown.length) {
        throw new Error(`recipe "${recipe.name}", step "${step.name}": megamath ${use.command} has no option ${unknown.map((k) => `"${k}"`).join(", ")}; its options: ${Object.keys(known).sort().join(", ")}`);
      }
    }
  }
}
