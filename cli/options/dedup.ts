// Flags shared by the five dedup commands, declared once (drives --help, flags and --config files).
import type { OptionSpecs } from "../command.js";
import { type DedupParams, checkParams, defaultDedupParams } from "../../lib/dedup/params.js";

export const minhashOptions = {
  bands: { type: "integer", default: defaultDedupParams.bands, description: "LSH bands (MegaMath: 11)." },
  rows: { type: "integer", default: defaultDedupParams.rows, description: "MinHash values per band (MegaMath: 10)." },
  ngram: { type: "integer", default: defaultDedupParams.ngram, description: "Words per shingle; shorter documents are never duplicates." },
  "keep-column": {
    type: "string", default: defaultDedupParams.keepColumn!, placeholder: "COLUMN",
    description: "Numeric column: the cluster member with the highest value survives (ties: first by file, row); \"\" for none.",
  },
  "max-docs-per-part": { type: "integer", default: 262144, description: "Stage 1 memory bound: documents per sorted run." },
} as const satisfies OptionSpecs;

export const workDirOption = {
  "work-dir": { type: "string", placeholder: "DIR", description: "Folder for the intermediate files all stages share." },
} as const satisfies OptionSpecs;

export const clusterColumnOption = {
  "cluster-column": {
    type: "string", default: "", placeholder: "NAME",
    description: "Add an Int32 column with the cluster id of clustered documents (e.g. dup_cluster); \"\" for none.",
  },
} as const satisfies OptionSpecs;

/** MinHash params from parsed flags (seed comes from the shared --seed flag). Throws RangeError when invalid. */
export function paramsFromOptions(opts: { bands: number; rows: number; ngram: number; seed?: number; "keep-column": string }): DedupParams {
  return checkParams({
    bands: opts.bands,
    rows: opts.rows,
    ngram: opts.ngram,
    seed: opts.seed ?? defaultDedupParams.seed,
    keepColumn: opts["keep-column"] || null,
  });
}
