// A build folder's plan.json: the planned steps of the recipe it holds, written by `megamath build` before it runs
// and by `megamath build --emit` next to the scripts. `megamath report DIR` reads it to know the steps of a folder
// however they were run.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../lib/io/atomic.js";
import type { Invocation } from "./plan.js";

export const PLAN_FILE = "plan.json";

export interface PlanFile {
  recipe: string;
  differences: Record<string, string>;
  /** The final corpus folder, if the recipe names a final step. */
  finalDir?: string;
  plan: Invocation[];
}

export async function writePlanFile(buildDir: string, p: PlanFile): Promise<void> {
  await writeFileAtomic(join(buildDir, PLAN_FILE), JSON.stringify(p, null, 1) + "\n");
}

export async function readPlanFile(buildDir: string): Promise<PlanFile> {
  const path = join(buildDir, PLAN_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new Error(`${buildDir} holds no ${PLAN_FILE}: not a build folder (megamath build and megamath build --emit write one)`);
  }
  const p = JSON.parse(text) as PlanFile;
  if (typeof p.recipe !== "string" || !Array.isArray(p.plan)) throw new Error(`${path}: not a megamath plan file`);
  return p;
}
