// Stage 4: reread each input and drop every clustered document that is not its cluster's survivor.
// Runs under the generic pipeline runner (one call of run() per input file); rows are counted in stream order,
// which is how stage 1 numbered them, and the total is checked against stage 1's count at the end of each file.
import { resolve } from "node:path";
import { stat } from "node:fs/promises";
import { Int32 } from "apache-arrow";
import { type Batch, withColumn } from "../arrow/batch.js";
import type { Stage, StageContext } from "../runtime/stage.js";
import { readRecordFile, readRecordHeader } from "./recordfile.js";
import { bandInputDigest } from "./buckets.js";
import { type ClustersDone, pairsDigest } from "./clusters.js";
import { fingerprintFile } from "../runtime/fingerprint.js";
import {
  type SignatureDone, type WorkManifest, checkSameInputs, paths, readAllSignatureDone, readJson, readWorkManifest,
} from "./workdir.js";

export interface DedupFilterOptions {
  workDir: string;
  /** The inputs of this run, expanded and sorted: must be stage 1's list. */
  inputs: string[];
  /** Add this Int32 column with the cluster id of clustered documents (null for the others). */
  clusterColumn?: string | null;
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
    if (info.header.inputDigest !== bandInputDigest(done, b)) {
      throw new Error(`${paths.pairs(o.workDir, b)} was made from other signatures than stage 1's current ones; ` +
        `rerun stage 2 (megamath dedup-buckets) and stage 3 (megamath dedup-clusters)`);
    }
  }
  if (clusters.inputDigest !== (await pairsDigest(o.workDir, manifest))) {
    throw new Error(`${paths.clustersDone(o.workDir)} was made from other duplicate pairs than stage 2's current ones; ` +
      `rerun stage 3 (megamath dedup-clusters)`);
  }
  return { manifest, clusters };
}

export function dedupFilterStage(o: DedupFilterOptions): Stage {
  const index = new Map(o.inputs.map((p, i) => [resolve(p), i]));
  let ready: Promise<unknown> | null = null;
  return {
    name: "dedup",
    // Outputs depend on the clusters applied: a rerun after stage 3 changed recomputes every file.
    async identity() {
      const { clusters } = await checkFilterReady(o);
      return `${clusters.inputDigest}:${o.clusterColumn ?? ""}`;
    },
    async *run(input: AsyncIterable<Batch>, ctx: StageContext): AsyncIterable<Batch> {
      ready ??= checkFilterReady(o);
      await ready;
      const f = index.get(resolve(ctx.file));
      if (f === undefined) throw new Error(`${ctx.file} is not one of the inputs stage 1 saw`);
      const sigDone = await readJson<SignatureDone>(paths.sigDone(o.workDir, f));
      const { data: dups } = await readRecordFile(paths.dups(o.workDir, f), "dups");
      let next = 0; // index into dups (rows ascending)
      let row = 0;
      for await (const batch of input) {
        const n = batch.numRows;
        const keep = new Uint8Array(n).fill(1);
        const clusterIds: (number | null)[] | null = o.clusterColumn ? new Array(n).fill(null) : null;
        while (next < dups.length && dups[next] < row + n) {
          const i = dups[next] - row;
          if (clusterIds) clusterIds[i] = dups[next + 1];
          if (!dups[next + 2]) keep[i] = 0;
          next += 3;
        }
        const out = clusterIds ? withColumn(batch, o.clusterColumn!, clusterIds, new Int32()) : batch;
        const drop = n - keep.reduce((s, v) => s + v, 0);
        row += n;
        if (!drop) {
          yield out;
          continue;
        }
        ctx.stats.remove("duplicate", drop);
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
      if (sigDone && row !== sigDone.docs) {
        throw new Error(`${ctx.file}: read ${row} documents, but stage 1 read ${sigDone.docs}; stage 4 must read ` +
          `exactly the input stage 1 read (same files, same --text-key/--id-key, same --on-error)`);
      }
      ctx.stats.count("clustered", dups.length / 3);
    },
  };
}
