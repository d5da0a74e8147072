// Progress for long work: a redrawn bar on a TTY (docs/s, MB/s, ETA), plain periodic log lines otherwise.
import type { Logger } from "./log.js";

export interface ProgressOptions {
  /** Draw a bar on stderr (TTY); otherwise log a line every `intervalMs`. */
  tty?: boolean;
  intervalMs?: number;
  log?: Logger;
  /** Label shown first, e.g. the command name. */
  label?: string;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private docs = 0;
  private bytes = 0;
  private filesDone = 0;
  private workDone = 0;
  private readonly start = Date.now();
  private last = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly opts: ProgressOptions,
    /** Total work units (e.g. input file bytes) for the ETA, and files for the counter. */
    private readonly totalWork = 0,
    private readonly totalFiles = 0,
  ) {
    if (opts.tty || opts.log) {
      this.timer = setInterval(() => this.render(false), opts.tty ? 200 : (opts.intervalMs ?? 10_000));
      this.timer.unref();
    }
  }

  /** Documents and text bytes processed. */
  add(docs: number, bytes: number): void {
    this.docs += docs;
    this.bytes += bytes;
  }

  /** A file (with `work` units of the total) finished. */
  fileDone(work: number): void {
    this.filesDone++;
    this.workDone += work;
  }

  line(): string {
    const secs = Math.max((Date.now() - this.start) / 1000, 1e-3);
    const dps = this.docs / secs;
    const mbs = this.bytes / 1e6 / secs;
    let eta = "";
    if (this.totalWork > 0 && this.workDone > 0 && this.workDone < this.totalWork) {
      eta = ` ETA ${fmtDuration(((this.totalWork - this.workDone) * secs) / this.workDone)}`;
    }
    const files = this.totalFiles ? ` files ${this.filesDone}/${this.totalFiles}` : "";
    const pct = this.totalWork ? ` ${((100 * this.workDone) / this.totalWork).toFixed(0)}%` : "";
    return `${this.opts.label ?? "progress"}:${pct}${files} ${this.docs} docs, ${fmtRate(dps)} docs/s, ${mbs.toFixed(1)} MB/s, ${fmtDuration(secs)}${eta}`;
  }

  private render(final: boolean): void {
    const now = Date.now();
    if (!final && now - this.last < 100) return;
    this.last = now;
    if (this.opts.tty) {
      const stream = this.opts.stream ?? process.stderr;
      const width = (stream.columns ?? 100) - 1;
      stream.write("\r" + this.line().slice(0, width).padEnd(width) + (final ? "\n" : ""));
    } else if (this.opts.log) {
      this.opts.log.info(this.line());
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.opts.tty || this.opts.log) this.render(true);
  }
}

function fmtRate(x: number): string {
  return x >= 100 ? Math.round(x).toString() : x.toFixed(1);
}

export function fmtDuration(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
