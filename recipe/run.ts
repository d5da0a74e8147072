// Run a planned build locally: each step in-process, each resumable. The step's typed options go to its command as
// values (no command line is built or parsed).
//
// Whether a step is done is its own business: every step runs, and its task loop skips each task whose marker holds
// the fingerprint computed now (its settings and the fingerprints of everything it read, which are the fingerprints
// of the upstream tasks that made those files). So a changed upstream redoes exactly the tasks downstream of it, a
// folder filled by emitted cluster tasks is reused as it is, and nothing is forced. A step that changed no file in
// its folder is reported "done-before"; one that did leaves `.step.json` (its options and timing, for the report).
//
// Steps that do not depend on each other (no step reads another's folder, e.g. the four mixtures) run at the same
// time, at most `jobs` at once; each writes only its own folder, so the outputs do not depend on the order.
import { readdir, stat, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { loadStepCommand } from "../cli/steps.js";
import { optionValues, type CliContext } from "../cli/command.js";
import { writeFileAtomic, isTempName } from "../lib/io/atomic.js";
import type { Logger } from "../lib/runtime/log.js";
import type { Invocation, StepOptions } from "./plan.js";
import { planPasses, runPass, type Pass } from "./fuse.js";
import { mentions } from "./mentions.js";
import type { PrepareMessage, PrepareWork } from "./prepare-worker.js";
import { workerFile } from "../lib/runtime/pool.js";
import { workerBootstrap } from "../classifiers/fasttext/worker-boot.js";

export interface StepResult {
  step: string;
  command: string;
  status: "ran" | "done-before" | "skipped" | "substituted" | "not-run";
  seconds: number;
  /** CPU seconds of the whole process (all threads) during the step: per-core cost, robust to other load. Left out
   * when another step ran at the same time (their CPU cannot be told apart). */
  cpuSeconds?: number;
  note?: string;
  /** The step's identity-relevant options. */
  options: StepOptions;
}

/** Where steps log and print; only `log` is required (a library caller need not build a terminal context). */
export type RunContext = Partial<CliContext> & { log: Logger };

export interface RunPlanOptions {
  /** Redo every task of every step whatever its markers say. */
  force?: boolean;
  /** Independent steps run at once (default 2; 1: one after another, as a benchmark wants for per-step CPU). */
  jobs?: number;
  /** Run consecutive per-document steps as one pass (fuse.ts; default true). */
  fuse?: boolean;
  /** The final corpus folder (always written, even when its step is fused with a later one). */
  finalDir?: string;
}

const STEP_MARKER = ".step.json";

export async function runPlanLocally(plan: Invocation[], context: RunContext, opts: RunPlanOptions = {}): Promise<StepResult[]> {
  const ctx: CliContext = { quiet: false, logJson: false, tty: false, stdout: process.stdout, ...context };
  const results: (StepResult | undefined)[] = plan.map(() => undefined);
  const active = plan.filter((p) => !p.skipped);
  const deps = dependencies(plan);
  plan.forEach((inv, i) => {
    if (!inv.skipped) return;
    ctx.log.info(`[skip] ${inv.step}: ${inv.skipped}`);
    results[i] = { step: inv.step, command: inv.command, status: "skipped", seconds: 0, note: inv.skipped, options: {} };
  });
  const jobs = Math.max(1, opts.jobs ?? 2);
  // A fused pass starts as one unit, at its first step, once every step outside it that its members read is done.
  const passes = opts.fuse === false ? new Map<string, Pass>() : await planPasses(plan, opts.finalDir);
  const passAt = new Map<number, number[]>();
  const laterInPass = new Set<number>();
  for (const pass of passes.values()) {
    const idx = pass.members.map((m) => plan.indexOf(m));
    passAt.set(idx[0], idx);
    idx.slice(1).forEach((x) => laterInPass.add(x));
  }
  const running = new Map<number, Promise<void>>();
  const started = new Set<number>();
  let failure: unknown;
  let k = 0;
  // What a step can do before the steps it waits for (its command's `prepare`: e.g. a mixture tokenizing its own
  // sources) runs in a free job slot beside them, on a thread of its own, so it is off the build's critical path.
  // A step with a prepare starts once it is over (they write the same folders).
  const early = jobs > 1 ? await withPrepare(active) : [];
  let preparing = early.length > 0;
  if (preparing) running.set(-1, prepareAhead(early, plan, ctx).finally(() => void (preparing = false, running.delete(-1))));
  for (;;) {
    // Start every step whose dependencies are done, in plan order, while there is room and nothing failed.
    for (const [i, inv] of plan.entries()) {
      if (failure !== undefined || running.size >= jobs) break;
      if (results[i] || started.has(i) || laterInPass.has(i)) continue;
      const group = passAt.get(i) ?? [i];
      if (preparing && group.some((g) => early.includes(plan[g]))) continue;
      if (!group.every((g) => deps[g].every((d) => results[d] || group.includes(d)))) continue;
      group.forEach((g) => started.add(g));
      const pass = passes.get(inv.step);
      const label = pass ? `[${k + 1}-${(k += group.length)}/${active.length}] ${pass.members.map((m) => m.step).join(" + ")}`
        : `[${++k}/${active.length}] ${inv.step}`;
      const p = (pass ? runPassSteps(pass, ctx, label, Boolean(opts.force), () => running.size > 1)
        : runStep(inv, ctx, label, Boolean(opts.force), () => running.size > 1).then((r) => [r]))
        .then((rs) => rs.forEach((r, n) => void (results[group[n]] = r)), (e) => void (failure ??= e))
        .finally(() => running.delete(i));
      running.set(i, p);
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (failure !== undefined) throw failure;
  return results as StepResult[];
}

/** The steps whose command has a `prepare`. */
async function withPrepare(steps: Invocation[]): Promise<Invocation[]> {
  const has = await Promise.all(steps.map((inv) => loadStepCommand(inv.command).then((c) => Boolean(c.prepare), () => false)));
  return steps.filter((_, i) => has[i]);
}

/** Each step's `prepare`, in plan order, on the paths no step of the plan writes, in one worker thread
 * (prepare-worker.ts): it takes a core the steps before the mixtures leave free (on 2 cores, the main thread runs
 * sample and the classifier's data while training and scoring run on workers) instead of taking turns with them on
 * the main thread. Best effort: a step redoes what this left undone and reports any error itself. */
async function prepareAhead(steps: Invocation[], plan: Invocation[], ctx: CliContext): Promise<void> {
  const work: PrepareWork = {
    steps: steps.map((inv) => ({ step: inv.step, command: inv.command, given: { ...inv.options, ...inv.runOptions } })),
    planDirs: plan.map((o) => o.outDir), quiet: ctx.quiet, logJson: ctx.logJson,
  };
  let worker: Worker;
  try {
    worker = new Worker(workerBootstrap(workerFile(import.meta.url, "./prepare-worker.js")), { eval: true, workerData: work });
  } catch (e) {
    ctx.log.debug(`[early] not started: ${(e as Error).message} (the steps do it)`);
    return;
  }
  await new Promise<void>((done) => {
    worker.on("message", (m: PrepareMessage) => {
      if ("log" in m) ctx.log[m.log](m.msg, m.fields);
    });
    worker.on("error", (e) => ctx.log.debug(`[early] stopped: ${e.message} (the steps do the rest)`));
    worker.on("exit", () => done());
  });
}

/** For each step, the steps whose folders it reads (through its options or positionals). */
function dependencies(plan: Invocation[]): number[][] {
  return plan.map((inv, i) => {
    const values = [...Object.values(inv.options), ...Object.values(inv.runOptions), ...inv.positionals].flat()
      .filter((v): v is string => typeof v === "string");
    return plan.flatMap((other, j) => (j !== i && values.some((v) => mentions(v, other.outDir)) ? [j] : []));
  });
}

async function runStep(inv: Invocation, ctx: CliContext, label: string, force: boolean, shared: () => boolean): Promise<StepResult> {
  const before = await folderState(inv.outDir);
  ctx.log.info(`${label}: megamath ${inv.command}${inv.substituted ? ` (${inv.substituted})` : ""}`);
  const cmd = await loadStepCommand(inv.command);
  const given: Record<string, unknown> = { ...inv.options, ...inv.runOptions };
  if (force && "force" in cmd.options) given.force = true;
  const values = optionValues(cmd, given, `step "${inv.step}"`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let overlapped = shared();
  let code: number;
  try {
    code = (await cmd.run({ positionals: inv.positionals, opts: values, ctx })) ?? 0;
  } catch (e) {
    // The step's own message names its command; say which step of the recipe it was.
    if (e instanceof Error && !e.message.startsWith(`step "${inv.step}"`)) e.message = `step "${inv.step}" (megamath ${inv.command}): ${e.message}`;
    throw e;
  }
  overlapped ||= shared();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = overlapped ? undefined : (cpu.user + cpu.system) / 1e6;
  if (code !== 0) throw new Error(`step "${inv.step}" (megamath ${inv.command}) failed with exit code ${code}`);
  const changed = changedFiles(before, await folderState(inv.outDir));
  const base = { step: inv.step, command: inv.command, note: inv.substituted, options: inv.options };
  if (changed === 0 && !force) {
    ctx.log.info(`${label}: done before, skipped (0 redone: every task's marker matches its inputs and settings)`);
    return { ...base, status: "done-before", seconds: 0 };
  }
  await mkdir(inv.outDir, { recursive: true });
  await writeFileAtomic(join(inv.outDir, STEP_MARKER), JSON.stringify({ step: inv.step, command: inv.command, options: inv.options,
    positionals: inv.positionals, seconds, cpuSeconds, changedFiles: changed }, null, 1) + "\n");
  return { ...base, status: inv.substituted ? "substituted" : "ran", seconds, ...(cpuSeconds !== undefined ? { cpuSeconds } : {}) };
}

/** A fused pass as steps of the build: each member's status from its own folder, its `.step.json` with its share
 * of the pass's time and the pass it ran in. */
async function runPassSteps(pass: Pass, ctx: CliContext, label: string, force: boolean, shared: () => boolean): Promise<StepResult[]> {
  const before = await Promise.all(pass.members.map((m) => folderState(m.outDir)));
  ctx.log.info(`${label}: one fused pass (megamath ${pass.members.map((m) => m.command).join(" → ")})`);
  let overlapped = shared();
  const out = await runPass(pass, ctx, force);
  overlapped ||= shared();
  const names = pass.members.map((m) => m.step).join(" + ");
  if (out.code !== 0) throw new Error(`fused pass ${names} failed with exit code ${out.code}`);
  return Promise.all(pass.members.map(async (m, i): Promise<StepResult> => {
    const changed = changedFiles(before[i], await folderState(m.outDir));
    const base = { step: m.step, command: m.command, options: m.options };
    if (changed === 0 && !force) {
      ctx.log.info(`${label.slice(0, label.indexOf("]") + 1)} ${m.step}: done before, skipped (0 redone: every task's marker matches its inputs and settings)`);
      return { ...base, note: m.substituted, status: "done-before", seconds: 0 };
    }
    const cpuSeconds = overlapped ? undefined : out.cpuSeconds[i];
    const note = `fused: ${names}${pass.keep[i] ? "" : " (documents not kept)"}`;
    await mkdir(m.outDir, { recursive: true });
    await writeFileAtomic(join(m.outDir, STEP_MARKER), JSON.stringify({ step: m.step, command: m.command, options: m.options,
      positionals: m.positionals, seconds: out.seconds[i], cpuSeconds, changedFiles: changed, fused: pass.members.map((x) => x.step) }, null, 1) + "\n");
    return { ...base, note: m.substituted ? `${m.substituted}; ${note}` : note, status: m.substituted ? "substituted" : "ran",
      seconds: out.seconds[i], ...(cpuSeconds !== undefined ? { cpuSeconds } : {}) };
  }));
}

/** Files a step rewrites on every run whatever it computed (its summary stats, locks) or that describe the run. */
const VOLATILE = (name: string) => name === "stats.json" || /^stats\.shard-\d+-of-\d+\.json$/.test(name) ||
  name === STEP_MARKER || /^\.megamath-shard-.*\.lock$/.test(name) || isTempName(name);

/** Size and modification time of every file under a step's folder (volatile ones aside). */
async function folderState(dir: string): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  const walk = async (d: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (VOLATILE(e.name)) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(d, e.name), r);
      else {
        const s = await stat(join(d, e.name)).catch(() => null);
        if (s) state.set(r, `${s.size}:${s.mtimeMs}`);
      }
    }
  };
  await walk(dir, "");
  return state;
}

function changedFiles(a: Map<string, string>, b: Map<string, string>): number {
  let n = 0;
  for (const [k, v] of b) if (a.get(k) !== v) n++;
  for (const k of a.keys()) if (!b.has(k)) n++;
  return n;
}
