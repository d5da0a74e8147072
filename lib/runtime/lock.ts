// One process at a time per output folder and shard: two runs writing the same files would replace each other's
// outputs and delete each other's temp files (one died with a raw "ENOENT … rename .tmp-…"). The lock is a file
// created with O_EXCL holding pid, host and start time. A lock whose process is gone (same host, pid not running)
// is stale and taken over; a live one — or one from another host, which cannot be checked — is refused with
// "DIR is in use by pid N". Shards of one run (--shard i/N) write disjoint files, so each shard has its own lock.
import { open, readFile, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

export interface FolderLock {
  path: string;
  release(): Promise<void>;
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** A lock file that is still empty this long after it was made belongs to a process that died writing it. */
const EMPTY_LOCK_GRACE_MS = 10_000;

export function lockPath(dir: string, shard: { index: number; count: number }): string {
  return join(dir, `.megamath-shard-${shard.index}-of-${shard.count}.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Take the lock of `dir` for this shard, or throw naming the process that holds it. */
export async function lockFolder(dir: string, shard: { index: number; count: number }): Promise<FolderLock> {
  const path = lockPath(dir, shard);
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, "wx");
      try {
        await fh.writeFile(JSON.stringify(me) + "\n");
      } finally {
        await fh.close();
      }
      return { path, release: () => releaseIfMine(path, me) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const held = await readLock(path);
    if (held === "gone") continue;
    if (held === "empty") {
      const age = Date.now() - (await stat(path).then((s) => s.mtimeMs, () => Date.now()));
      if (age < EMPTY_LOCK_GRACE_MS) throw inUse(dir, path, null);
    } else if (held.host !== me.host || alive(held.pid)) {
      throw inUse(dir, path, held);
    }
    await rm(path, { force: true }); // stale: its process is gone
  }
  throw new Error(`could not take the lock ${path} (it keeps coming back); is another megamath writing to ${dir}?`);
}

function inUse(dir: string, path: string, held: LockInfo | null): Error {
  const who = held ? `pid ${held.pid}${held.host !== hostname() ? ` on host ${held.host}` : ""} (since ${held.started})` : "another process (starting)";
  return new Error(`${dir} is in use by ${who}: another megamath run is writing there. Wait for it, or, if it is gone, delete ${path}`);
}

async function readLock(path: string): Promise<LockInfo | "empty" | "gone"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return "gone";
  }
  try {
    const j = JSON.parse(text) as LockInfo;
    return typeof j.pid === "number" ? j : "empty";
  } catch {
    return "empty";
  }
}

async function releaseIfMine(path: string, me: LockInfo): Promise<void> {
  const held = await readLock(path);
  if (typeof held === "object" && held.pid === me.pid && held.started === me.started) await rm(path, { force: true });
}
