// What the build tests share: the megamath command as a child process, and a digest of a folder's data files.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { repoRoot } from "../helpers.js";

export const cli = ["--import", "tsx", join(repoRoot, "cli/main.ts")];

export function megamath(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [...cli, ...args], { cwd: repoRoot, encoding: "utf8", maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Hash of every data file under a folder (not stats, markers or logs, which hold timings and paths). */
export function digestTree(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.name.startsWith(".")) continue;
      if (e.isDirectory()) walk(p);
      else if (/\.(parquet|bin|idx)$/.test(e.name)) {
        h.update(p.slice(dir.length));
        h.update(readFileSync(p));
      }
    }
  };
  walk(dir);
  return h.digest("hex");
}
