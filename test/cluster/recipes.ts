// Recipes the cluster tests emit: the shipped demo recipe, cut to what the tests need (without the three Decay
// mixtures: the cluster mechanics are the same, and each costs a task), its paths made absolute or moved onto a
// volume's mount path.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";

/** The shipped demo recipe. */
export function demoRecipePath(): string {
  return join(repoRoot, "pipelines", "pro-max-demo.json");
}

/** The demo recipe without the Decay mixtures, every path absolute; `demoDir` replaces the checkout's
 * fixtures/demo folder (default: the checkout's own). Written into `dir`; returns its path. */
export function reducedRecipe(dir: string, demoDir = join(repoRoot, "fixtures", "demo")): string {
  const path = demoRecipePath();
  const r = JSON.parse(readFileSync(path, "utf8"));
  r.inputs = r.inputs.map((g: string) => join(repoRoot, "pipelines", g));
  r.steps = r.steps.filter((s: { name: string }) => !s.name.startsWith("mix-decay"));
  const text = JSON.stringify(r, null, 1)
    .replaceAll("${recipe-dir}/../fixtures/demo", demoDir)
    .replaceAll(join(repoRoot, "fixtures", "demo"), demoDir);
  const out = join(dir, "recipe.json");
  writeFileSync(out, text);
  return out;
}
