// Real documents from ../shared/data, grouped into the classes a MegaMath-Web-like corpus needs. Only sources whose
// licences allow redistribution with attribution are used (Stack Exchange CC BY-SA 4.0, GSM8K/MATH MIT, C4 ODC-BY,
// Wikipedia CC BY-SA, DCLM/Dolma Common Crawl text); Khan and Alpaca (non-commercial) are left out.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";

export interface SourceDoc {
  text: string;
  source: string;
  url: string | null;
  /** 1 = math (Q&A sites, math word problems), 0 = general web. */
  label: 0 | 1;
}

export interface BenchmarkItem {
  benchmark: string;
  text: string;
}

export interface SourceSet {
  math: SourceDoc[];
  web: SourceDoc[];
  /** Benchmark test items (question + answer), planted as leaks that decontamination must catch. */
  leaks: BenchmarkItem[];
  /** What was read, for provenance records. */
  files: { file: string; docs: number; licence: string }[];
}

/** Records of a gzipped JSONL file (blank lines skipped). */
export function readJsonl(path: string): Record<string, unknown>[] {
  return gunzipSync(readFileSync(path)).toString("utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

const SE_SITES: Record<string, string> = {
  se_math_33votes: "math.stackexchange.com",
  se_mathoverflow_40votes: "mathoverflow.net",
  se_physics_35votes: "physics.stackexchange.com",
  se_cstheory_10votes: "cstheory.stackexchange.com",
  se_proofassistants_7votes: "proofassistants.stackexchange.com",
};

/** Load every usable real document. `gsm8kCap` limits GSM8K train problems (short, and 7,473 of them). */
export function loadSources(dataDir: string, opts: { gsm8kCap?: number } = {}): SourceSet {
  const set: SourceSet = { math: [], web: [], leaks: [], files: [] };
  for (const [name, host] of Object.entries(SE_SITES)) {
    const rows = readJsonl(join(dataDir, "math-qa", `${name}.jsonl.gz`));
    for (const r of rows) {
      const meta = parseMeta(String(r.meta ?? ""));
      const title = meta.post_title ? `${meta.post_title}\n\n` : "";
      set.math.push({
        text: `${title}${r.input}\n\n${r.output}`,
        source: name,
        url: meta.post_id ? `https://${host}/questions/${meta.post_id}` : null,
        label: 1,
      });
    }
    set.files.push({ file: `math-qa/${name}.jsonl.gz`, docs: rows.length, licence: "CC BY-SA 4.0 (Stack Exchange)" });
  }
  const gsm = readJsonl(join(dataDir, "math-qa", "gsm8k_train.jsonl.gz")).slice(0, opts.gsm8kCap ?? 1000);
  for (const r of gsm) {
    set.math.push({ text: `${r.question}\n${String(r.answer).replace(/<<[^>]*>>/g, "")}`, source: "gsm8k_train", url: null, label: 1 });
  }
  set.files.push({ file: "math-qa/gsm8k_train.jsonl.gz", docs: gsm.length, licence: "MIT (openai/grade-school-math)" });

  for (const name of ["c4_demo", "dclm_human_quality_majority"]) {
    const rows = readJsonl(join(dataDir, "web-nonmath", `${name}.jsonl.gz`));
    for (const r of rows) set.web.push({ text: String(r.text), source: name, url: (r.url as string) ?? null, label: 0 });
    set.files.push({ file: `web-nonmath/${name}.jsonl.gz`, docs: rows.length, licence: name.startsWith("c4") ? "ODC-BY (C4)" : "Common Crawl text via DCLM (MIT repo)" });
  }
  for (const name of ["dolma_cc_en_head-0091", "dolma_cc_en_head-0174", "dolma_provided_documents_000"]) {
    const rows = readJsonl(join(dataDir, "web-nonmath", `${name}.jsonl.gz`));
    for (const r of rows) {
      const id = String(r.id ?? "");
      set.web.push({ text: String(r.text), source: name, url: /^https?:/.test(id) ? id : null, label: 0 });
    }
    set.files.push({ file: `web-nonmath/${name}.jsonl.gz`, docs: rows.length, licence: "Common Crawl text via Dolma (ODC-BY)" });
  }
  const wiki = gunzipSync(readFileSync(join(dataDir, "web-nonmath", "wiki_demo.txt.gz"))).toString("utf8").split("\n").filter((l) => l.trim());
  for (const t of wiki) set.web.push({ text: t, source: "wiki_demo", url: null, label: 0 });
  set.files.push({ file: "web-nonmath/wiki_demo.txt.gz", docs: wiki.length, licence: "CC BY-SA 4.0 (Wikipedia)" });

  const gsmTest = readJsonl(join(dataDir, "decontamination", "gsm8k.jsonl.gz"));
  for (const r of gsmTest) set.leaks.push({ benchmark: "gsm8k", text: `${r.question}\n${String(r.cot ?? r.answer).replace(/<<[^>]*>>/g, "")}` });
  const math = readJsonl(join(dataDir, "decontamination", "math.jsonl.gz"));
  for (const r of math) set.leaks.push({ benchmark: "math", text: `${r.problem}\n${r.solution}` });
  set.files.push({ file: "decontamination/gsm8k.jsonl.gz", docs: gsmTest.length, licence: "MIT (GSM8K)" });
  set.files.push({ file: "decontamination/math.jsonl.gz", docs: math.length, licence: "MIT (MATH)" });
  return set;
}

/** The `meta` field of the math-lm Stack Exchange files is a Python dict literal; pull the two fields we use. */
function parseMeta(s: string): { post_id?: number; post_title?: string } {
  const id = /'post_id':\s*(\d+)/.exec(s);
  const title = /'post_title':\s*(['"])(.*?)\1\s*(,|\})/.exec(s);
  return { post_id: id ? Number(id[1]) : undefined, post_title: title ? title[2] : undefined };
}
