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
  const plan = planBuild(recipe, { ...settings, optionSpec: (c, o) => specs.get(c)?.[o] });
  return { plan, specs };
}
