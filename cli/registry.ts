// Every subcommand, loaded lazily, with the one-line summary `megamath --help` lists: the step commands of
// cli/steps.ts plus `build`, which runs a recipe of them, and `report`, which reports on a build folder.
import type { Command } from "./command.js";
import { stepCommands } from "./steps.js";

const build = {
  summary: "Run a whole recipe: sample → annotate → train classifier → score → filter → dedup → decontaminate → refine → mixtures (→ train).",
  load: () => import("./commands/build.js"),
};

const report = {
  summary: "Write report.html and report.json of a build folder, however its steps ran (megamath build or emitted tasks).",
  load: () => import("./commands/report.js"),
};

const card = {
  summary: "Write Hugging Face dataset cards (README.md) for a build's final corpus and its mixtures, or for one mixture folder.",
  load: () => import("./commands/card.js"),
};

const planCost = {
  summary: "Estimate requests, prompt/answer tokens and GPU-hours of annotate or refine on a corpus before running it.",
  load: () => import("./commands/plan-cost.js"),
};

const pass = {
  summary: "Run consecutive per-document steps as one fused pass (what emitted cluster tasks run), each step's markers in its folder.",
  load: () => import("./commands/pass.js"),
};

/** Commands that work on a whole build (or plan one, or run a fused pass of its steps) rather than run as a recipe step. */
export const buildCommands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = { build, report, card, "plan-cost": planCost, pass };

export const registry: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = { ...buildCommands, ...stepCommands };

export const commands: Record<string, () => Promise<{ default: Command }>> = Object.fromEntries(
  Object.entries(registry).map(([k, v]) => [k, v.load]),
);

export const summaries: Record<string, string> = Object.fromEntries(Object.entries(registry).map(([k, v]) => [k, v.summary]));

export async function loadCommand(name: string): Promise<Command> {
  const load = commands[name];
  if (!load) throw new Error(`unknown command "${name}"`);
  return (await load()).default;
}
