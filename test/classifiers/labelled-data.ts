// Small labelled Parquet inputs built from real documents in ../shared/data: math-qa positives (Stack Exchange
// math, GSM8K) and web-nonmath negatives (C4, DCLM Common Crawl). Khan/Alpaca (non-commercial) are not used.
import { join } from "node:path";
import { makeBatch } from "../../lib/arrow/batch.js";
import { openWriter } from "../../lib/io/index.js";
import { sharedJsonl } from "../helpers.js";

function rows(file: string, n: number): Record<string, unknown>[] {
  return sharedJsonl(file).slice(0, n);
}

function textOf(o: Record<string, unknown>): string {
  if (typeof o.text === "string") return o.text;
  if (typeof o.input === "string") return `${o.input}\n${o.output}`;
  return `${o.question}\n${o.answer}`;
}

export interface LabelledDoc { id: string; text: string; label: "math" | "web"; score: number }

export function labelledDocs(perFile: number): LabelledDoc[] {
  const out: LabelledDoc[] = [];
  const add = (file: string, label: "math" | "web") => rows(file, perFile).forEach((o, i) =>
    out.push({ id: `${file}#${i}`, text: textOf(o), label, score: label === "math" ? 3 + (i % 3) : i % 3 }));
  add("math-qa/se_math_33votes.jsonl.gz", "math");
  add("math-qa/se_mathoverflow_40votes.jsonl.gz", "math");
  add("math-qa/gsm8k_train.jsonl.gz", "math");
  add("web-nonmath/c4_demo.jsonl.gz", "web");
  add("web-nonmath/dclm_human_quality_majority.jsonl.gz", "web");
  add("web-nonmath/dclm_human_quality_agreement.jsonl.gz", "web");
  return out;
}

/** Write docs as Parquet files of `perFileRows` rows each (math first, as real inputs often arrive grouped). */
export async function writeLabelledParquet(dir: string, docs: LabelledDoc[], perFileRows = 500): Promise<string[]> {
  const files: string[] = [];
  for (let f = 0; f * perFileRows < docs.length; f++) {
    const part = docs.slice(f * perFileRows, (f + 1) * perFileRows);
    const w = openWriter(join(dir, `labelled-${String(f).padStart(3, "0")}`), { format: "parquet" });
    await w.write(makeBatch({
      id: part.map((d) => d.id), text: part.map((d) => d.text), label: part.map((d) => d.label),
      finemath_score: Float64Array.from(part.map((d) => d.score)),
    }));
    files.push(...(await w.close()));
  }
  return files;
}
