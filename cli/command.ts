// The shape of a `megamath` subcommand and the shared parsing of its flags and config file.
// A command declares its options once; the same declaration drives --help, flag parsing, config-file
// validation (clear message naming the field and the allowed values) and defaults.
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import type { Logger } from "../lib/runtime/log.js";
import type { Stage } from "../lib/runtime/stage.js";

export type OptionType = "string" | "number" | "integer" | "boolean" | "list";

export interface OptionSpec {
  type: OptionType;
  description: string;
  default?: string | number | boolean | readonly string[];
  /** Allowed values (for string options). */
  choices?: readonly string[];
  short?: string;
  /** Value placeholder in --help, e.g. "FILE". */
  placeholder?: string;
  /** false: the flag changes how a command runs, not what it writes (where, how many threads, how patient), so it is
   * left out of the outputs' identity (a rerun with another value resumes instead of redoing). Default true. */
  identity?: false;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues = Record<string, string | number | boolean | string[] | undefined>;

/** The value one declared option has after parsing: its choices, or the type's value. */
type ValueOf<S extends OptionSpec> = S extends { choices: readonly (infer C)[] }
  ? C
  : S["type"] extends "boolean" ? boolean : S["type"] extends "number" | "integer" ? number : S["type"] extends "list" ? string[] : string;

/** Parsed values of declared options, typed from the declaration: an option with a default is always set. */
export type ValuesOf<O extends OptionSpecs> = {
  -readonly [K in keyof O]: O[K] extends { default: string | number | boolean | readonly string[] } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

export interface CliContext {
  log: Logger;
  quiet: boolean;
  logJson: boolean;
  /** True when stderr is a TTY and progress should be drawn as a bar. */
  tty: boolean;
  stdout: NodeJS.WritableStream;
}

/** A command as declared: run() gets option values typed from `options`. */
export interface CommandDef<O extends OptionSpecs> {
  name: string;
  /** Usage line after "megamath ", e.g. "inspect FILE [--rows N]". (The one-line summary lives in cli/steps.ts.) */
  usage: string;
  /** Extra paragraphs for --help. */
  details?: string;
  /** Most positional arguments the command takes (default 0). Stray words are refused rather than ignored: an
   * unquoted glob after -i expands to many words and all but the first would otherwise be dropped silently. */
  positionals?: number;
  options: O;
  /** Returns the exit code (0 ok, 1 failed). Throw UsageError for bad usage (exit 2). */
  run(args: { positionals: string[]; opts: ValuesOf<O & typeof globalOptions>; ctx: CliContext }): Promise<number | void>;
  /** A per-document command (its run() is one runner call over files): the stages run() would run with these
   * options, or null when these options need more than that (a report written afterwards). With it a recipe can
   * run the command fused with its per-document neighbours in one pass (cli/fused.ts). */
  stages?(args: { opts: ValuesOf<O & typeof globalOptions>; ctx: CliContext }): Promise<Stage[] | null>;
  /** Work of a recipe step that reads only paths `ready` accepts (none another step writes) and whose results run()
   * would find done (task markers): a build runs it early, beside the steps this one waits for. Best effort: run()
   * redoes whatever it left undone and reports any error itself. */
  prepare?(args: { opts: ValuesOf<O & typeof globalOptions>; ctx: CliContext; ready: (path: string) => boolean }): Promise<void>;
}

/** A command as the dispatcher and the recipe hold it: parsed values of any declared options. */
export interface Command extends Omit<CommandDef<OptionSpecs>, "run" | "stages" | "prepare"> {
  run(args: { positionals: string[]; opts: OptionValues; ctx: CliContext }): Promise<number | void>;
  stages?(args: { opts: OptionValues; ctx: CliContext }): Promise<Stage[] | null>;
  prepare?(args: { opts: OptionValues; ctx: CliContext; ready: (path: string) => boolean }): Promise<void>;
}

/** Declare a command; its run() gets option values typed from its option declarations (parseCommandArgs and
 * optionValues produce exactly those: every declared option, its default when not given). */
export function defineCommand<const O extends OptionSpecs>(c: CommandDef<O>): Command {
  return c as unknown as Command;
}

/** Bad usage: unknown flag, bad value, missing argument. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Options every command accepts. */
export const globalOptions = {
  help: { type: "boolean", short: "h", description: "Show this help.", identity: false },
  config: { type: "string", placeholder: "FILE", description: "JSON file of option values; flags override it.", identity: false },
  quiet: { type: "boolean", short: "q", description: "Print errors only.", identity: false },
  "log-json": { type: "boolean", description: "Log one JSON object per line on stderr.", identity: false },
} as const satisfies OptionSpecs;

/** Parse argv for one command: flags, then the config file under them, then defaults; validate everything. */
export function parseCommandArgs(cmd: Command, argv: string[]): { positionals: string[]; opts: OptionValues } {
  const specs: OptionSpecs = { ...globalOptions, ...cmd.options };
  const parseSpec: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, s] of Object.entries(specs)) {
    parseSpec[name] = { type: s.type === "boolean" ? "boolean" : "string", multiple: s.type === "list" };
    if (s.short) parseSpec[name].short = s.short;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parseSpec, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message;
    // node:util's "argument is ambiguous" means a value that starts with "-" (--shard -1/2): say that plainly.
    const dash = /Option '(?:-\w, )?--([\w-]+)[^']*' argument is ambiguous/.exec(msg);
    if (dash) {
      throw new UsageError(`--${dash[1]} got a value starting with "-"; write it as --${dash[1]}=VALUE if that is meant (see 'megamath ${cmd.name} --help')`);
    }
    throw new UsageError(`${msg.replace(/^.*?: /, "")} (see 'megamath ${cmd.name} --help')`);
  }
  if (!parsed.values.help) checkPositionals(cmd, parsed.positionals); // --help shows help whatever else is there
  const flagValues = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const out: OptionValues = {};
  let fromConfig: Record<string, unknown> = {};
  if (typeof flagValues.config === "string") fromConfig = readConfigFile(flagValues.config, specs);
  for (const [name, spec] of Object.entries(specs)) {
    const raw = flagValues[name] !== undefined ? flagValues[name] : fromConfig[name];
    const source = flagValues[name] !== undefined ? `--${name}` : `"${name}" in ${flagValues.config}`;
    if (raw === undefined) {
      out[name] = defaultOf(spec);
      continue;
    }
    out[name] = coerce(raw, spec, source);
  }
  return { positionals: parsed.positionals, opts: out };
}

/** A declared default as a value (a list default copied, so that no caller can change the declaration). */
function defaultOf(spec: OptionSpec): string | number | boolean | string[] | undefined {
  return Array.isArray(spec.default) ? [...spec.default] : (spec.default as string | number | boolean | undefined);
}

function checkPositionals(cmd: Command, positionals: string[]): void {
  const max = cmd.positionals ?? 0;
  if (positionals.length <= max) return;
  const extra = positionals.slice(max);
  const shown = extra.slice(0, 3).map((p) => `"${p}"`).join(", ") + (extra.length > 3 ? `, ... (${extra.length} in all)` : "");
  const hint = "input" in cmd.options
    ? "; quote globs so the shell does not expand them (-i 'data/*.parquet'), or repeat -i before each file"
    : "";
  throw new UsageError(`unexpected argument${extra.length > 1 ? "s" : ""} ${shown}${hint} (see 'megamath ${cmd.name} --help')`);
}

function readConfigFile(path: string, specs: OptionSpecs): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
    throw new UsageError(`config file ${path} must hold a JSON object of option values`);
  }
  checkFields(obj as Record<string, unknown>, specs, `config file ${path}`);
  return obj as Record<string, unknown>;
}

function checkFields(values: Record<string, unknown>, specs: OptionSpecs, where: string): void {
  for (const key of Object.keys(values)) {
    if (!(key in specs) || key === "config") {
      const allowed = Object.keys(specs).filter((k) => k !== "config" && k !== "help").join(", ");
      throw new UsageError(`${where}: unknown field "${key}"; allowed fields: ${allowed}`);
    }
  }
}

/**
 * Option values given as data (a recipe step, a library caller), not argv: checked and coerced as a --config file's
 * fields are (a list given as an array is taken item by item, as written), defaults filled in. `where` names the
 * source in messages, e.g. `step "score"`.
 */
export function optionValues(cmd: Command, values: Record<string, unknown>, where: string): OptionValues {
  const specs: OptionSpecs = { ...globalOptions, ...cmd.options };
  checkFields(values, specs, where);
  const out: OptionValues = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = values[name];
    out[name] = raw === undefined ? defaultOf(spec) : coerce(raw, spec, `"${name}" in ${where}`);
  }
  return out;
}

function coerce(raw: unknown, spec: OptionSpec, source: string): string | number | boolean | string[] {
  switch (spec.type) {
    case "boolean":
      if (typeof raw === "boolean") return raw;
      throw new UsageError(`${source} must be true or false, got ${JSON.stringify(raw)}`);
    case "number":
    case "integer": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n) || (spec.type === "integer" && !Number.isInteger(n))) {
        throw new UsageError(`${source} must be ${spec.type === "integer" ? "an integer" : "a number"}, got ${JSON.stringify(raw)}`);
      }
      return n;
    }
    case "list": {
      // A JSON array from a config file is taken item by item, as written (the lossless form there); flag values
      // and a config string may hold several comma-separated items each.
      const fromJsonArray = Array.isArray(raw) && !source.startsWith("--");
      const arr = Array.isArray(raw) ? raw : [raw];
      return arr.flatMap((v) => {
        if (typeof v !== "string" && typeof v !== "number") throw new UsageError(`${source} must be a list of strings`);
        return fromJsonArray ? [String(v)] : splitListValue(String(v));
      });
    }
    case "string": {
      if (typeof raw !== "string" && typeof raw !== "number") {
        throw new UsageError(`${source} must be a string, got ${JSON.stringify(raw)}`);
      }
      const s = String(raw);
      if (spec.choices && !spec.choices.includes(s)) {
        throw new UsageError(`${source} must be one of ${spec.choices.join(", ")}; got "${s}"`);
      }
      return s;
    }
  }
}

/** How list values are written, for --help. */
export const LIST_SYNTAX =
  "Flags shown as X[,...] take a list: repeat the flag (-i a.parquet -i b.parquet) or separate items with commas. " +
  "A comma inside {...}, [...], (...) or \"...\" does not separate (globs like 'data/{a,b}.parquet', JSON like " +
  "stop=[\"a\",\"b\"]), and \\, is a literal comma (--equals 'title=a\\, b'). In a --config file a JSON array " +
  "is taken item by item, as written.";

const OPENERS: Record<string, string> = { "{": "}", "[": "]", "(": ")" };
const CLOSERS = new Set(["}", "]", ")"]);

/**
 * Split one list value into items at the commas that separate: not escaped as "\,", not inside balanced brackets
 * or double quotes. A value whose brackets or quotes do not balance is split at every unescaped comma, as before
 * bracket awareness, so no previously valid value changes meaning. Items are trimmed; empty items are dropped.
 */
export function splitListValue(value: string): string[] {
  return splitAt(value, true) ?? splitAt(value, false)!;
}

function splitAt(value: string, grouped: boolean): string[] | null {
  const items: string[] = [];
  let cur = "";
  const stack: string[] = [];
  let inQuote = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && value[i + 1] === ",") {
      cur += ",";
      i++;
      continue;
    }
    if (grouped) {
      if (inQuote) {
        if (c === "\\" && i + 1 < value.length) {
          cur += c + value[++i]; // an escaped character inside a JSON string (\" does not close it)
          continue;
        }
        if (c === '"') inQuote = false;
      } else if (c === '"') {
        inQuote = true;
      } else if (c in OPENERS) {
        stack.push(OPENERS[c]);
      } else if (CLOSERS.has(c)) {
        if (stack.pop() !== c) return null;
      }
    }
    if (c === "," && (!grouped || (stack.length === 0 && !inQuote))) {
      items.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  if (grouped && (stack.length || inQuote)) return null;
  items.push(cur);
  return items.map((s) => s.trim()).filter(Boolean);
}

/** Write one item so that splitListValue gives it back whole (for programs that build flag values). */
export function escapeListItem(item: string): string {
  return item.replace(/,/g, "\\,");
}

/** Most shard tasks a step may be split into (Slurm's largest MaxArraySize is 4,000,001; more tasks than this
 * would each get a few documents of a multi-billion-document corpus). */
export const MAX_SHARDS = 1_000_000;

/** Parse "i/N" (0-based i) for --shard. */
export function parseShard(s: string | undefined): { index: number; count: number } {
  if (s === undefined || s === "") return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m) throw new UsageError(`--shard must look like i/N with 0 <= i < N (e.g. 0/4), got "${s}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count > MAX_SHARDS) throw new UsageError(`--shard ${s}: N must be at most ${MAX_SHARDS}`);
  if (count < 1 || index >= count) throw new UsageError(`--shard ${s}: need 0 <= i < N`);
  return { index, count };
}

export function helpText(cmd: Command, summary: string): string {
  const specs: OptionSpecs = { ...cmd.options, ...globalOptions };
  const lines = [`megamath ${cmd.usage}`, "", summary];
  if (cmd.details) lines.push("", cmd.details);
  lines.push("", "Options:");
  for (const [name, s] of Object.entries(specs)) {
    const value = s.type === "list" ? `${s.placeholder ?? "ITEM"}[,...]` : s.placeholder ?? s.type.toUpperCase();
    const flag = `${s.short ? `-${s.short}, ` : "    "}--${name}${s.type === "boolean" ? "" : ` ${value}`}`;
    let desc = s.description;
    if (s.choices) desc += ` (one of: ${s.choices.join(", ")})`;
    if (s.default !== undefined && s.default !== false) desc += ` [default: ${Array.isArray(s.default) ? s.default.join(",") : s.default}]`;
    lines.push(`  ${flag.padEnd(34)} ${desc}`);
  }
  if (Object.values(specs).some((s) => s.type === "list")) lines.push("", wrap(LIST_SYNTAX, 116));
  return lines.join("\n") + "\n";
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}
