// The output name each input file gets: one rule for every step and shard, so shards agree without talking and a
// file's outputs, markers and temp names can be found from its name alone.
import { resolve, sep } from "node:path";
import { commonFolder } from "../io/glob.js";
import { safeOutputName } from "./output-guard.js";

/** Output base names for input files, unique across the whole (unsharded) input list so every shard agrees. */
export function outputNames(files: string[]): Map<string, string> {
  const abs = files.map((f) => resolve(f));
  const root = commonFolder(abs);
  const names = new Map<string, string>();
  const used = new Set<string>();
  // A writer numbers its parts NAME-00000, NAME-00001, …: so NAME must not clash with another input named
  // NAME-00001 (its output would be overwritten, or deleted as a stale part of NAME).
  const PART = /-\d{5}$/;
  const stems = new Set<string>(); // NAME of every used name that looks like NAME-ddddd
  const clashes = (n: string) => used.has(n) || stems.has(n) || (PART.test(n) && used.has(n.replace(PART, "")));
  abs.forEach((a, i) => {
    let rel = a.slice(root.length).replace(/^[\\/]+/, "");
    rel = rel.replace(/\.(parquet|arrow|ipc|feather|jsonl|json|ndjson)(\.(gz|zst|zstd))?$/i, "");
    let name = safeOutputName(rel.split(sep).join("__"), `input-${i}`);
    while (clashes(name)) name += "_";
    used.add(name);
    if (PART.test(name)) stems.add(name.replace(PART, ""));
    names.set(files[i], name);
  });
  return names;
}
