// Closing a file stream a reader gave up on. pipe() and Arrow's reader leave the source open (paused, holding its
// fd) when decoding fails or the caller stops early, and destroy() closes the fd later: wait for the close, so no
// fd outlives the read and nothing is still pending when the caller goes on (e.g. removes the folder).
import type { ReadStream } from "node:fs";

export async function closeReadStream(src: ReadStream): Promise<void> {
  if (src.closed) return;
  const closed = new Promise<void>((r) => src.once("close", () => r()));
  src.on("error", () => {}); // the read is over: a late error has no one to report to
  src.destroy();
  await closed;
}
