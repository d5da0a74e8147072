// Build a MegaMath-Web-like Parquet corpus from the real documents in ../shared/data, at any size:
//   node --import tsx bench/make-corpus.ts --size 1GB --seed 1 --out bench/out/corpus-1g [--shards 8]
//   node --import tsx bench/make-corpus.ts --demo --out fixtures/demo      (the small corpus that ships)
//   node --import tsx bench/make-corpus.ts --size 233MB --doc-kb 4.45 --format jsonl   (datatrove's peer-corpus
//     document sizes, as JSONL: see GenerateOptions.docKB)
// Every benchmark and the end-to-end run use this one generator, so figures are comparable at any scale.
import { parseArgs } from "node:util";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSources } from "./corpus/sources.js";
import { generateCorpus, type CorpusRow } from "./corpus/generate.js";
import { mixtureStandIns } from "./corpus/mixture-sources.js";
import { makeBatch } from "../lib/arrow/batch.js";
import { openWriter, writeDocuments } from "../lib/io/index.js";

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?$/i.exec(s.trim());
  if (!m) throw new Error(`--size must look like 300MB or 1GB, got "${s}"`);
  const mult: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };
  return Number(m[1]) * mult[(m[2] ?? "B").toUpperCase()];
}

export interface MakeCorpusOptions {
  out: string;
  seed: number;
  demo?: boolean;
  sizeBytes?: number;
  shards?: number;
  batchRows?: number;
  dataDir?: string;
  /** Mean document size in KB for the sized length profile (GenerateOptions.docKB); not with demo. */
  docKB?: number;
  /** Output files: Parquet (default) or plain JSONL with the same columns. */
  format?: "parquet" | "jsonl";
}

/** Writes `shards` Parquet (or JSONL) files (rows dealt round-robin) and returns their paths and counts. */
export async function makeCorpus(o: MakeCorpusOptions): Promise<{ files: string[]; docs: number; bytes: number; planted: Record<string, number> }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const dataDir = o.dataDir ?? process.env.MEGAMATH_SHARED_DATA ?? resolve(here, "..", "..", "shared", "data");
  const set = loadSources(dataDir, { gsm8kCap: o.demo ? 600 : 1000 });
  const shards = o.shards ?? (o.demo ? 2 : Math.max(1, Math.ceil((o.sizeBytes ?? 0) / 128e6)));
  if (o.demo && (o.docKB !== undefined || (o.format ?? "parquet") !== "parquet")) {
    throw new Error("the demo corpus has one fixed form: --doc-kb and --format do not apply to --demo");
  }
  mkdirSync(o.out, { recursive: true });
  const writers = Array.from({ length: shards }, (_, i) =>
    openWriter(join(o.out, `megamath-web-${String(i).padStart(5, "0")}`), { format: o.format ?? "parquet", rowGroupSize: 5000 }));
  const buffers: CorpusRow[][] = writers.map(() => []);
  const batchRows = o.batchRows ?? 2000;
  let docs = 0;
  let bytes = 0;
  const planted: Record<string, number> = {};
  const sizes: number[] = []; // document bytes, for the size summary of non-demo corpora
  const flush = async (i: number) => {
    const rows = buffers[i];
    if (!rows.length) return;
    buffers[i] = [];
    await writers[i].write(makeBatch({
      id: rows.map((r) => r.id), text: rows.map((r) => r.text), url: rows.map((r) => r.url),
      domain: rows.map((r) => r.domain), "cc-path": rows.map((r) => r["cc-path"]), source: rows.map((r) => r.source),
      label: rows.map((r) => r.label), planted: rows.map((r) => r.planted),
    }));
  };
  try {
    for (const row of generateCorpus(set, { seed: o.seed, mode: o.demo ? "demo" : "remix", targetBytes: o.sizeBytes, docKB: o.docKB })) {
      const i = docs % shards;
      buffers[i].push(row);
      docs++;
      const size = Buffer.byteLength(row.text);
      bytes += size;
      if (!o.demo) sizes.push(size);
      if (row.planted) {
        const kind = row.planted.split(":")[0] + (row.planted.startsWith("leak:") ? `:${row.planted.split(":")[1]}` : "");
        planted[kind] = (planted[kind] ?? 0) + 1;
      }
      if (buffers[i].length >= batchRows) await flush(i);
    }
    for (let i = 0; i < shards; i++) await flush(i);
    const files: string[] = [];
    for (const w of writers) files.push(...(await w.close()));
    if (o.demo) await writeDemoExtras(o.out, dataDir, resolve(here, ".."), set.files, docs, bytes, planted);
    // The demo's corpus.json keeps its original fields (fixture bytes must not change); other corpora also record
    // how they were made and their document-size distribution.
    const extra = o.demo ? {} : { docKB: o.docKB ?? null, format: o.format ?? "parquet", docBytes: sizeSummary(sizes) };
    writeFileSync(join(o.out, "corpus.json"), JSON.stringify({ seed: o.seed, demo: Boolean(o.demo), docs, textBytes: bytes, ...extra, planted, sources: set.files }, null, 1) + "\n");
    return { files, docs, bytes, planted };
  } catch (e) {
    for (const w of writers) await w.abort().catch(() => {});
    throw e;
  }
}

/** Mean and percentiles of document sizes in bytes. */
export function sizeSummary(sizes: number[]): { mean: number; p10: number; median: number; p90: number; min: number; max: number } {
  if (!sizes.length) return { mean: 0, p10: 0, median: 0, p90: 0, min: 0, max: 0 };
  const s = Float64Array.from(sizes).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { mean: Math.round(mean), p10: at(0.1), median: at(0.5), p90: at(0.9), min: s[0], max: s[s.length - 1] };
}

/** The demo's mixture stand-ins and its PROVENANCE.md. */
async function writeDemoExtras(out: string, dataDir: string, repoRoot: string, files: { file: string; docs: number; licence: string }[],
  docs: number, bytes: number, planted: Record<string, number>): Promise<void> {
  const standIns = mixtureStandIns(dataDir, repoRoot);
  mkdirSync(join(out, "sources"), { recursive: true });
  for (const s of standIns) {
    const n = Object.values(s.columns)[0].length;
    await writeDocuments(join(out, "sources", s.name), [makeBatch({ id: Array.from({ length: n }, (_, i) => `${s.name}/${i}`), ...s.columns })], { format: "parquet" });
  }
  const md = [
    "# fixtures/demo: the bundled demo corpus",
    "",
    "Built by `node --import tsx bench/make-corpus.ts --demo --seed 1` from real third-party documents in",
    "`../shared/data` (each folder there has its own PROVENANCE.md with repository, commit and path). Rebuilding it",
    "gives the same corpus bytes (the code stand-ins below are a snapshot of this repository when it was built).",
    "",
    `\`megamath-web-*.parquet\`: ${docs} documents, ${(bytes / 1e6).toFixed(1)} MB of text, columns id, text, url, domain,`,
    "cc-path, source, label, planted. The documents are real; their Common Crawl dump names (`cc-path`) are assigned",
    "at random from MegaMath's 2014-2024 range, because these sources are not Common Crawl math pages. `label` is 1 for",
    "math Q&A sites and GSM8K and 0 for general web text: the demo classifier learns from it when no LLM server is",
    `given. Planted on purpose, recorded in \`planted\`: ${JSON.stringify(planted)} (exact copies, near-duplicates with ~3% of`,
    "words replaced, and GSM8K/MATH test items inserted into documents, which decontamination must remove).",
    "",
    "| file | documents | licence |",
    "|---|---|---|",
    ...files.filter((f) => !f.file.startsWith("decontamination/")).map((f) => `| shared/data/${f.file} | ${f.docs} | ${f.licence} |`),
    "| shared/data/decontamination/gsm8k.jsonl.gz, math.jsonl.gz (planted leaks only) | — | MIT |",
    "",
    "Left out: Khan Academy and Alpaca/DPO files (non-commercial licences).",
    "",
    "`sources/*.parquet`: stand-ins for the other mixture sources of the Stable and Decay stages, which cannot be",
    "obtained here. They show the mechanics of the mixtures; they are not the paper's data.",
    "",
    "| file | stands in for | from | licence |",
    "|---|---|---|---|",
    ...standIns.map((s) => `| sources/${s.name}.parquet | ${s.standsInFor} | ${s.source} | ${s.licence} |`),
    "",
  ].join("\n");
  writeFileSync(join(out, "PROVENANCE.md"), md);
}

async function main() {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "300MB" }, seed: { type: "string", default: "1" }, out: { type: "string" },
      shards: { type: "string" }, demo: { type: "boolean", default: false }, "doc-kb": { type: "string" },
      format: { type: "string", default: "parquet" },
    },
  });
  if (values.format !== "parquet" && values.format !== "jsonl") throw new Error(`--format must be parquet or jsonl, got "${values.format}"`);
  const docKB = values["doc-kb"] === undefined ? undefined : Number(values["doc-kb"]);
  if (docKB !== undefined && !(docKB > 0)) throw new Error(`--doc-kb must be a positive number of KB, got "${values["doc-kb"]}"`);
  const profile = (docKB !== undefined ? `-${docKB}kb` : "") + (values.format === "jsonl" ? "-jsonl" : "");
  const out = values.out ?? (values.demo ? "fixtures/demo" : `bench/out/corpus-${values.size}-s${values.seed}${profile}`);
  const t0 = performance.now();
  const r = await makeCorpus({
    out, seed: Number(values.seed), demo: values.demo, sizeBytes: values.demo ? undefined : parseSize(values.size!),
    shards: values.shards ? Number(values.shards) : undefined, docKB, format: values.format as "parquet" | "jsonl",
  });
  const secs = (performance.now() - t0) / 1000;
  console.log(`wrote ${r.files.length} file(s) to ${out}: ${r.docs} docs, ${(r.bytes / 1e6).toFixed(1)} MB of text in ${secs.toFixed(1)} s; planted ${JSON.stringify(r.planted)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
