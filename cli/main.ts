#!/usr/bin/env node
// `megamath` entry: dispatches to one module per subcommand (cli/commands/NAME.ts), loaded lazily so that
// `megamath inspect` does not pay for loading the tokenizer or the trainer launcher.
import { createLogger } from "../lib/runtime/log.js";
import { UsageError, helpText, parseCommandArgs } from "./command.js";
import { commands, summaries } from "./registry.js";

function usage(): string {
  const width = Math.max(...Object.keys(summaries).map((k) => k.length));
  const rows = Object.keys(commands).map((k) => `  ${k.padEnd(width)}  ${summaries[k] ?? ""}`);
  return [
    "megamath: build math pre-training corpora (MegaMath-Web-Pro-Max) and mid-training mixtures.",
    "",
    "Usage: megamath <command> [options]      (no command: megamath build on the bundled demo)",
    "",
    "Commands:",
    ...rows,
    "",
    "Run 'megamath <command> --help' for a command's options. Exit codes: 0 ok, 1 failed, 2 bad usage.",
  ].join("\n") + "\n";
}

export async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  if (name === "help" && rest.length) [name, rest] = [rest[0], ["--help"]]; // "megamath help tokenize"
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return 0;
  }
  if (name === "--version" || name === "-v") {
    const { packageVersion } = await import("../lib/paths.js");
    process.stdout.write(packageVersion() + "\n");
    return 0;
  }
  if (name === undefined || name.startsWith("-")) {
    // No command runs the whole recipe on the bundled demo, as the README promises.
    rest = name === undefined ? [] : argv;
    name = "build";
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`megamath: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const cmd = (await load()).default;
  const quietFlag = rest.includes("--quiet") || rest.includes("-q");
  const jsonFlag = rest.includes("--log-json");
  // From the raw flags until they are parsed (a usage error is logged before a config file is read) ...
  let log = createLogger({ quiet: quietFlag, json: jsonFlag });
  try {
    const { positionals, opts } = parseCommandArgs(cmd, rest);
    if (opts.help) {
      process.stdout.write(helpText(cmd, summaries[name]));
      return 0;
    }
    // ... then from the parsed options, so "quiet" / "log-json" in a --config file apply too.
    log = createLogger({ quiet: Boolean(opts.quiet), json: Boolean(opts["log-json"]) });
    const ctx = {
      log, quiet: Boolean(opts.quiet), logJson: Boolean(opts["log-json"]),
      tty: Boolean(process.stderr.isTTY) && !opts.quiet && !opts["log-json"], stdout: process.stdout,
    };
    const code = await cmd.run({ positionals, opts, ctx });
    return typeof code === "number" ? code : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      log.error(e.message);
      return 2;
    }
    const err = e as Error;
    log.error(err.message);
    if (process.env.MEGAMATH_DEBUG) process.stderr.write(String(err.stack) + "\n");
    return 1;
  }
}

// Run when executed directly (bin/megamath.js or `tsx cli/main.ts`), not when imported by tests.
const invoked = process.argv[1] ?? "";
if (/cli[\\/]main\.[jt]s$/.test(invoked) || process.env.MEGAMATH_CLI_MAIN === "1") {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
