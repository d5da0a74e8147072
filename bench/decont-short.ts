// Short and notation-heavy benchmark items (issue 15 item 8): how many benchmark questions planted ALONE (no solution,
// the hard case) are caught, and how many clean documents, GSM8K train problems and numeric tables are flagged, for
// two index files (e.g. before and after a change to index-build.ts).
//   node --import tsx bench/decont-short.ts OLD.idx NEW.idx
// Build an index with: megamath decontaminate --build-index FILE --benchmarks ../shared/data/decontamination
import { readFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { NgramIndex } from "../lib/decontam/ngram-index.js";
import { Matcher } from "../lib/decontam/matcher.js";
import { loadBuiltinBenchmarks, readJsonl } from "../lib/decontam/benchmarks.js";
import { mulberry32 } from "../lib/random.js";

const data = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "shared", "data");
const asText = (r: Record<string, unknown>) => (r.text !== undefined ? String(r.text) : `${String(r.input ?? r.question ?? "")}\n\n${String(r.output ?? r.answer ?? "")}`);
const clean = ["math-qa/se_math_33votes", "math-qa/se_mathoverflow_40votes", "math-qa/se_physics_35votes", "math-qa/se_cstheory_10votes",
  "math-qa/se_proofassistants_7votes", "web-nonmath/c4_demo", "web-nonmath/dclm_human_quality_majority"]
  .flatMap((s) => readJsonl(join(data, `${s}.jsonl.gz`)).map(asText));
const gsmTrain = readJsonl(join(data, "math-qa/gsm8k_train.jsonl.gz")).map(asText);
const benches = loadBuiltinBenchmarks(join(data, "decontamination"));
const r = mulberry32(15);
// Numeric tables: rows of numbers with the separators real pages use (the datatrove false-hit case), plus tables
// with a header word per row ("Row 3 | 12 | 7 | ...").
const tables = Array.from({ length: 2000 }, (_, k) => Array.from({ length: 8 }, (_, i) =>
  (k % 2 ? `Row ${i + 1} | ` : "") + Array.from({ length: 10 }, () => String(Math.floor(r() * (k % 3 ? 100 : 10)))).join(k % 4 ? " | " : " ")).join("\n"));
const plant = (q: string) => `${clean[Math.floor(r() * clean.length)].slice(0, 600)}\n\n${q}\n\n${clean[Math.floor(r() * clean.length)].slice(0, 600)}`;

for (const file of process.argv.slice(2)) {
  const ix = NgramIndex.parse(readFileSync(file), file);
  const m = new Matcher([ix]);
  const per: string[] = [];
  let planted = 0;
  let caught = 0;
  for (const b of benches) {
    let c = 0;
    const withQuery = b.items.filter((it) => it.query);
    for (const it of withQuery) if (m.match(plant(it.query!)).some((x) => x.benchmark === b.name && x.itemId === it.id)) c++;
    if (withQuery.length) per.push(`${b.name} ${c}/${withQuery.length}`);
    planted += withQuery.length;
    caught += c;
  }
  const flagged = (docs: string[]) => docs.filter((d) => m.match(d).length > 0).length;
  const c0 = process.cpuUsage();
  const cleanHits = flagged(clean);
  const cpu = process.cpuUsage(c0);
  console.log(`${file}: ${ix.short.length} whole-item entries (longest ${ix.shortMaxLen} tokens)`);
  console.log(`  questions planted alone: ${caught}/${planted} caught (${per.join(", ")})`);
  console.log(`  clean documents flagged: ${cleanHits}/${clean.length} (scan ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU-s)`);
  console.log(`  GSM8K train flagged (true template overlaps): ${flagged(gsmTrain)}/${gsmTrain.length}`);
  console.log(`  numeric tables flagged: ${flagged(tables)}/${tables.length}`);
}
