// `megamath pass`: consecutive per-document step commands as one fused pass (cli/fused.ts), the way `megamath build`
// runs them. The emitted cluster scripts run each fused pass of a recipe as one task per shard with this command, so
// a cluster reads the corpus once per pass, as a local build does, and each step still leaves its own markers and
// stats in its own folder (the same files as when it runs alone, so either way reuses the other's work).
import { defineCommand, parseCommandArgs, UsageError, type Command, type OptionValues } from "../command.js";
import { loadStepCommand } from "../steps.js";
import { runFusedCommands } from "../fused.js";
import { WORKERS_HELP } from "../pipeline.js";

export default defineCommand({
  name: "pass",
  usage: "pass [--keep K]... [--shard i/N] [--workers N] -- COMMAND ARGS... -- COMMAND ARGS... [-- ...]",
  positionals: Number.MAX_SAFE_INTEGER,
  details: [
    "Each COMMAND ARGS... is a per-document step as it would be run alone (`megamath COMMAND ARGS...`), each reading",
    "the documents the one before it writes. They run as one read → every step's stages → write pass over the input",
    "files: a step's documents are written only for the last step and for the steps --keep names (their position,",
    "from 0); every step's completion markers and stats are written in its own --output folder as if it had run alone.",
    "--shard and --workers apply to every step. `megamath build --emit` writes these command lines; `megamath build`",
    "runs the same passes in process.",
  ].join("\n"),
  options: {
    keep: { type: "list", placeholder: "K", description: "Also write the documents of the step at position K (from 0) although a later step reads them in the pass. Repeatable." },
    shard: { type: "string", placeholder: "i/N", description: "Every step's --shard: process input files i, i+N, ... (Slurm array / k8s indexed job).", identity: false },
    workers: { type: "integer", description: `Every step's --workers (the steps of a pass share one pool). ${WORKERS_HELP}`, identity: false },
  },
  async run({ positionals, opts, ctx }) {
    // The first "--" ends the pass's own options (the parser takes it); each later one starts the next step.
    const segments: string[][] = [[]];
    for (const word of positionals) {
      if (word === "--") segments.push([]);
      else segments[segments.length - 1].push(word);
    }
    if (segments.length < 2 || segments.some((s) => !s.length)) throw new UsageError("a pass takes two steps or more, each as -- COMMAND ARGS...");
    const keep = new Set<number>();
    for (const k of opts.keep ?? []) {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 0 || n >= segments.length) throw new UsageError(`--keep ${k}: give a step's position, 0 to ${segments.length - 1}`);
      keep.add(n);
    }
    const parts: { command: Command; opts: OptionValues; keep: boolean }[] = [];
    for (const [i, [name, ...argv]] of segments.entries()) {
      let command: Command;
      try {
        command = await loadStepCommand(name);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const parsed = parseCommandArgs(command, argv);
      if (parsed.positionals.length) throw new UsageError(`${name}: a step of a pass takes no positional arguments`);
      for (const o of ["shard", "workers"] as const) if (opts[o] !== undefined && o in command.options) parsed.opts[o] = opts[o];
      parts.push({ command, opts: parsed.opts, keep: keep.has(i) });
    }
    return (await runFusedCommands(parts, ctx)).code;
  },
});
