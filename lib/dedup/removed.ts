// Stage 4's removed/ output (--keep-removed): every removed document, all its columns, plus which survivor it
// duplicates: dup_of_id (the survivor's id, as every stage reads it: the --id-key column, or FILE/ROW),
// dup_of_file / dup_of_row (the survivor's input file as stage 1 listed it, and its row there; a document's dedup
// identity), dup_band (the LSH band whose bucket holds both; null when union-find joined them
// only through other documents) and dup_cluster (the survivor's cluster id, the value --cluster-column gives the
// survivor, so the two outputs join on it).
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Int32, Utf8 } from "apache-arrow";
import { type Batch, takeRows, withColumn } from "../arrow/batch.js";
import { openWriter, type DocumentWriter } from "../io/writer.js";
import { idPrefix } from "../io/documents.js";
import type { StageContext } from "../runtime/stage.js";
import { NO_BAND, readProvenance } from "./provenance.js";
import { type WorkManifest, docFilePath, paths } from "./workdir.js";
import { readSurvivorIds } from "./ids.js";

export class RemovedWriter {
  private at = 0; // next provenance record
  private rows = 0;
  private constructor(private readonly w: DocumentWriter, private readonly prov: Uint32Array,
    private readonly ids: string[], private readonly m: WorkManifest, private readonly file: string) {}

  static async open(o: { workDir: string; inputs: string[] }, ctx: StageContext, m: WorkManifest, f: number):
  Promise<RemovedWriter> {
    const prov = await readProvenance(o.workDir, f);
    const ids = await readSurvivorIds(paths.survivorIds(o.workDir, f));
    if (ids.length * 4 !== prov.length) throw new Error(`${paths.survivorIds(o.workDir, f)}: ${ids.length} ids for ${prov.length / 4} removed rows; rerun stage 3`);
    const name = idPrefix(ctx.file, { inputs: o.inputs }).replace(/(\.(parquet|jsonl|json|arrow|ipc|feather|gz|zst|zstd))+$/i, "");
    const base = join(ctx.outDir, "removed", name);
    await mkdir(dirname(base), { recursive: true });
    return new RemovedWriter(openWriter(base, { format: "parquet" }), prov, ids, m, ctx.file);
  }

  /** Rows `at` (indexes into `batch`, ascending; batch row 0 is file row `rowBase`) were removed. */
  async write(batch: Batch, at: number[], clusters: number[], rowBase: number): Promise<void> {
    const file: string[] = [], row: number[] = [], band: (number | null)[] = [], id: string[] = [];
    for (const i of at) {
      const p = this.at * 4;
      if (p >= this.prov.length || this.prov[p] !== rowBase + i) {
        throw new Error(`${this.file}: row ${rowBase + i} is removed but has no provenance record; rerun stage 3`);
      }
      file.push(docFilePath(this.m, this.prov[p + 1]));
      row.push(this.prov[p + 2]);
      band.push(this.prov[p + 3] === NO_BAND ? null : this.prov[p + 3]);
      id.push(this.ids[this.at]);
      this.at++;
    }
    let out = takeRows(batch, at);
    out = withColumn(out, "dup_of_id", id, new Utf8());
    out = withColumn(out, "dup_of_file", file, new Utf8());
    out = withColumn(out, "dup_of_row", row, new Int32());
    out = withColumn(out, "dup_band", band, new Int32());
    out = withColumn(out, "dup_cluster", clusters, new Int32());
    await this.w.write(out);
    this.rows += at.length;
  }

  async close(): Promise<number> {
    if (this.at * 4 !== this.prov.length) {
      await this.w.abort();
      throw new Error(`${this.file}: ${this.prov.length / 4} provenance records, ${this.at} removed rows met`);
    }
    await this.w.close();
    return this.rows;
  }

  async abort(): Promise<void> {
    await this.w.abort().catch(() => {});
  }
}
