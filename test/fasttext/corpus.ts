// Real labelled text for the fastText tests and benchmark: math Q&A (Stack Exchange math/mathoverflow/physics, GSM8K)
// against general web text (C4, DCLM pool, Wikipedia), from ../shared/data. Written as fastText training lines.
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { sharedData, readGzJsonl } from "../helpers.js";

/** One line per document: newlines and tabs become spaces (a fastText line cannot hold a newline). */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\t\v\f]+/g, " ").trim();
}

export interface LabelledDoc {
  label: "__label__math" | "__label__web";
  text: string;
}

/** All labelled documents, in a fixed interleaved order (deterministic). */
export function labelledDocs(): LabelledDoc[] {
  const math: string[] = [];
  for (const f of ["se_math_33votes", "se_mathoverflow_40votes", "se_physics_35votes"])
    for (const r of readGzJsonl(sharedData("math-qa", `${f}.jsonl.gz`))) math.push(`${r.input} ${r.output}`);
  for (const r of readGzJsonl(sharedData("math-qa", "gsm8k_train.jsonl.gz")).slice(0, 1500)) math.push(`${r.question} ${r.answer}`);
  const web: string[] = [];
  for (const f of ["c4_demo", "dclm_human_quality_majority", "dolma_cc_en_head-0091", "dolma_cc_en_head-0174"])
    for (const r of readGzJsonl(sharedData("web-nonmath", `${f}.jsonl.gz`))) web.push(String(r.text));
  for (const l of gunzipSync(readFileSync(sharedData("web-nonmath", "wiki_demo.txt.gz"))).toString("utf8").split("\n"))
    if (l.trim()) web.push(l);
  const out: LabelledDoc[] = [];
  for (let i = 0; i < Math.max(math.length, web.length); i++) {
    if (i < math.length) out.push({ label: "__label__math", text: oneLine(math[i]!) });
    if (i < web.length) out.push({ label: "__label__web", text: oneLine(web[i]!) });
  }
  return out.filter((d) => d.text.length > 0);
}

/** Write train.txt (labelled) and test.txt (text only) in `dir`: every 5th document goes to test. */
export function writeSplit(dir: string, docs = labelledDocs()): { train: string; test: string; testDocs: LabelledDoc[] } {
  const train: string[] = [];
  const testDocs: LabelledDoc[] = [];
  docs.forEach((d, i) => (i % 5 === 4 ? testDocs.push(d) : train.push(`${d.label} ${d.text}`)));
  const trainPath = join(dir, "train.txt");
  const testPath = join(dir, "test.txt");
  writeFileSync(trainPath, train.join("\n") + "\n");
  writeFileSync(testPath, testDocs.map((d) => d.text).join("\n") + "\n");
  return { train: trainPath, test: testPath, testDocs };
}
