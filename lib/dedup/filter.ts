// Stage 4: reread each input and drop every clustered document that is not its cluster's survivor.
// Runs under the generic pipeline runner (one call of run() per input file); rows are counted in stream order,
// which is how stage 1 numbered them, and the total is checked against stage 1's count at the end of each file.
import { resolve } from "node:path";
import { stat } from "node:fs/promises";
import { DataType, Int32 } from "apache-arrow";
import { type Batch, getTexts, withColumn } from "../arrow/batch.js";
import type { Stage, StageContext } from "../runtime/stage.js";
import { readRecordFile, readRecordHeader } from "./recordfile.js";
import { bandInputDigest } from "./buckets.js";
import { type ClustersDone, clusterInputDigest } from "./clusters.js";
import { readClusterSizes } from "./provenance.js";
import { RemovedWriter } from "./removed.js";
import { fingerprintFile } from "../runtime/fingerprint.js";
import {
  type WorkManifest, checkSameInputs, paths, readAllSignatureDone, readJson, readSignatureDone, readWorkManifest,
} from "./workdir.js";

export interface DedupFilterOptions {
  workDir: string;
  /** The inputs of this run, expanded and sorted: must be stage 1's list. */
  inputs: string[];
  /** Add this Int32 column with the cluster id of clustered documents (null for the others). */
  clusterColumn?: string | null;
  /** Add this Int32 column with each survivor's cluster size (1 for documents in no cluster). */
  clusterSizeColumn?: string | null;
  /** Write every removed document to OUTPUT/removed/ (Parquet) with the survivor it duplicates. */
  keepRemoved?: boolean;
}

/** Check, before reading any document, that stages 1-3 finished for exactly these inputs. */
export async function checkFilterReady(o: DedupFilterOptions): Promise<{ manifest: WorkManifest; clusters: ClustersDone }> {
  const manifest = (await readWorkManifest(o.workDir))!;
  const sizes = await Promise.all(o.inputs.map(async (p) => (await stat(p)).size));
  const fingerprints = await Promise.all(o.inputs.map((p) => fingerprintFile(p)));
  checkSameInputs(o.workDir, manifest.inputs, o.inputs, sizes, fingerprints);
  const clusters = await readJson<ClustersDone>(paths.clustersDone(o.workDir));
  if (!clusters) {
    throw new Error(`${paths.clustersDone(o.workDir)} not found: run stage 3 (megamath dedup-clusters) first`);
  }
  // The clusters must come from the current stage-1 output (which may have been redone, e.g. with other params).
  const done = await readAllSignatureDone(o.workDir, manifest);
  for (let b = 0; b < manifest.params.bands; b++) {
    const info = await readRecordHeader(paths.pairs(o.workDir, b), "pairs");
    if (info.header.inputDigest !== bandInputDigest(done, b, manifest)) {
      throw new Error(`${paths.pairs(o.workDir, b)} was made from other signatures than stage 1's current ones; ` +
        `rerun stage 2 (megamath dedup-buckets) and stage 3 (megamath dedup-clusters)`);
    }
  }
  if (clusters.inputDigest !== (await clusterInputDigest(o.workDir, manifest, clusters.intersect ?? []))) {
    throw new Error(`${paths.clustersDone(o.workDir)} was made from other duplicate pairs than stage 2's current ones; ` +
      `rerun stage 3 (megamath dedup-clusters)`);
  }
  return { manifest, clusters };
}

export function dedupFilterStage(o: DedupFilterOptions): Stage {
  const index = new Map(o.inputs.map((p, i) => [resolve(p), i]));
  let ready: Promise<unknown> | null = null;
  let sizes: Promise<Uint32Array> | null = null;
  return {
    name: "dedup",
    // Outputs depend on the clusters applied: a rerun after stage 3 changed recomputes every file.
    async identity() {
      const { clusters } = await checkFilterReady(o);
      // (Union mode without the newer flags keeps the identity markers of earlier versions recorded.)
      const extra = [clusters.clustering === "bucket" ? "bucket" : "", o.clusterSizeColumn ?? "",
        o.keepRemoved ? "removed" : ""].join(":");
      return `${clusters.inputDigest}:${o.clusterColumn ?? ""}${extra === "::" ? "" : `:${extra}`}`;
    },
    async *run(input: AsyncIterable<Batch>, ctx: StageContext): AsyncIterable<Batch> {
      ready ??= checkFilterReady(o);
      const { manifest } = (await ready) as Awaited<ReturnType<typeof checkFilterReady>>;
      const f = index.get(resolve(ctx.file));
      if (f === undefined) throw new Error(`${ctx.file} is not one of the inputs stage 1 saw`);
      const sigDone = await readSignatureDone(o.workDir, f);
      const { data: dups } = await readRecordFile(paths.dups(o.workDir, f), "dups");
      sizes ??= o.clusterSizeColumn ? readClusterSizes(o.workDir) : null;
      const clusterSizes = await sizes;
      const removedOut = o.keepRemoved ? await RemovedWriter.open(o, ctx, manifest, f) : null;
      // Against a reference corpus: the overlap in words (whitespace-separated) besides documents (overlap.ts).
      const overlap = Boolean(manifest.against);
      let next = 0; // index into dups (rows ascending)
      let row = 0;
      try {
      for await (const batch of input) {
        const n = batch.numRows;
        const keep = new Uint8Array(n).fill(1);
        const clusterIds: (number | null)[] | null = o.clusterColumn ? new Array(n).fill(null) : null;
        const sizeCol: number[] | null = clusterSizes ? new Array(n).fill(1) : null;
        const removedAt: number[] = [];
        let refDrop = 0;
        const words = overlap ? wordCounts(batch) : null;
        if (words) ctx.stats.count("words", words.reduce((a, b) => a + b, 0));
        const removedCluster: number[] = [];
        while (next < dups.length && dups[next] < row + n) {
          const i = dups[next] - row;
          if (clusterIds) clusterIds[i] = dups[next + 1];
          if (sizeCol) sizeCol[i] = clusterSizes![dups[next + 1]];
          if (dups[next + 2] !== 1) {
            keep[i] = 0;
            if (dups[next + 2] === 2) {
              refDrop++;
              if (words) ctx.stats.count("words_duplicate_of_reference", words[i]);
            }
            removedAt.push(i);
            removedCluster.push(dups[next + 1]);
          }
          next += 3;
        }
        if (removedOut && removedAt.length) await removedOut.write(batch, removedAt, removedCluster, row);
        let out = clusterIds ? withColumn(batch, o.clusterColumn!, clusterIds, new Int32()) : batch;
        if (sizeCol) out = withColumn(out, o.clusterSizeColumn!, sizeCol, new Int32());
        const drop = removedAt.length;
        row += n;
        if (!drop) {
          yield out;
          continue;
        }
        // Duplicates of a reference corpus (--against) are counted apart: the overlap of the two corpora.
        if (drop > refDrop) ctx.stats.remove("duplicate", drop - refDrop);
        if (refDrop) ctx.stats.remove("duplicate_of_reference", refDrop);
        // The kept rows go on as zero-copy slices, one per run of kept rows: copying every kept row into a new
        // batch (filterRows) cost more than everything else this stage does itself. Writers see the same rows in
        // the same order, and row groups and parts are cut by row and byte counts, not by batch boundaries.
        for (let a = 0; a < n;) {
          while (a < n && !keep[a]) a++;
          let b = a;
          while (b < n && keep[b]) b++;
          if (b > a) yield out.slice(a, b);
          a = b;
        }
      }
      if (removedOut) ctx.stats.count("removed_written", await removedOut.close());
      } catch (e) {
        await removedOut?.abort();
        throw e;
      }
      if (sigDone && row !== sigDone.docs) {
        throw new Error(`${ctx.file}: read ${row} documents, but stage 1 read ${sigDone.docs}; stage 4 must read ` +
          `exactly the input stage 1 read (same files, same --text-key/--id-key, same --on-error)`);
      }
      ctx.stats.count("clustered", dups.length / 3);
    },
  };
}

/** Whitespace-separated words of each row's text (bytes of Utf8 chunks; other layouts through strings). */
export function wordCounts(batch: Batch): Uint32Array {
  const out = new Uint32Array(batch.numRows);
  const col = batch.getChild("text");
  if (col && col.data.every((d) => DataType.isUtf8(d.type))) {
    let r = 0;
    for (const d of col.data) {
      const offs = d.valueOffsets as Int32Array, v = d.values as Uint8Array;
      for (let i = 0; i < d.length; i++, r++) {
        let n = 0, inWord = false;
        for (let j = offs[i], e = offs[i + 1]; j < e; j++) {
          const space = v[j] <= 0x20;
          if (!space && !inWord) n++;
          inWord = !space;
        }
        out[r] = n;
      }
    }
    return out;
  }
  getTexts(batch).forEach((t, i) => { out[i] = t.split(/[\x00-\x20]+/).filter(Boolean).length; });
  return out;
}
