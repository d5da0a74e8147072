// Several per-document commands run as one fused pass (lib/runtime/runner.ts runFusedPipeline): each command builds
// its stages and its step (identity, files read, bounds) exactly as it would alone, so each step's markers and stats
// are the ones the command alone would leave. The pass takes its shape (inputs, shard, reading, writing) from the
// first command; fusionConflict says when the commands disagree on it, and then they must run one by one. A command
// whose stage writes through a sink (tokenize: token files) ends a pass.
import type { CliContext, Command, OptionValues } from "./command.js";
import { pipelineRun, reportRun, type PipelineValues } from "./pipeline.js";
import { runFusedPipeline, type FusedStep, type RunResult } from "../lib/runtime/runner.js";

export interface FusedPart {
  command: Command;
  /** The command's option values (as optionValues gives them: every declared option, defaults filled in). */
  opts: OptionValues;
  /** Write this step's documents although a later step follows (debugging, or a later step reads them). */
  keep?: boolean;
}

/** Options that shape the pass itself: every fused step must agree on them. */
const SHAPE = ["shard", "seed", "on-error", "max-failed-share", "workers", "format", "row-group-size", "max-doc-mb", "force"] as const;

/** Why these commands cannot run as one pass (null: they can). */
export function fusionConflict(parts: { command: Command; opts: OptionValues }[]): string | null {
  if (parts.length < 2) return "a fused pass needs two steps or more";
  for (const [k, p] of parts.entries()) {
    if (!p.command.stages) return `${p.command.name} is not a per-document command`;
    if (p.opts["max-file-mb"] !== undefined) return `${p.command.name} rolls its output into parts (--max-file-mb)`;
    for (const o of SHAPE) {
      // An option one of them does not take does not shape it: tokenize writes token files, not documents, so the
      // documents' --format is not its concern (the pass writes kept documents as the first step says).
      if (!(o in p.command.options) || !(o in parts[0].command.options)) continue;
      if (JSON.stringify(p.opts[o]) !== JSON.stringify(parts[0].opts[o])) return `${p.command.name} differs in --${o}`;
    }
    if (k === 0) continue;
    // A later step reads what the one before it wrote: the standard columns, that step's documents.
    if ((p.opts["text-key"] ?? "text") !== "text" || (p.opts["id-key"] ?? "id") !== "id" || (p.opts.template ?? "web") !== "web") {
      return `${p.command.name} reads other text/id columns`;
    }
    // A command without --format writes no documents (tokenize: token files): nothing can read it within a pass.
    if (!("format" in parts[k - 1].command.options)) return `${parts[k - 1].command.name} writes no documents for ${p.command.name} to read`;
    const prev = parts[k - 1].opts;
    const expected = [`${prev.output}/*.${prev.format ?? "parquet"}`];
    if (JSON.stringify(p.opts.input) !== JSON.stringify(expected)) return `${p.command.name} does not read the documents of ${parts[k - 1].command.name}`;
  }
  return null;
}

/** Run the commands as one pass; logs each step's summary like the command would; exit code 1 when a file failed. */
export async function runFusedCommands(parts: FusedPart[], ctx: CliContext): Promise<{ code: number; results: RunResult[] }> {
  const why = fusionConflict(parts);
  if (why) throw new Error(`cannot fuse ${parts.map((p) => p.command.name).join(" → ")}: ${why}`);
  const steps: FusedStep[] = [];
  let shape;
  for (const p of parts) {
    const stages = await p.command.stages!({ opts: p.opts, ctx });
    if (!stages) throw new Error(`cannot fuse ${p.command.name} with these options (it does more than one pass over files)`);
    const { run, step } = pipelineRun(p.opts as unknown as PipelineValues, ctx, stages, { name: p.command.name });
    shape ??= run;
    steps.push({ ...step, keep: p.keep });
  }
  const results = await runFusedPipeline({ ...shape!, steps });
  let code = 0;
  results.forEach((r, k) => (code = Math.max(code, reportRun(parts[k].command.name, r, ctx))));
  return { code, results };
}
