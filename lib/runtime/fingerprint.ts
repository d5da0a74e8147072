// Fingerprints: what an output was made from, as one hash. A task's fingerprint hashes the step's name and code
// version, its identity-relevant settings, and the fingerprint of everything it read. A task is done only when the
// fingerprint stored in its marker equals the one computed now, so a change anywhere upstream reaches every output
// downstream of it.
//
// Reading a file that a megamath task wrote: its fingerprint is the one in that task's marker (plus the file's name
// within the task), not a hash of its bytes. That is what makes identity flow downstream (a new classifier gives
// model.bin a new fingerprint, so every score output gets one, so every filter output, …) and it costs nothing.
// The marker's fingerprint is trusted only while the file still has the size and modification time the marker
// recorded; a file replaced after its marker was written falls back to the content fingerprint below.
//
// Any other file (a corpus, a benchmark index, a user's model): a cheap content fingerprint, never a full read of a
// possibly huge input. It is size + modification time (ms) + sha256 of either the Parquet footer (a file ending in
// "PAR1": the footer holds every row group's offsets, sizes and column statistics) or, for any other format, of the
// first and last MiB. Replacing a file with other content under the same name changes the modification time and, for
// almost any edit, the size or the hashed bytes too; `touch` alone makes the outputs be redone (safe, never stale).
import { createHash } from "node:crypto";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { isTempName } from "../io/atomic.js";

/** Where task markers live inside an output folder (one JSON file per task). */
export const MARKER_DIR = ".done";
/** Bumped when the meaning of a fingerprint changes, so every old marker is redone once. */
export const FINGERPRINT_VERSION = 1;
const MIB = 1 << 20;

export interface FileStamp {
  size: number;
  mtimeMs: number;
}

export async function stampOf(path: string): Promise<FileStamp> {
  const s = await stat(path);
  return { size: s.size, mtimeMs: Math.floor(s.mtimeMs) };
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp): boolean {
  return a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** sha256 (hex, 32 chars) of a JSON-serialisable value: the one hash every fingerprint is made of. */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 32);
}

export interface TaskIdentity {
  /** The step (command) name. */
  step: string;
  /** Bump when the step's code changes what it writes for the same inputs (default "1"). */
  codeVersion?: string;
  /** Every setting that can change an output (a string or any JSON value; key order is the caller's). */
  settings: unknown;
  /** Fingerprints of everything the task read, in a stable order (see fingerprintFile/fingerprintPath). */
  reads: string[];
}

/** The fingerprint of one task's output. */
export function taskFingerprint(t: TaskIdentity): string {
  return hashOf([FINGERPRINT_VERSION, t.step, t.codeVersion ?? "1", t.settings, t.reads]);
}

/** The content fingerprint of a file: size + mtime + sha256 of its Parquet footer, or of its first and last MiB. */
export async function contentFingerprint(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const s = await fh.stat();
    const h = createHash("sha256").update(`${s.size}:${Math.floor(s.mtimeMs)}:`);
    const tail = Buffer.alloc(Math.min(8, s.size));
    if (s.size >= 12) await fh.read(tail, 0, 8, s.size - 8);
    const footerLen = s.size >= 12 && tail.subarray(4).toString("latin1") === "PAR1" ? tail.readUInt32LE(0) : -1;
    if (footerLen >= 0 && footerLen + 8 <= s.size) {
      h.update("parquet-footer:");
      h.update(await readAt(fh, s.size - 8 - footerLen, footerLen + 8));
    } else {
      h.update("head-tail:");
      h.update(await readAt(fh, 0, Math.min(MIB, s.size)));
      if (s.size > MIB) h.update(await readAt(fh, Math.max(MIB, s.size - MIB), Math.min(MIB, s.size - MIB)));
    }
    return h.digest("hex").slice(0, 32);
  } finally {
    await fh.close();
  }
}

async function readAt(fh: import("node:fs/promises").FileHandle, pos: number, len: number): Promise<Buffer> {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(b, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return b.subarray(0, got);
}

/** What a marker says about the outputs a task wrote (the part of the marker format fingerprints read). */
interface MarkerOutputs {
  fingerprint?: string;
  outputs?: string[];
  stamps?: FileStamp[];
}

/** Per folder: output name (relative to the folder) → the marker's fingerprint and the output's recorded stamp.
 * Cached by the folder's marker-dir mtime, so a long run re-lists a folder only when a marker was added. */
const folderCache = new Map<string, { mtimeMs: number; byOutput: Map<string, { fingerprint: string; stamp?: FileStamp }> }>();

async function markersOf(folder: string): Promise<Map<string, { fingerprint: string; stamp?: FileStamp }>> {
  const dir = join(folder, MARKER_DIR);
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(dir)).mtimeMs;
  } catch {
    return new Map();
  }
  const hit = folderCache.get(folder);
  if (hit && hit.mtimeMs === mtimeMs) return hit.byOutput;
  const byOutput = new Map<string, { fingerprint: string; stamp?: FileStamp }>();
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith(".json") || isTempName(name)) continue;
    let m: MarkerOutputs;
    try {
      m = JSON.parse(await readFile(join(dir, name), "utf8")) as MarkerOutputs;
    } catch {
      continue;
    }
    if (typeof m.fingerprint !== "string" || !Array.isArray(m.outputs)) continue;
    m.outputs.forEach((o, i) => byOutput.set(o, { fingerprint: m.fingerprint!, stamp: m.stamps?.[i] }));
  }
  folderCache.set(folder, { mtimeMs, byOutput });
  return byOutput;
}

/** The fingerprint of a file some task reads: its producing task's marker fingerprint when a megamath task wrote it
 * (and it is unchanged since), else its content fingerprint. */
export async function fingerprintFile(path: string): Promise<string> {
  const abs = resolve(path);
  const stamp = await stampOf(abs);
  // An output sits in the task's folder, or one level down (mix writes SOURCE/SOURCE.bin under its folder).
  for (const [folder, rel] of [[dirname(abs), basename(abs)], [dirname(dirname(abs)), join(basename(dirname(abs)), basename(abs))]]) {
    const rec = (await markersOf(folder)).get(rel);
    if (rec && (rec.stamp === undefined || sameStamp(rec.stamp, stamp))) return hashOf(["output", rec.fingerprint, rel]);
  }
  return hashOf(["content", await contentFingerprint(abs)]);
}

/** The fingerprint of a file or a folder (every non-temp file under it except markers, by relative name). */
export async function fingerprintPath(path: string): Promise<string> {
  const abs = resolve(path);
  let isDir: boolean;
  try {
    isDir = (await stat(abs)).isDirectory();
  } catch {
    // A missing model or index: the task that needs it fails with its own clear error; the fingerprint must not.
    return hashOf(["missing", abs]);
  }
  if (!isDir) return fingerprintFile(abs);
  const parts: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (isTempName(e.name) || e.name === MARKER_DIR) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(dir, e.name), r);
      else if (e.isFile()) parts.push(`${r}=${await fingerprintFile(join(dir, e.name))}`);
    }
  };
  await walk(abs, "");
  return hashOf(["folder", parts]);
}
