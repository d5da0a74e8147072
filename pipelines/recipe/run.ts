// Run a planned build locally: each step in-process, one after another, each resumable. A finished step leaves
// `.step.json` (its arguments and timing) in its folder; a rerun with the same arguments skips it.
import { readFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { loadCommand } from "../../cli/registry.js";
import { parseCommandArgs, type CliContext } from "../../cli/command.js";
import { writeFileAtomic } from "../../lib/io/atomic.js";
import type { Invocation } from "./plan.js";

export interface StepResult {
  step: string;
  command: string;
  status: "ran" | "done-before" | "skipped" | "substituted";
  seconds: number;
  /** CPU seconds of the whole process (all threads) during the step: per-core cost, robust to other load. */
  cpuSeconds?: number;
  note?: string;
  args: string[];
}

const STEP_MARKER = ".step.json";

export async function runPlanLocally(plan: Invocation[], ctx: CliContext, opts: { force?: boolean } = {}): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const active = plan.filter((p) => !p.skipped);
  let k = 0;
  // Once a step runs, its outputs are new, so every later step must recompute rather than trust its markers.
  let upstreamRan = Boolean(opts.force);
  for (const inv of plan) {
    if (inv.skipped) {
      ctx.log.info(`[skip] ${inv.step}: ${inv.skipped}`);
      results.push({ step: inv.step, command: inv.command, status: "skipped", seconds: 0, note: inv.skipped, args: [] });
      continue;
    }
    k++;
    const marker = join(inv.outDir, STEP_MARKER);
    const previous = await readStepMarker(marker);
    if (!upstreamRan && previous && sameArgs(previous, inv.args)) {
      ctx.log.info(`[${k}/${active.length}] ${inv.step}: done before, skipped`);
      results.push({ step: inv.step, command: inv.command, status: "done-before", seconds: 0, note: inv.substituted, args: inv.args });
      continue;
    }
    ctx.log.info(`[${k}/${active.length}] ${inv.step}: megamath ${inv.command}${inv.substituted ? ` (${inv.substituted})` : ""}`);
    const cmd = await loadCommand(inv.command);
    // Recompute from scratch when inputs changed upstream or the step's own arguments changed; a step with no
    // marker at all (never run, or killed) resumes from its per-file completion markers.
    const force = upstreamRan || (previous !== null && !sameArgs(previous, inv.args));
    upstreamRan = true;
    const forceFlag = force && "force" in cmd.options ? ["--force"] : [];
    // The old marker no longer describes the folder once the step starts over: a run that fails now must not be
    // taken for "done before" next time.
    await rm(marker, { force: true });
    const { positionals, opts: values } = parseCommandArgs(cmd, [...inv.args, ...inv.extra, ...forceFlag]);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const code = (await cmd.run({ positionals, opts: values, ctx })) ?? 0;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (code !== 0) throw new Error(`step "${inv.step}" (megamath ${inv.command}) failed with exit code ${code}`);
    await mkdir(inv.outDir, { recursive: true });
    await writeFileAtomic(marker, JSON.stringify({ step: inv.step, command: inv.command, args: inv.args, seconds, cpuSeconds }, null, 1) + "\n");
    results.push({ step: inv.step, command: inv.command, status: inv.substituted ? "substituted" : "ran", seconds, cpuSeconds, note: inv.substituted, args: inv.args });
  }
  return results;
}

async function readStepMarker(path: string): Promise<{ args: string[] } | null> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return null;
  }
}

function sameArgs(marker: { args: string[] }, args: string[]): boolean {
  return JSON.stringify(marker.args) === JSON.stringify(args);
}
