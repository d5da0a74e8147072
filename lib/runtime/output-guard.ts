// What a command may touch in its output folder: only what it created. Three rules, each checked before anything is
// written:
// 1. The output folder must not hold an input (directly or below, through symlinks too): every output name could
//    otherwise replace or delete an input, and a second stage run "in place" would read its own outputs.
// 2. An output name is always a plain file name inside the output folder: never "", ".", "..", hidden, or too long,
//    whatever the input was called.
// 3. Before a file is (re)computed, a final-named file in its slot (NAME.parquet, NAME-00003.jsonl, …) is removed
//    only when megamath made it: listed by the file's completion marker, or claimed by an attempt that was killed
//    (a claim is written before the first output byte and dropped once the marker is written). Anything else in
//    the way stops the run with a message; temp names (".tmp-NAME….PID.HEX") of this slot are always removed.
import { readdir, realpath, rm, access, mkdir, constants } from "node:fs/promises";
import { join, resolve, sep, basename, dirname } from "node:path";
import { createHash } from "node:crypto";
import { isTempName, writeFileAtomic } from "../io/atomic.js";

/** Raised when the output folder cannot be used as asked; stops the run even under --on-error skip. */
export class OutputFolderError extends Error {}

/** Refuse an output folder that holds one of the inputs (compared by real path, so symlinks cannot hide it). */
export async function refuseOutputHoldingInputs(outDir: string, inputs: string[]): Promise<void> {
  let realOut: string;
  try {
    realOut = await realpath(outDir);
  } catch {
    return; // does not exist yet: holds nothing
  }
  const prefix = realOut.endsWith(sep) ? realOut : realOut + sep;
  for (const input of inputs) {
    let realIn: string;
    try {
      realIn = await realpath(input);
    } catch {
      realIn = resolve(input);
    }
    if (realIn.startsWith(prefix)) {
      const where = dirname(realIn) === realOut ? "is in" : "is below";
      throw new OutputFolderError(
        `output folder ${outDir} holds an input: ${input} ${where} it. megamath never writes where its inputs are ` +
        `(an output or a clean-up could replace or delete them); choose another --output folder`);
    }
  }
}

// Longest output name kept as is (bytes); longer ones are cut and end in a hash, so every name stays under the
// 255-byte file name limit with room for "-00000.jsonl.gz" and the temp prefix and suffix.
const MAX_NAME_BYTES = 180;

/** A name that is safe as a file name inside the output folder: only [A-Za-z0-9._=-], not hidden, not "." or "..",
 * at most MAX_NAME_BYTES long (cut names end in 12 hex digits of the full name's hash). */
export function safeOutputName(name: string, fallback: string): string {
  let n = name.replace(/[^A-Za-z0-9._=-]/g, "_");
  if (n === "") n = fallback;
  // A leading dot would make it hidden (listings skip it, and ".tmp-" marks temp files) and "." / ".." leave the folder.
  if (n.startsWith(".")) n = "_" + n.slice(1);
  if (n.length > MAX_NAME_BYTES) {
    const h = createHash("sha256").update(name).digest("hex").slice(0, 12);
    n = `${n.slice(0, MAX_NAME_BYTES - 13)}_${h}`;
  }
  return n;
}

/** Throw unless `outDir/name` + any extension is a direct child of outDir (a last line of defence). */
export function assertInside(outDir: string, name: string): void {
  const p = resolve(outDir, name + ".x");
  if (dirname(p) !== resolve(outDir) || basename(p) !== name + ".x") {
    throw new OutputFolderError(`output name "${name}" would leave the output folder ${outDir} (this is a bug)`);
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Final names of one output slot: NAME.ext or NAME-ddddd.ext. */
function slotPattern(outName: string): RegExp {
  return new RegExp(`^${esc(outName)}(-\\d{5})?\\.(parquet|jsonl|jsonl\\.gz|arrow)$`);
}

/** Temp names the writer and writeFileAtomic give a final name F: ".tmp-F.PID.HEX8". */
function tempOf(name: string): string | null {
  if (!isTempName(name)) return null;
  const m = /^\.tmp-(.*)\.\d+\.[0-9a-f]{8}$/.exec(name);
  return m ? m[1] : null;
}

function claimPath(markerDir: string, outName: string): string {
  return join(markerDir, `${outName}.claim`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Make one output slot ready for a new attempt: delete this slot's temp files and the final-named files megamath made
 * (listed in `madeBefore`, the previous completion marker's outputs, or covered by a claim of a killed attempt);
 * refuse when another file is in the way; then claim the slot.
 */
export async function claimSlot(outDir: string, markerDir: string, outName: string, madeBefore: string[] = []): Promise<void> {
  const part = slotPattern(outName);
  const claimed = await exists(claimPath(markerDir, outName));
  const ours = new Set(madeBefore);
  const names = await readdir(outDir);
  const inTheWay = names.filter((n) => part.test(n) && !claimed && !ours.has(n));
  if (inTheWay.length) {
    throw new OutputFolderError(
      `${join(outDir, inTheWay[0])} is in the way of this run's output and was not written by megamath here ` +
      `(no completion marker lists it); megamath does not replace files it did not create: move it away or choose another --output folder`);
  }
  for (const n of names) {
    const t = tempOf(n);
    if ((t !== null && part.test(t)) || (part.test(n) && (claimed || ours.has(n)))) await rm(join(outDir, n), { force: true });
  }
  await writeFileAtomic(claimPath(markerDir, outName), JSON.stringify({ pid: process.pid, started: new Date().toISOString() }) + "\n");
}

/** The slot's outputs are recorded by its completion marker: the claim is no longer needed. */
export async function releaseSlot(markerDir: string, outName: string): Promise<void> {
  await rm(claimPath(markerDir, outName), { force: true });
}

/** Make the output folder, or say why it cannot be written (naming the folder up the path that refused). */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (e) {
    let code = (e as NodeJS.ErrnoException).code;
    // A recursive mkdir under a read-only or forbidden folder reports ENOENT: name the folder that refused, and why.
    let at = "";
    if (code === "ENOENT") {
      for (let up = dirname(dir); ; up = dirname(up)) {
        try {
          await access(up, constants.F_OK);
        } catch {
          if (up !== dirname(up)) continue;
        }
        try {
          await access(up, constants.W_OK);
        } catch (e2) {
          code = (e2 as NodeJS.ErrnoException).code ?? code;
          at = ` (at ${up})`;
        }
        break;
      }
    }
    const why: Record<string, string> = {
      EACCES: "permission denied", EPERM: "permission denied", EROFS: "read-only file system",
      ENOTDIR: "a part of the path is a file, not a folder", ENOENT: "a part of the path does not exist and cannot be made",
      EEXIST: "a file of that name is in the way", ENOSPC: "the disk is full",
    };
    throw new Error(`output folder ${dir} is not writable${at}: ${code && why[code] ? `${why[code]} (${code})` : code ?? (e as Error).message}`);
  }
}
