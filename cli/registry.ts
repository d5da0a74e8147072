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

export const registry: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = { build, report, ...stepCommands };

export const commands: Record<string, () => Promise<{ default: Command }>> = Object.fromEntries(
  Object.entries(registry).map(([k, v]) => [k, v.load]),
);

export const summaries: Record<string, string> = Object.fromEntries(Object.entries(registry).map(([k, v]) => [k, v.summary]));

export async function loadCommand(name: string): Promise<Command> {
  const load = commands[name];
  if (!load) throw new Error(`unknown command "${name}"`);
  return (await load()).default;
}
