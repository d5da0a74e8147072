// Nothing is ever half-written under a final name: write to a temporary sibling, fsync, rename.
import { open, rename, rm, mkdir } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";

/** Temporary name next to `finalPath` (same folder, so rename is atomic). Starts with ".tmp-" so that
 * listings and resume logic can recognise and delete leftovers of a killed run. */
export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.tmp-${basename(finalPath)}.${process.pid}.${randomBytes(4).toString("hex")}`);
}

export function isTempName(name: string): boolean {
  return name.startsWith(".tmp-");
}

/** Write bytes or text to `path` atomically (temp + fsync + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

/** Rename a finished temp file to its final name (after the caller has fsynced and closed it). */
export async function commitFile(tmp: string, finalPath: string): Promise<void> {
  await rename(tmp, finalPath);
}
