// Who removed whom: stage 3 writes, next to each input's .dups file, one record per removed row naming the
// survivor it duplicates and the LSH band whose bucket holds both (datatrove users ask for this: #312, #213), and
// one file of cluster sizes (survivor + the documents it stands for; FineWeb-2 up-samples by it). Stage 4 turns
// them into the removed/ Parquet and the cluster-size column.
//
//   clusters/fFFFFFF.prov    (row, survivor file, survivor row, band | NO_BAND) per removed row, rows ascending
//   clusters/sizes.bin       size of cluster c at index c (one u32 per cluster)
import { join } from "node:path";
import { readRecordFile, writeRecordFile } from "./recordfile.js";
import { DEDUP_FORMAT_VERSION } from "./params.js";

/** Band of a removal that no single bucket explains (union mode: the survivor is only transitively similar). */
export const NO_BAND = 0xffffffff;

const pad = (n: number, w: number) => String(n).padStart(w, "0");

export const provenancePaths = {
  prov: (work: string, file: number) => join(work, "clusters", `f${pad(file, 6)}.prov`),
  sizes: (work: string) => join(work, "clusters", "sizes.bin"),
};

export async function writeProvenance(work: string, file: number, inputDigest: string, rec: Uint32Array) {
  return writeRecordFile(provenancePaths.prov(work, file), {
    kind: "provenance", width: 4, version: DEDUP_FORMAT_VERSION, file, inputDigest,
  }, rec);
}

export async function writeClusterSizes(work: string, inputDigest: string, sizes: Uint32Array) {
  return writeRecordFile(provenancePaths.sizes(work), {
    kind: "cluster-sizes", width: 1, version: DEDUP_FORMAT_VERSION, inputDigest,
  }, sizes);
}

export async function readProvenance(work: string, file: number): Promise<Uint32Array> {
  return (await readRecordFile(provenancePaths.prov(work, file), "provenance")).data;
}

export async function readClusterSizes(work: string): Promise<Uint32Array> {
  return (await readRecordFile(provenancePaths.sizes(work), "cluster-sizes")).data;
}

/** Cluster-size histogram in power-of-two bins: "1", "2", "3-4", "5-8", ... (a survivor alone counts as 1). */
export function sizeHistogram(sizes: ArrayLike<number>): Record<string, number> {
  const bins = new Map<number, number>();
  for (let c = 0; c < sizes.length; c++) {
    const s = sizes[c];
    const k = s <= 1 ? 0 : Math.ceil(Math.log2(s));
    bins.set(k, (bins.get(k) ?? 0) + 1);
  }
  const out: Record<string, number> = {};
  for (const k of [...bins.keys()].sort((a, b) => a - b)) {
    const hi = 2 ** k, lo = k === 0 ? 1 : 2 ** (k - 1) + 1;
    out[lo === hi ? String(hi) : `${lo}-${hi}`] = bins.get(k)!;
  }
  return out;
}
