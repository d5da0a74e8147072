// Expand input arguments (files, folders, glob patterns) into a sorted list of files. Node 20 has no fs.glob,
// so this is a small matcher: `*` and `?` within one path segment, `**` across segments, `[abc]`, `{a,b}`.
import { readdir, stat } from "node:fs/promises";
import { join, resolve, sep, relative, dirname } from "node:path";
import { isDataFile } from "./format.js";

const GLOB_CHARS = /[*?[\]{}]/;

/** Turn one glob segment sequence (already relative to the base folder, "/"-separated) into a RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  let i = 0;
  let braces = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        // "**/" matches zero or more folders; a trailing "**" matches everything below.
        if (pattern[i + 2] === "/") {
          re += "(?:.*/)?";
          i += 3;
        } else {
          re += ".*";
          i += 2;
        }
        continue;
      }
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) {
        re += "\\[";
      } else {
        let body = pattern.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += `[${body}]`;
        i = end;
      }
    } else if (c === "{") {
      braces++;
      re += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (c === "," && braces > 0) {
      re += "|";
    } else {
      re += c.replace(/[.+^$()|\\]/g, "\\$&");
    }
    i++;
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    // Temporary files of an unfinished write (".tmp-…") and hidden files are never inputs.
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
}

async function kind(p: string): Promise<"file" | "dir" | null> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? "dir" : "file";
  } catch {
    return null;
  }
}

async function expandOne(pattern: string): Promise<string[]> {
  const k = await kind(pattern);
  if (k === "file") return [pattern];
  if (k === "dir") {
    // A folder means every data file below it (Parquet, JSONL(.gz/.zst), Arrow).
    const all: string[] = [];
    await walk(pattern, all);
    return all.filter(isDataFile);
  }
  if (!GLOB_CHARS.test(pattern)) return [];
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((s) => GLOB_CHARS.test(s));
  const baseParts = parts.slice(0, firstGlob);
  const base = baseParts.length === 0 ? "." : baseParts.join("/") || "/";
  if ((await kind(base)) !== "dir") return [];
  const re = globToRegExp(parts.slice(firstGlob).join("/"));
  const all: string[] = [];
  await walk(base, all);
  return all.filter((p) => re.test(relative(base, p).split(sep).join("/")));
}

/** Expand files, folders and glob patterns into a sorted, de-duplicated file list. Throws when nothing matches
 * (naming the patterns), because an empty input is almost always a typo and would otherwise "succeed" silently;
 * likewise when a plain path (no glob characters) names nothing, even if other patterns match. */
export async function expandInputs(patterns: string[]): Promise<string[]> {
  if (patterns.length === 0) throw new Error("no input given");
  const seen = new Map<string, string>();
  const missing: string[] = [];
  for (const pat of patterns) {
    const files = await expandOne(pat);
    if (files.length === 0 && !GLOB_CHARS.test(pat) && (await kind(pat)) === null) missing.push(pat);
    for (const f of files) {
      const key = resolve(f);
      if (!seen.has(key)) seen.set(key, f);
    }
  }
  if (missing.length) {
    throw new Error(`no input files match ${missing.map((p) => JSON.stringify(p)).join(", ")}: no such file or folder`);
  }
  if (seen.size === 0) {
    throw new Error(`no input files match ${patterns.map((p) => JSON.stringify(p)).join(", ")}`);
  }
  // Sort by resolved path so shard i/N picks the same files whatever spelling or order the patterns used.
  return [...seen.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, f]) => f);
}

/** The deepest folder holding every path (absolute paths in; the filesystem root when they share nothing). */
export function commonFolder(paths: string[]): string {
  if (!paths.length) return "";
  let parts = dirname(paths[0]).split(sep);
  for (const p of paths.slice(1)) {
    const q = dirname(p).split(sep);
    let k = 0;
    while (k < parts.length && k < q.length && parts[k] === q[k]) k++;
    parts = parts.slice(0, k);
  }
  return parts.join(sep) || sep;
}
