// Run a planned build locally: each step in-process, one after another, each resumable. The step's typed options go
// to its command as values (no command line is built or parsed). A finished step leaves `.step.json` (its options
// and timing) in its folder; a rerun with the same options skips it.
import { readFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { loadStepCommand } from "../../cli/steps.js";
import { optionValues, type CliContext } from "../../cli/command.js";
import { writeFileAtomic } from "../../lib/io/atomic.js";
import type { Logger } from "../../lib/runtime/log.js";
import type { Invocation, StepOptions } from "./plan.js";
import { planPasses, runPass, type Pass } from "./fuse.js";

export interface StepResult {
  step: string;
  command: string;
  status: "ran" | "done-before" | "skipped" | "substituted" | "not-run";
  seconds: number;
  /** CPU seconds of the whole process (all threads) during the step: per-core cost, robust to other load. */
  cpuSeconds?: number;
  note?: string;
  /** The step's identity-relevant options (what its marker records). */
  options: StepOptions;
}

/** Where steps log and print; only `log` is required (a library caller need not build a terminal context). */
export type RunContext = Partial<CliContext> & { log: Logger };

const STEP_MARKER = ".step.json";

export async function runPlanLocally(plan: Invocation[], context: RunContext,
  opts: { force?: boolean; fuse?: boolean; finalDir?: string } = {}): Promise<StepResult[]> {
  const ctx: CliContext = { quiet: false, logJson: false, tty: false, stdout: process.stdout, ...context };
  const results: StepResult[] = [];
  const active = plan.filter((p) => !p.skipped);
  // Consecutive per-document steps run as one pass (fuse.ts) unless fusion is off.
  const passes = opts.fuse === false ? new Map<string, Pass>() : await planPasses(plan, opts.finalDir);
  const inPass = new Set([...passes.values()].flatMap((p) => p.members.slice(1).map((m) => m.step)));
  let k = 0;
  // Once a step runs, its outputs are new, so every later step must recompute rather than trust its markers.
  let upstreamRan = Boolean(opts.force);
  for (const inv of plan) {
    if (inv.skipped) {
      ctx.log.info(`[skip] ${inv.step}: ${inv.skipped}`);
      results.push({ step: inv.step, command: inv.command, status: "skipped", seconds: 0, note: inv.skipped, options: {} });
      continue;
    }
    if (inPass.has(inv.step)) continue; // ran with the first step of its pass
    const pass = passes.get(inv.step);
    if (pass) {
      const first = k + 1;
      k += pass.members.length;
      upstreamRan = await runPassStep(pass, ctx, { upstreamRan, label: `[${first}-${k}/${active.length}]`, results });
      continue;
    }
    k++;
    const marker = join(inv.outDir, STEP_MARKER);
    const identity = stepIdentity(inv);
    const previous = await readStepMarker(marker);
    if (!upstreamRan && previous === identity) {
      ctx.log.info(`[${k}/${active.length}] ${inv.step}: done before, skipped`);
      results.push({ step: inv.step, command: inv.command, status: "done-before", seconds: 0, note: inv.substituted, options: inv.options });
      continue;
    }
    ctx.log.info(`[${k}/${active.length}] ${inv.step}: megamath ${inv.command}${inv.substituted ? ` (${inv.substituted})` : ""}`);
    const cmd = await loadStepCommand(inv.command);
    // Recompute from scratch when inputs changed upstream or the step's own options changed; a step with no
    // marker at all (never run, or killed) resumes from its per-file completion markers.
    const force = upstreamRan || (previous !== null && previous !== identity);
    upstreamRan = true;
    // The old marker no longer describes the folder once the step starts over: a run that fails now must not be
    // taken for "done before" next time.
    await rm(marker, { force: true });
    const given: Record<string, unknown> = { ...inv.options, ...inv.runOptions };
    if (force && "force" in cmd.options) given.force = true;
    const values = optionValues(cmd, given, `step "${inv.step}"`);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const code = (await cmd.run({ positionals: inv.positionals, opts: values, ctx })) ?? 0;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (code !== 0) throw new Error(`step "${inv.step}" (megamath ${inv.command}) failed with exit code ${code}`);
    await mkdir(inv.outDir, { recursive: true });
    await writeFileAtomic(marker, JSON.stringify({ step: inv.step, command: inv.command, options: inv.options,
      positionals: inv.positionals, seconds, cpuSeconds }, null, 1) + "\n");
    results.push({ step: inv.step, command: inv.command, status: inv.substituted ? "substituted" : "ran", seconds, cpuSeconds, note: inv.substituted, options: inv.options });
  }
  return results;
}

/** A fused pass as steps of the build: done before when every member's `.step.json` matches; else run (forced
 * when anything upstream ran or a member's options changed) and each member gets its `.step.json`, its share of
 * the pass's CPU time, and a note naming the pass. Returns whether it ran. */
async function runPassStep(pass: Pass, ctx: CliContext, r: { upstreamRan: boolean; label: string; results: StepResult[] }): Promise<boolean> {
  const names = pass.members.map((m) => m.step).join(" + ");
  const previous = await Promise.all(pass.members.map((m) => readStepMarker(join(m.outDir, STEP_MARKER))));
  const same = pass.members.map((m, i) => previous[i] === stepIdentity(m));
  if (!r.upstreamRan && same.every(Boolean)) {
    ctx.log.info(`${r.label} ${names}: done before, skipped`);
    for (const m of pass.members) r.results.push({ step: m.step, command: m.command, status: "done-before", seconds: 0, note: m.substituted, options: m.options });
    return false;
  }
  ctx.log.info(`${r.label} ${names}: one fused pass (megamath ${pass.members.map((m) => m.command).join(" → ")})`);
  const force = r.upstreamRan || previous.some((p, i) => p !== null && !same[i]);
  for (const m of pass.members) await rm(join(m.outDir, STEP_MARKER), { force: true });
  const out = await runPass(pass, ctx, force);
  if (out.code !== 0) throw new Error(`fused pass ${names} failed with exit code ${out.code}`);
  for (const [i, m] of pass.members.entries()) {
    const note = `fused: ${names}${pass.keep[i] ? "" : " (documents not kept)"}`;
    await mkdir(m.outDir, { recursive: true });
    await writeFileAtomic(join(m.outDir, STEP_MARKER), JSON.stringify({ step: m.step, command: m.command, options: m.options,
      positionals: m.positionals, seconds: out.seconds[i], cpuSeconds: out.cpuSeconds[i], fused: pass.members.map((x) => x.step) }, null, 1) + "\n");
    r.results.push({ step: m.step, command: m.command, status: m.substituted ? "substituted" : "ran", seconds: out.seconds[i],
      cpuSeconds: out.cpuSeconds[i], note: m.substituted ? `${m.substituted}; ${note}` : note, options: m.options });
  }
  return true;
}

/** What a finished step's marker must match: its command, options and positionals. */
function stepIdentity(m: { command: string; options?: unknown; positionals?: unknown }): string {
  return JSON.stringify([m.command, m.options ?? null, m.positionals ?? null]);
}

async function readStepMarker(path: string): Promise<string | null> {
  try {
    return stepIdentity(JSON.parse(await readFile(path, "utf8")));
  } catch {
    return null;
  }
}
