// One error type for every way a model file can be unusable, so callers can tell "bad model" from a bug.

/** A fastText model file that is missing, truncated, corrupt or of a kind we do not support. The message always
 * names the file and, where it helps, the byte offset. */
export class FastTextModelError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`fastText model ${file}: ${message}`);
    this.name = "FastTextModelError";
  }
}
