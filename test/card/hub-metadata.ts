// A validator of dataset card metadata written from the Hub's own documentation of the fields
// (huggingface/hub-docs datasetcard.md: the YAML header's field names and shapes; the size_categories values as
// huggingface_hub's DatasetCardData documents them; `viewer` from the Hub's "configure the dataset viewer" page).
// It returns the problems it finds, so a test can show it rejects what the Hub would not understand.
import { parse } from "yaml";

const FIELDS = new Set([
  "language", "license", "license_name", "license_link", "license_details", "tags", "annotations_creators",
  "language_creators", "language_details", "pretty_name", "size_categories", "source_datasets", "task_categories",
  "task_ids", "paperswithcode_id", "configs", "dataset_info", "extra_gated_fields", "extra_gated_prompt",
  "train-eval-index", "viewer", "multilinguality",
]);
const SIZE = new Set(["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B",
  "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T", "other"]);

/** The YAML header of a README.md card, parsed; throws when the card does not start with one. */
export function cardMetadata(readme: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(readme);
  if (!m) throw new Error("the card does not start with a ---\\n...\\n--- YAML header");
  const v = parse(m[1]);
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("the YAML header is not a mapping");
  return v as Record<string, unknown>;
}

const strList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string" && x.length > 0);
const strOrList = (v: unknown) => (typeof v === "string" && v.length > 0) || strList(v);

export function hubProblems(meta: Record<string, unknown>): string[] {
  const p: string[] = [];
  for (const k of Object.keys(meta)) if (!FIELDS.has(k)) p.push(`unknown field "${k}"`);
  for (const k of ["license", "language", "size_categories", "task_categories", "configs"]) if (!(k in meta)) p.push(`missing "${k}"`);
  if ("license" in meta) {
    if (!strOrList(meta.license)) p.push("license must be a licence id or a list of them");
    else if ([meta.license].flat().some((l) => !/^[a-z0-9][a-z0-9.-]*$/.test(String(l)))) p.push(`license ${JSON.stringify(meta.license)} is not a Hub licence id`);
    if ([meta.license].flat().includes("other") && typeof meta.license_name !== "string") p.push("license other needs license_name");
  }
  if ("language" in meta && (!strOrList(meta.language) || [meta.language].flat().some((l) => !/^([a-z]{2,3}|code|multilingual)$/.test(String(l))))) {
    p.push("language must be ISO 639 codes");
  }
  if ("size_categories" in meta && (!strOrList(meta.size_categories) || [meta.size_categories].flat().some((s) => !SIZE.has(String(s))))) {
    p.push(`size_categories ${JSON.stringify(meta.size_categories)} is not one of ${[...SIZE].join(", ")}`);
  }
  for (const k of ["task_categories", "tags", "source_datasets", "task_ids"]) if (k in meta && !strOrList(meta[k])) p.push(`${k} must be a list of strings`);
  if ("viewer" in meta && typeof meta.viewer !== "boolean") p.push("viewer must be true or false");
  if ("configs" in meta) {
    const cfgs = meta.configs;
    if (!Array.isArray(cfgs) || !cfgs.length) p.push("configs must be a non-empty list");
    else {
      for (const [i, c] of cfgs.entries()) {
        const o = c as Record<string, unknown>;
        if (typeof o?.config_name !== "string" || !o.config_name) p.push(`configs[${i}].config_name must be a string`);
        for (const k of Object.keys(o ?? {})) if (!["config_name", "data_files", "data_dir", "default", "sep", "features"].includes(k)) p.push(`configs[${i}]: unknown field "${k}"`);
        const df = o?.data_files;
        const ok = typeof df === "string" || (Array.isArray(df) && df.every((d) => typeof d === "string" ||
          (d && typeof d === "object" && typeof (d as Record<string, unknown>).split === "string" && strOrList((d as Record<string, unknown>).path))));
        if (!ok) p.push(`configs[${i}].data_files must be a path, or a list of {split, path}`);
      }
    }
  }
  return p;
}
