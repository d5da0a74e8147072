// The report of a build folder from what its steps left there, however they ran (`megamath build`, or the emitted
// local/Slurm/Kubernetes tasks): plan.json for the steps, each step's completion markers for its figures.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { readPlanFile } from "../plan-file.js";
import type { Invocation } from "../plan.js";
import type { StepResult } from "../run.js";
import { collectReport, type Report } from "./collect.js";
import { renderReport } from "./html.js";
import { writeFileAtomic } from "../../lib/io/atomic.js";

/** The report of `buildDir`. `results` (from runPlanLocally) give statuses and times of a run just made; without
 * them each step's state is read from its folder. */
export async function reportFromFolder(buildDir: string, results?: StepResult[]): Promise<Report> {
  const pf = await readPlanFile(buildDir);
  return collectReport({
    recipe: pf.recipe, plan: pf.plan, differences: pf.differences, finalDir: pf.finalDir,
    results: results ?? (await Promise.all(pf.plan.map(stepState))),
  });
}

/** A step's state from its folder: skipped (the plan says), ran (its `.step.json`, or outputs written by shard
 * tasks), or not-run (an empty or missing folder). Time: what `.step.json` recorded, else none. */
async function stepState(p: Invocation): Promise<StepResult> {
  const base = { step: p.step, command: p.command, options: p.options, note: p.skipped ?? p.substituted };
  if (p.skipped) return { ...base, status: "skipped", seconds: 0 };
  const ran = p.substituted ? "substituted" : "ran";
  try {
    const m = JSON.parse(await readFile(join(p.outDir, ".step.json"), "utf8")) as { seconds?: number; cpuSeconds?: number };
    return { ...base, status: ran, seconds: m.seconds ?? 0, ...(m.cpuSeconds ? { cpuSeconds: m.cpuSeconds } : {}) };
  } catch {
    // written by shard tasks, which leave no step marker
  }
  const entries = await readdir(p.outDir).catch(() => [] as string[]);
  return { ...base, status: entries.length ? ran : "not-run", seconds: 0 };
}

/** Write report.json and report.html into the build folder; returns the report. */
export async function writeReport(buildDir: string, results?: StepResult[]): Promise<Report> {
  const report = await reportFromFolder(buildDir, results);
  await writeFileAtomic(join(buildDir, "report.json"), JSON.stringify(report, null, 1) + "\n");
  await writeFileAtomic(join(buildDir, "report.html"), renderReport(report));
  return report;
}
