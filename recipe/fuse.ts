// Which consecutive steps of a planned build run as one fused pass, and running such a pass. Consecutive active
// steps fuse when each is a per-document command (its command declares `stages`), each shards over files, each reads
// exactly the documents of the one before it, and they agree on the pass's shape (cli/fused.ts fusionConflict).
// An intermediate step's documents are written only when something needs them: the recipe's final corpus, another
// step's options, or the recipe asking for them (keepIntermediate / "keep": true). Its stats and markers are always
// written, so the report and `megamath stats` show every step as if it had run alone.
import { loadStepCommand } from "../cli/steps.js";
import { optionValues, type CliContext, type Command, type OptionValues } from "../cli/command.js";
import { fusionConflict, runFusedCommands } from "../cli/fused.js";
import type { RunResult } from "../lib/runtime/runner.js";
import type { Invocation } from "./plan.js";

export interface Pass {
  members: Invocation[];
  /** Per member: write its documents (always true for the last). */
  keep: boolean[];
}

/** The steps' option values as their commands will receive them (defaults filled in). */
function valuesOf(inv: Invocation, cmd: Command, force = false): OptionValues {
  const given: Record<string, unknown> = { ...inv.options, ...inv.runOptions };
  if (force && "force" in cmd.options) given.force = true;
  return optionValues(cmd, given, `step "${inv.step}"`);
}

/** The fused passes of a plan (two steps or more each), keyed by their first step's name. */
export async function planPasses(plan: Invocation[], finalDir?: string): Promise<Map<string, Pass>> {
  const active = plan.filter((p) => !p.skipped);
  const passes = new Map<string, Pass>();
  let group: { inv: Invocation; cmd: Command }[] = [];
  const close = () => {
    if (group.length > 1) {
      const members = group.map((g) => g.inv);
      const keep = members.map((m, i) => i === members.length - 1 || neededElsewhere(m, members[i + 1], active, finalDir));
      passes.set(members[0].step, { members, keep });
    }
    group = [];
  };
  for (const inv of active) {
    const cmd = await loadStepCommand(inv.command);
    const fusable = !inv.noFuse && inv.shard === "files" && Boolean(cmd.stages);
    if (!fusable) {
      close();
      continue;
    }
    const parts = [...group, { inv, cmd }].map((g) => ({ command: g.cmd, opts: valuesOf(g.inv, g.cmd) }));
    if (group.length && fusionConflict(parts) !== null) close();
    group.push({ inv, cmd });
  }
  close();
  return passes;
}

/** Must `inv`'s documents be written although `next` reads them in the same pass? */
function neededElsewhere(inv: Invocation, next: Invocation, active: Invocation[], finalDir?: string): boolean {
  if (inv.keep || finalDir === inv.outDir) return true;
  // The folder itself, or a path under it, anywhere in a value (also inside "name=PATH" list items).
  const dir = JSON.stringify(inv.outDir).slice(1, -1);
  const mentions = (v: unknown) => {
    const s = JSON.stringify(v) ?? "";
    return s.includes(`${dir}/`) || s.includes(`${dir}"`);
  };
  return active.some((p) => {
    if (p === inv) return false;
    const { input, ...rest } = p.options;
    return mentions(rest) || mentions(p.positionals) || (p !== next && mentions(input ?? null));
  });
}

export interface PassResult {
  code: number;
  results: RunResult[];
  /** CPU and wall seconds of the pass, shared out over its steps by their stages' time. */
  cpuSeconds: number[];
  seconds: number[];
}

/** Run a pass: one read → every member's stages → write, with each member's markers and stats in its folder. */
export async function runPass(pass: Pass, ctx: CliContext, force: boolean): Promise<PassResult> {
  const parts = [];
  for (const [i, inv] of pass.members.entries()) {
    const cmd = await loadStepCommand(inv.command);
    parts.push({ command: cmd, opts: valuesOf(inv, cmd, force), keep: pass.keep[i] });
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { code, results } = await runFusedCommands(parts, ctx);
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  const ms = results.map((r) => r.stats.stages.reduce((a, s) => a + s.timeMs, 0));
  const sum = ms.reduce((a, b) => a + b, 0);
  const share = (total: number) => ms.map((m) => (sum > 0 ? (total * m) / sum : total / ms.length));
  return { code, results, seconds: share(wall), cpuSeconds: share((cpu.user + cpu.system) / 1e6) };
}
