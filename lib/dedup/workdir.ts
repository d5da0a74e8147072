// Layout of a dedup work folder, shared by the four stages (which may run on different machines that see the
// same folder):
//   dedup.json                              params + the sorted input list (document identity = (file index, row))
//   signatures/band-BBB/fFFFFFF-pPPP.sig    stage 1: band keys sorted by (key, row), one sorted run per part
//   signatures/priorities/fFFFFFF.prio      stage 1: keep-column value per row (float64)
//   signatures/ids/fFFFFFF.ids              stage 1: the id of every row (ids.ts)
//   signatures/.done/fFFFFFF.json           stage 1's task-loop marker for input file F (its SignatureDone: parts + sha256)
//   pairs/band-BBB.pairs                    stage 2: duplicate pairs (fileA, rowA, fileB, rowB) of band B
//   clusters/fFFFFFF.dups                   stage 3: (row, cluster, keep) for every clustered row of file F
//   clusters/clusters.jsonl, done.json      stage 3: clusters sidecar and completion marker
// A reference index (against.ts) is a stage-1 folder of the reference corpus plus
//   index/band-BBB.keys                     each band's distinct keys (hi, lo, file, row), first document per key
//   index/index.json                        its params, inputs and per-band digests
import { readFile, readdir, rm, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { writeFileAtomic, isTempName } from "../io/atomic.js";
import { fingerprintFile } from "../runtime/fingerprint.js";
import type { StageStats } from "../runtime/stats.js";
import { DEDUP_FORMAT_VERSION, type DedupParams, checkParams, describeParams, sameParams } from "./params.js";

const pad = (n: number, w: number) => String(n).padStart(w, "0");

export const paths = {
  manifest: (work: string) => join(work, "dedup.json"),
  bandDir: (work: string, band: number) => join(work, "signatures", `band-${pad(band, 3)}`),
  sigPart: (work: string, band: number, file: number, part: number) =>
    join(work, "signatures", `band-${pad(band, 3)}`, `f${pad(file, 6)}-p${pad(part, 3)}.sig`),
  priorities: (work: string, file: number) => join(work, "signatures", "priorities", `f${pad(file, 6)}.prio`),
  ids: (work: string, file: number) => join(work, "signatures", "ids", `f${pad(file, 6)}.ids`),
  survivorIds: (work: string, file: number) => join(work, "clusters", `f${pad(file, 6)}.survivor-ids`),
  /** Stage 1's task-loop marker of input F (its SignatureDone under "signature"). */
  sigDone: (work: string, file: number) => join(work, "signatures", ".done", `f${pad(file, 6)}.json`),
  pairs: (work: string, band: number) => join(work, "pairs", `band-${pad(band, 3)}.pairs`),
  dups: (work: string, file: number) => join(work, "clusters", `f${pad(file, 6)}.dups`),
  clustersSidecar: (work: string) => join(work, "clusters", "clusters.jsonl"),
  clustersDone: (work: string) => join(work, "clusters", "done.json"),
  indexBand: (index: string, band: number) => join(index, "index", `band-${pad(band, 3)}.keys`),
  indexManifest: (index: string) => join(index, "index", "index.json"),
};

/** What a stage run did: its stats, and the pieces (files, bands) it did and skipped. */
export interface StageRunResult {
  stats: StageStats;
  done: number[];
  skipped: number[];
}

export interface InputEntry {
  /** The path as the stage-1 command saw it. */
  path: string;
  size: number;
  /** lib/runtime/fingerprint.ts: the producing task's fingerprint, or a cheap content fingerprint. Replacing an
   * input, or redoing the step that wrote it, changes it; stage 1 then redoes that file and stages 2-4 follow. */
  fingerprint?: string;
}

export interface WorkManifest {
  version: number;
  params: DedupParams;
  inputs: InputEntry[];
  /** Dedup against a reference index (against.ts): its documents are file ids inputs.length + i, always kept. */
  against?: AgainstEntry;
}

export interface AgainstEntry {
  /** The index folder (absolute). */
  index: string;
  /** index.json's digest, and each band file's sha256 (stage 2's input). */
  digest: string;
  bands: string[];
  /** The reference corpus's input paths, by file id. */
  inputs: string[];
  docs: number;
}

/** index/index.json of a reference index (against.ts). */
export interface IndexManifest {
  version: number;
  params: DedupParams;
  inputs: string[];
  docs: number;
  /** sha256 of each band's key file. */
  bands: string[];
  /** Distinct keys per band. */
  keys: number[];
  digest: string;
}

/** Stages 2-4: the index a work folder names must still be the one it named (not rebuilt from other data since). */
export async function checkAgainst(work: string, a: AgainstEntry | undefined): Promise<void> {
  if (!a) return;
  const ix = await readJson<IndexManifest>(paths.indexManifest(a.index));
  if (ix?.digest !== a.digest) {
    throw new Error(`the reference index ${a.index} ${ix ? "was rebuilt" : "is gone"} since stage 1 of ${work} named it; ` +
      `rerun stage 1 (dedup-signatures --against) to record the current one`);
  }
}

/** Path of document file id `file`: one of the inputs, or a reference input after them. */
export function docFilePath(m: WorkManifest, file: number): string {
  return file < m.inputs.length ? m.inputs[file].path : m.against!.inputs[file - m.inputs.length];
}

/** Stage 1's record of one input file: what it read and which files it wrote. */
export interface SignatureDone {
  file: number;
  path: string;
  size: number;
  /** The input's fingerprint when it was signed (absent: from before this field, redone). */
  fingerprint?: string;
  /** The params the signatures were made with (a marker without them is from before this field: redone). */
  params?: DedupParams;
  /** Rows read (document identity runs over 0..docs-1). */
  docs: number;
  signed: number;
  tooShort: number;
  failed: number;
  bytes: number;
  parts: { band: number; part: number; records: number; sha256: string }[];
  priorities: { records: number; sha256: string } | null;
  /** The rows' ids (ids.ts); absent in markers from before dup_of_id: redone. */
  ids?: { records: number; sha256: string };
}

export async function describeInputs(inputs: string[]): Promise<InputEntry[]> {
  return Promise.all(inputs.map(async (p) => ({ path: p, size: (await stat(p)).size, fingerprint: await fingerprintFile(p) })));
}

/** Create dedup.json, or check that the existing one has the same params and inputs. Every stage-1 shard calls
 * this; they all write the same bytes, so the race between them is harmless. With `force` (recompute everything),
 * a manifest describing other params is replaced instead of refused. A manifest of other inputs (other content, or
 * a changed list: an upstream step was redone) is replaced: each file's signatures are then checked against the new
 * fingerprints, and stages 2-4 check digests of stage 1's output, so nothing stale survives. */
export async function initWorkDir(work: string, params: DedupParams, inputs: string[], force = false,
  against?: AgainstEntry): Promise<WorkManifest> {
  const manifest: WorkManifest = {
    version: DEDUP_FORMAT_VERSION, params: checkParams(params), inputs: await describeInputs(inputs), ...(against ? { against } : {}),
  };
  const existing = await readWorkManifest(work, false);
  if (existing) {
    try {
      checkSameRun(work, existing, manifest);
      return existing;
    } catch (e) {
      if (!force && !(e instanceof InputsChanged)) throw e;
    }
  }
  await writeFileAtomic(paths.manifest(work), JSON.stringify(manifest, null, 1) + "\n");
  return manifest;
}

function checkSameRun(work: string, have: WorkManifest, want: WorkManifest): void {
  const where = paths.manifest(work);
  if (!sameParams(have.params, want.params)) {
    throw new Error(`${where} was made with ${describeParams(have.params)}, this run asks for ` +
      `${describeParams(want.params)}; use another --work-dir or delete that folder`);
  }
  if (have.against?.digest !== want.against?.digest) {
    throw new InputsChanged(`the reference index changed (${have.against?.index ?? "none"} -> ${want.against?.index ?? "none"})`);
  }
  try {
    checkSameInputs(work, have.inputs, want.inputs.map((e) => e.path), want.inputs.map((e) => e.size), want.inputs.map((e) => e.fingerprint));
  } catch (e) {
    throw new InputsChanged((e as Error).message);
  }
}

class InputsChanged extends Error {}

/** Stage 4 (and stage 1 shards) must see exactly stage 1's input list: same count, order, names and sizes. */
export function checkSameInputs(work: string, have: InputEntry[], paths_: string[], sizes?: number[], fingerprints?: (string | undefined)[]): void {
  const where = paths.manifest(work);
  if (have.length !== paths_.length) {
    throw new Error(`${where} lists ${have.length} input files, this run has ${paths_.length}; dedup stages must ` +
      `all read the same inputs`);
  }
  for (let i = 0; i < have.length; i++) {
    const same = have[i].path === paths_[i] || resolve(have[i].path) === resolve(paths_[i]) ||
      basename(have[i].path) === basename(paths_[i]);
    if (!same || (sizes && sizes[i] !== have[i].size) || (fingerprints?.[i] !== undefined && fingerprints[i] !== have[i].fingerprint)) {
      throw new Error(`input ${i} is ${paths_[i]}${sizes ? ` (${sizes[i]} bytes)` : ""} but ${where} has ` +
        `${have[i].path} (${have[i].size} bytes); dedup stages must all read the same inputs`);
    }
  }
}

export async function readWorkManifest(work: string, required = true): Promise<WorkManifest | null> {
  let text: string;
  try {
    text = await readFile(paths.manifest(work), "utf8");
  } catch {
    if (!required) return null;
    throw new Error(`${paths.manifest(work)} not found: run stage 1 (megamath dedup-signatures) with this --work-dir first`);
  }
  const m = JSON.parse(text) as WorkManifest;
  if (m.version !== DEDUP_FORMAT_VERSION) {
    throw new Error(`${paths.manifest(work)} has format version ${m.version}, this megamath uses ${DEDUP_FORMAT_VERSION}`);
  }
  return m;
}

export async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return null;
  }
}

/** Stage 1's record of input file f (from its task-loop marker), or null when stage 1 has not finished it. */
export async function readSignatureDone(work: string, f: number): Promise<SignatureDone | null> {
  const m = await readJson<{ version?: number; signature?: SignatureDone }>(paths.sigDone(work, f));
  return m?.version === 2 && m.signature ? m.signature : null;
}

/** Stage-1 completion markers of every input, or an error naming the files stage 1 has not finished. */
export async function readAllSignatureDone(work: string, m: WorkManifest): Promise<SignatureDone[]> {
  const done = await Promise.all(m.inputs.map((_, i) => readSignatureDone(work, i)));
  const missing = done.map((d, i) => (d ? -1 : i)).filter((i) => i >= 0);
  if (missing.length) {
    const eg = missing.slice(0, 3).map((i) => m.inputs[i].path).join(", ");
    throw new Error(`stage 1 (dedup-signatures) has not finished ${missing.length} of ${m.inputs.length} input ` +
      `files (e.g. ${eg}); run it for every shard first`);
  }
  return done as SignatureDone[];
}

/** Delete leftovers of a killed attempt at one piece: temp files whose name contains `stem`. */
export async function removeTemps(dir: string, stem: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => isTempName(n) && n.includes(stem)).map((n) => rm(join(dir, n), { force: true })));
}
