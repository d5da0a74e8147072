// Expand input arguments (files, folders, glob patterns) into a sorted list of files. Node 20 has no fs.glob,
// so this is a small matcher: `*` and `?` within one path segment, `**` across segments, `[abc]`, `{a,b}`.
import { readdir, stat, realpath } from "node:fs/promises";
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

/** Files megamath writes next to its documents (stats, reports, manifests): never documents themselves. */
const OWN_FILE = /^(stats(\.shard-\d+-of-\d+)?\.json|report\.json|mixture\.json|manifest\.json|.+\.manifest\.json)$/;
/** Side folders of a command's output folder (one holding a `.done/` marker folder): reports, work files, failures. */
const OWN_DIR = new Set(["decont-report", "dedup-work", "failures", "launch"]);

/** Whether a name in `dir` is one of megamath's own files or folders rather than input data. */
function isOwnEntry(name: string, isDir: boolean, outputFolder: boolean): boolean {
  if (name.startsWith(".")) return true; // markers (.done/), temp files (.tmp-…), journals, locks, hidden files
  return isDir ? outputFolder && OWN_DIR.has(name) : OWN_FILE.test(name);
}

interface Walk {
  out: string[];
  /** Real paths of the folders already walked: a symlink loop (or two links to one folder) is walked once. */
  seen: Set<string>;
  /** Files and folders left out because megamath made them. */
  leftOut: number;
}

async function walk(dir: string, w: Walk): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch {
    return; // a dangling link
  }
  if (w.seen.has(real)) return;
  w.seen.add(real);
  const entries = await readdir(dir, { withFileTypes: true });
  const outputFolder = entries.some((e) => e.name === ".done" && e.isDirectory());
  for (const e of entries) {
    const p = join(dir, e.name);
    // A symlink counts as what it points to, so a linked sub-folder is walked like a real one.
    const k = e.isSymbolicLink() ? await kind(p) : e.isDirectory() ? "dir" : e.isFile() ? "file" : null;
    if (k === null) continue;
    if (isOwnEntry(e.name, k === "dir", outputFolder)) {
      if (!e.name.startsWith(".") || e.name === ".done") w.leftOut++;
      continue;
    }
    if (k === "dir") await walk(p, w);
    else w.out.push(p);
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

async function expandOne(pattern: string): Promise<{ files: string[]; leftOut: number }> {
  const k = await kind(pattern);
  if (k === "file") return { files: [pattern], leftOut: 0 }; // a file named on its own is taken as it is
  const w: Walk = { out: [], seen: new Set(), leftOut: 0 };
  if (k === "dir") {
    // A folder means every data file below it (Parquet, JSONL(.gz/.zst), Arrow), megamath's own files left out.
    await walk(pattern, w);
    return { files: w.out.filter(isDataFile), leftOut: w.leftOut };
  }
  if (!GLOB_CHARS.test(pattern)) return { files: [], leftOut: 0 };
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((s) => GLOB_CHARS.test(s));
  const baseParts = parts.slice(0, firstGlob);
  const base = baseParts.length === 0 ? "." : baseParts.join("/") || "/";
  if ((await kind(base)) !== "dir") return { files: [], leftOut: 0 };
  const re = globToRegExp(parts.slice(firstGlob).join("/"));
  await walk(base, w);
  return { files: w.out.filter((p) => re.test(relative(base, p).split(sep).join("/"))), leftOut: w.leftOut };
}

/** What one input argument expanded to. */
export interface InputExpansion {
  pattern: string;
  /** Files it matched (before de-duplication across arguments). */
  files: number;
  /** Files and folders under it left out because megamath wrote them (markers, stats, reports, work folders). */
  leftOut: number;
}

/** Expand files, folders and glob patterns into a sorted, de-duplicated file list. Throws when nothing matches
 * (naming the patterns), because an empty input is almost always a typo and would otherwise "succeed" silently;
 * likewise when a plain path (no glob characters) names nothing, even if other patterns match. Folders and globs
 * follow symlinked folders (each real folder once) and leave out megamath's own files; `perPattern` receives how
 * many files each argument gave. */
export async function expandInputs(patterns: string[], perPattern?: (e: InputExpansion) => void): Promise<string[]> {
  if (patterns.length === 0) throw new Error("no input given");
  const seen = new Map<string, string>();
  const missing: string[] = [];
  for (const pat of patterns) {
    const { files, leftOut } = await expandOne(pat);
    perPattern?.({ pattern: pat, files: files.length, leftOut });
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
