// Run a planned build locally: each step in-process, one after another, each resumable. A finished step leaves
// `.step.json` (its arguments and timing) in its folder; a rerun with the same arguments skips it.
import { readFile, mkdir } from "node:fs/promises";
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
  note?: string;
  args: string[];
}

const STEP_MARKER = ".step.json";

export async function runPlanLocally(plan: Invocation[], ctx: CliContext, opts: { force?: boolean } = {}): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const active = plan.filter((p) => !p.skipped);
  let k = 0;
  for (const inv of plan) {
    if (inv.skipped) {
      ctx.log.info(`[skip] ${inv.step}: ${inv.skipped}`);
      results.push({ step: inv.step, command: inv.command, status: "skipped", seconds: 0, note: inv.skipped, args: [] });
      continue;
    }
    k++;
    const marker = join(inv.outDir, STEP_MARKER);
    if (!opts.force && (await sameArgs(marker, inv.args))) {
      ctx.log.info(`[${k}/${active.length}] ${inv.step}: done before, skipped`);
      results.push({ step: inv.step, command: inv.command, status: "done-before", seconds: 0, note: inv.substituted, args: inv.args });
      continue;
    }
    ctx.log.info(`[${k}/${active.length}] ${inv.step}: megamath ${inv.command}${inv.substituted ? ` (${inv.substituted})` : ""}`);
    const cmd = await loadCommand(inv.command);
    const { positionals, opts: values } = parseCommandArgs(cmd, opts.force ? [...inv.args, "--force"] : inv.args);
    const t0 = performance.now();
    const code = (await cmd.run({ positionals, opts: values, ctx })) ?? 0;
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`step "${inv.step}" (megamath ${inv.command}) failed with exit code ${code}`);
    await mkdir(inv.outDir, { recursive: true });
    await writeFileAtomic(marker, JSON.stringify({ step: inv.step, command: inv.command, args: inv.args, seconds }, null, 1) + "\n");
    results.push({ step: inv.step, command: inv.command, status: inv.substituted ? "substituted" : "ran", seconds, note: inv.substituted, args: inv.args });
  }
  return results;
}

async function sameArgs(marker: string, args: string[]): Promise<boolean> {
  try {
    const m = JSON.parse(await readFile(marker, "utf8"));
    return JSON.stringify(m.args) === JSON.stringify(args);
  } catch {
    return false;
  }
}
