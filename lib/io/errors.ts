// Errors raised for bad input files. They always name the file and, where there is one, the row or line, so a
// user can find the offending document; `reason` is the short key counted in stats under --on-error skip.

export class InputError extends Error {
  constructor(
    readonly file: string,
    /** "file:line" (JSONL, 1-based line) or "file#row" (Parquet/Arrow, 0-based row), or just the file. */
    readonly where: string,
    readonly reason: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = "InputError";
  }
}

/** Raised when an output cannot be written (unwritable folder, disk full); names the final path. */
export class OutputError extends Error {
  constructor(readonly path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.name = "OutputError";
  }
}

/** A decompressor rejected the data (corrupt, truncated, or bigger than a bound), as opposed to a read error of
 * the file itself; readers word it "decompression of FILE failed: why". */
export class DecompressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecompressError";
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
