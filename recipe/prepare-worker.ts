// The worker thread of a build's early work (recipe/run.ts prepareAhead): each step's `prepare` (e.g. a mixture
// tokenizing its own document sources into the build's source cache) runs here, so that it uses a core of its own
// instead of taking turns with the steps on the main thread (sample, the classifier's data) that are on the build's
// critical path. Log lines go back to the main thread's logger; nothing else crosses, the results are files.
import { parentPort, workerData } from "node:worker_threads";
import { loadStepCommand } from "../cli/steps.js";
import { optionValues, type CliContext } from "../cli/command.js";
import type { Level, Logger } from "../lib/runtime/log.js";
import { mentions } from "./mentions.js";

export interface PrepareWork {
  steps: { step: string; command: string; given: Record<string, unknown> }[];
  /** Every folder a step of the plan writes: a path under one of them is not ready before the build runs. */
  planDirs: string[];
  quiet: boolean;
  logJson: boolean;
}

export type PrepareMessage = { log: Level; msg: string; fields?: Record<string, unknown> } | { done: true };

const work = workerData as PrepareWork;
const post = (m: PrepareMessage) => parentPort!.postMessage(m);
const line = (level: Level) => (msg: string, fields?: Record<string, unknown>) => post({ log: level, msg, fields });
const log: Logger = { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
const ctx: CliContext = { log, quiet: work.quiet, logJson: work.logJson, tty: false, stdout: process.stdout };
const ready = (path: string) => !work.planDirs.some((dir) => mentions(path, dir));

for (const s of work.steps) {
  try {
    const cmd = await loadStepCommand(s.command);
    if (!cmd.prepare) continue;
    log.info(`[early] ${s.step}: its own inputs, beside the steps it waits for`);
    await cmd.prepare({ opts: optionValues(cmd, s.given, `step "${s.step}"`), ctx, ready });
  } catch (e) {
    log.debug(`[early] ${s.step}: left to the step (${(e as Error).message})`);
  }
}
post({ done: true });
