// A digest of a folder's files, for the golden-output tests of dedup.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot } from "../helpers.js";

/** One sha256 over the sorted relative paths and contents of the files of `dir` that match `keep`. */
export function treeDigest(dir: string, keep: RegExp): { digest: string; files: number } {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (keep.test(relative(dir, p))) files.push(relative(dir, p));
    }
  };
  walk(dir);
  files.sort();
  const h = createHash("sha256");
  for (const f of files) {
    let bytes = readFileSync(join(dir, f));
    if (f.endsWith("clusters.jsonl")) bytes = Buffer.from(bytes.toString("utf8").replaceAll(repoRoot, "<repo>"));
    h.update(f).update("\0").update(bytes).update("\0");
  }
  return { digest: h.digest("hex"), files: files.length };
}

