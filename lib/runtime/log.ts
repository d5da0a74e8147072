// Logging for humans (stderr lines) or machines (--log-json: one JSON object per line). --quiet keeps errors only.
export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  quiet?: boolean;
  json?: boolean;
  verbose?: boolean;
  stream?: NodeJS.WritableStream;
}

const rank: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(opts: LoggerOptions = {}): Logger {
  const stream = opts.stream ?? process.stderr;
  const min = opts.quiet ? rank.error : opts.verbose ? rank.debug : rank.info;
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (rank[level] < min) return;
    if (opts.json) {
      stream.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + "\n");
    } else {
      const extra = fields && Object.keys(fields).length ? " " + JSON.stringify(fields) : "";
      const tag = level === "info" ? "" : `${level}: `;
      stream.write(`megamath: ${tag}${msg}${extra}\n`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** A logger that records lines, for tests. */
export function memoryLogger(): Logger & { lines: { level: Level; msg: string }[] } {
  const lines: { level: Level; msg: string }[] = [];
  const push = (level: Level) => (msg: string) => void lines.push({ level, msg });
  return { lines, debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") };
}
