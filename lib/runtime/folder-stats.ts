// `megamath stats DIR`, the report and tests: the exact totals of a step's folder, merged from the task markers of
// all its shards, whichever step (or fused pass) wrote them.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { MARKER_DIR, readFolderMarkers } from "./task-loop.js";
import { mergeRunStats, type RunStatsJSON } from "./stats.js";

/** Merge the stats of every task marker in a folder (exact across shards), whichever step wrote it, with the files
 * that failed (named by each shard's last run) and have not been done since. */
export async function mergeFolderStats(dir: string): Promise<RunStatsJSON & { commands: string[]; markers: number; filesFailed: { file: string; error: string }[] }> {
  if (!existsSync(join(dir, MARKER_DIR))) {
    throw new Error(`${dir} has no ${MARKER_DIR}/ folder: not the output folder of a megamath command`);
  }
  const markers = await readFolderMarkers(dir);
  const commands = [...new Set(markers.map((m) => m.step))];
  const done = new Set(markers.flatMap((m) => (m.input ? [resolve(m.input)] : [])));
  const filesFailed: { file: string; error: string }[] = [];
  for (const n of (await readdir(dir)).filter((x) => /^stats\.shard-\d+-of-\d+\.json$/.test(x)).sort()) {
    try {
      const j = JSON.parse(await readFile(join(dir, n), "utf8")) as { filesFailed?: { file: string; error: string }[] };
      for (const f of j.filesFailed ?? []) if (!done.has(resolve(f.file))) filesFailed.push(f);
    } catch {
      // a shard file being rewritten by another task: its failures show in the next merge
    }
  }
  return { ...mergeRunStats(markers.map((m) => m.stats)), commands, markers: markers.length, filesFailed };
}
