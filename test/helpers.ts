// Shared test helpers: where the real data lives, and throwaway folders.
import { mkdtempSync, rmSync, mkdirSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A path under ../shared/data (real third-party data, see its PROVENANCE.md files). Override with
 * MEGAMATH_SHARED_DATA when the checkout sits elsewhere. */
export function sharedData(...parts: string[]): string {
  const base = process.env.MEGAMATH_SHARED_DATA ?? resolve(repoRoot, "..", "shared", "data");
  return join(base, ...parts);
}

// Folders made by tmpDir, removed by one exit listener (one listener per folder tripped Node's
// MaxListenersExceededWarning in files that make more than ten).
const tmpDirs = new Set<string>();
let removeOnExit = false;

/** A fresh temporary folder, removed when the test process exits. */
export function tmpDir(prefix = "megamath-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.add(d);
  if (!removeOnExit) {
    removeOnExit = true;
    process.on("exit", () => {
      for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  return d;
}

/** A fresh tmpfs of `size` (e.g. "256k") mounted under a temporary folder, for disk-full tests; null (with the
 * reason) when this process may not mount one. Call `unmount` in a finally block. */
export function mountTinyTmpfs(size: string): { path: string; unmount: () => void } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: "needs root to mount a tmpfs" };
  const path = join(tmpDir(), "small");
  mkdirSync(path);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", path], { stdio: "ignore" });
  } catch {
    return { skip: "mount not permitted here" };
  }
  return { path, unmount: () => execFileSync("umount", [path]) };
}

/** The records of a gzipped JSONL file under ../shared/data (blank lines skipped). */
export function sharedJsonl(...parts: string[]): Record<string, unknown>[] {
  return readGzJsonl(sharedData(...parts));
}

export function readGzJsonl(path: string): Record<string, unknown>[] {
  return gunzipSync(readFileSync(path)).toString("utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/** Open file descriptors of this process that point at `path` (Linux /proc; for tests that no reader leaks a file). */
export function fdsOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

/** A skip reason where /proc/self/fd cannot be listed, else false. */
export const noProcFds: string | false = (() => {
  try {
    readdirSync("/proc/self/fd");
    return false;
  } catch {
    return "no /proc/self/fd here";
  }
})();
