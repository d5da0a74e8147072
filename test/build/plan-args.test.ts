// The build planner writes command lines that the commands must parse back to the same paths, also when the output
// folder's name has a comma (list flags split at commas).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planBuild } from "../../pipelines/recipe/plan.js";
import { validateRecipe } from "../../pipelines/recipe/types.js";
import { commands, loadCommand } from "../../cli/registry.js";
import { parseCommandArgs, globalOptions } from "../../cli/command.js";
import { repoRoot } from "../helpers.js";

test("build plan: --input paths under a folder with a comma parse back whole", async () => {
  const recipePath = join(repoRoot, "pipelines/pro-max.json");
  const recipe = validateRecipe(JSON.parse(readFileSync(recipePath, "utf8")), recipePath, Object.keys(commands));
  const outDir = "/data/runs/a,b";
  const plan = planBuild(recipe, { recipeDir: join(repoRoot, "pipelines"), outDir, accepts: () => true });
  let checked = 0;
  for (const inv of plan) {
    if (inv.skipped) continue;
    const given: string[] = [];
    for (let i = 0; i < inv.args.length; i++) if (inv.args[i] === "--input") given.push(inv.args[i + 1]);
    if (!given.some((p) => p.startsWith("/data/runs/a"))) continue;
    const cmd = await loadCommand(inv.command);
    const { opts } = parseCommandArgs({ ...cmd, options: { ...globalOptions, ...cmd.options } }, inv.args);
    const inputs = opts.input as string[];
    assert.ok(inputs.every((p) => !p.includes("\\")), `${inv.step}: ${inputs.join(" | ")}`);
    assert.ok(inputs.some((p) => p.startsWith(outDir + "/")), `${inv.step}: ${inputs.join(" | ")}`);
    checked++;
  }
  assert.ok(checked >= 3, `only ${checked} steps read an earlier step's folder`);
});
