// Dedup against an existing corpus. A reference index is the reference corpus's stage-1 folder plus, per band, one
// sorted file of its distinct band keys (the first document, by (file, row), of each key): built once
// (`megamath dedup-index`), reused by any number of new corpora, never deduplicated itself.
//
// A new corpus's work folder names the index in dedup.json (stage 1, `--against DIR`); stage 2 merges the index's
// band file as one more sorted run, its documents numbered after the corpus's own files (file id = inputs + i), so
// a new document with a reference key is paired with that reference document; stage 3 pins every reference
// document as a survivor (clusters.ts), so each new document that duplicates the reference is removed and names
// the reference document as its survivor, while the new corpus is deduplicated within itself as usual.
// Memory of the index build: one read buffer per stage-1 run, as stage 2.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { StageStats } from "../runtime/stats.js";
import type { Logger } from "../runtime/log.js";
import { writeFileAtomic } from "../io/atomic.js";
import { DEDUP_FORMAT_VERSION, type DedupParams, describeParams } from "./params.js";
import { RecordFileWriter, readRecordHeader, verifyRecordFile } from "./recordfile.js";
import { runTaskLoop } from "../runtime/task-loop.js";
import { bandInputDigest, bandRuns, mergeRuns } from "./buckets.js";
import { type AgainstEntry, type IndexManifest, paths, readAllSignatureDone, readJson, readWorkManifest } from "./workdir.js";

export type { IndexManifest };

export interface IndexBuildOptions {
  /** A stage-1 folder of the reference corpus (dedup-signatures --work-dir). */
  indexDir: string;
  /** This task builds bands b with b % count == index. */
  shard?: { index: number; count: number };
  force?: boolean;
  log?: Logger;
}

/** Build (or resume) the key files of this shard's bands; the shard that finds every band done writes index.json. */
export interface IndexBuildResult {
  stats: StageStats;
  done: number[];
  skipped: number[];
  /** Set when every band is done (by this shard or others). */
  manifest: IndexManifest | null;
}

export async function buildIndex(o: IndexBuildOptions): Promise<IndexBuildResult> {
  const shard = o.shard ?? { index: 0, count: 1 };
  const m = (await readWorkManifest(o.indexDir))!;
  if (m.against) throw new Error(`${o.indexDir} was itself deduplicated against an index; build the index from a plain stage-1 folder`);
  const done = await readAllSignatureDone(o.indexDir, m);
  const stats = new StageStats("dedup-index");
  const result: IndexBuildResult = { stats, done: [], skipped: [], manifest: null };
  // One task per band on the shared task loop (lib/runtime/task-loop.ts): markers in index/.done/, so a killed build
  // resumes, a redone stage 1 rebuilds the bands whose runs changed, and `megamath stats DIR/index` reads them.
  const tasks = [];
  for (let band = shard.index; band < m.params.bands; band += shard.count) {
    const digest = bandInputDigest(done, band);
    const fingerprint = createHash("sha256").update(`dedup-index:${DEDUP_FORMAT_VERSION}:${digest}`).digest("hex");
    tasks.push({ key: `band-${String(band).padStart(3, "0")}`, fingerprint, band, digest });
  }
  const loop = await runTaskLoop({
    step: "dedup-index", outDir: join(o.indexDir, "index"), tasks, force: o.force, log: o.log, tempSuffixes: [".keys"],
    onSkip: (_, marker) => { for (const st of marker.stats.stages) stats.merge(st); },
    run: async (t) => {
      await rm(paths.indexManifest(o.indexDir), { force: true });
      const w = await RecordFileWriter.create(paths.indexBand(o.indexDir, t.band), {
        kind: "signatures", width: 4, version: DEDUP_FORMAT_VERSION, params: m.params, band: t.band, index: true, inputDigest: t.digest,
      });
      let records: number;
      try {
        let gHi = -1, gLo = -1;
        records = await mergeRuns(await bandRuns(o.indexDir, m, done, t.band), (hi, lo, file, row) => {
          if (hi === gHi && lo === gLo) return;
          gHi = hi; gLo = lo;
          return w.push4(hi, lo, file, row);
        });
      } catch (e) {
        await w.abort();
        throw e;
      }
      const r = await w.close();
      const st = new StageStats("dedup-index");
      st.count("keys", r.records);
      st.count("records", records);
      stats.merge(st);
      o.log?.info(`dedup-index: band ${t.band}: ${records} signatures, ${r.records} distinct keys`);
      return { outputs: [`${t.key}.keys`], stats: { files: 0, stages: [st.toJSON()] } };
    },
  });
  result.done.push(...loop.done.map((d) => d.task.band));
  result.skipped.push(...loop.skipped.map((d) => d.task.band));
  const bands: string[] = [], keys: number[] = [];
  for (let b = 0; b < m.params.bands; b++) {
    try {
      const info = await readRecordHeader(paths.indexBand(o.indexDir, b), "signatures");
      if (info.header.inputDigest !== bandInputDigest(done, b)) return result; // another shard has not redone it yet
      bands.push(await keyFileSha(paths.indexBand(o.indexDir, b)));
      keys.push(info.records);
    } catch {
      return result; // another shard's band is not there yet
    }
  }
  const body = { version: DEDUP_FORMAT_VERSION, params: m.params, inputs: m.inputs.map((e) => e.path),
    docs: done.reduce((a, d) => a + d.docs, 0), bands, keys };
  const manifest: IndexManifest = { ...body, digest: createHash("sha256").update(JSON.stringify(body)).digest("hex") };
  await writeFileAtomic(paths.indexManifest(o.indexDir), JSON.stringify(manifest, null, 1) + "\n");
  result.manifest = manifest;
  return result;
}

/** sha256 of a key file's records (its trailer holds it; verified on the way). */
async function keyFileSha(path: string): Promise<string> {
  const { open } = await import("node:fs/promises");
  await verifyRecordFile(path, "signatures");
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const b = Buffer.alloc(32);
    await fh.read(b, 0, 32, size - 32);
    return b.toString("hex");
  } finally {
    await fh.close();
  }
}

/** The entry a new corpus's dedup.json records for `indexDir`, after checking the index is complete and was made
 * with the same LSH settings (keep column aside: reference documents always win). */
export async function againstEntry(indexDir: string, params: DedupParams): Promise<AgainstEntry> {
  const ix = await readJson<IndexManifest>(paths.indexManifest(indexDir));
  if (!ix) throw new Error(`${paths.indexManifest(indexDir)} not found: build the index first (megamath dedup-index)`);
  if (ix.version !== DEDUP_FORMAT_VERSION) throw new Error(`${indexDir}: index format ${ix.version}, this megamath reads ${DEDUP_FORMAT_VERSION}`);
  const p = ix.params;
  if (p.bands !== params.bands || p.rows !== params.rows || p.ngram !== params.ngram || p.seed !== params.seed ||
    Boolean(p.exact) !== Boolean(params.exact)) {
    throw new Error(`the index ${indexDir} was made with ${describeParams(p)}, this run asks for ${describeParams(params)}`);
  }
  return { index: resolve(indexDir), digest: ix.digest, bands: ix.bands, inputs: ix.inputs, docs: ix.docs };
}

