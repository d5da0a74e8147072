// End to end through the CLI: `sample` builds a Parquet sample from real Common Crawl documents in ../shared/data,
// `annotate` and `refine` run on it against the scripted loopback server, and a forced rerun is served entirely
// from the request journal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../cli/main.js";
import { readDocuments } from "../../lib/io/index.js";
import { batchRows } from "../../lib/arrow/batch.js";
import { sharedData, tmpDir } from "../helpers.js";
import { startServer } from "./server.js";

const SECRET = "sk-e2e-never-write-me-90a1";

async function rowsOf(dir: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".parquet")).sort()) {
    for await (const b of readDocuments(join(dir, f))) rows.push(...batchRows(b));
  }
  return rows;
}

test("sample -> annotate -> refine on a Parquet sample, against the loopback server", async () => {
  const root = tmpDir();
  const inputs = [
    sharedData("web-nonmath", "dolma_cc_en_head-0091.jsonl.gz"),
    sharedData("web-nonmath", "dolma_cc_en_head-0174.jsonl.gz"),
    sharedData("web-nonmath", "dolma_provided_documents_000.jsonl.gz"),
    sharedData("web-nonmath", "dclm_human_quality_agreement.jsonl.gz"), // no date: counted as no_year
  ];
  const sampled = join(root, "sampled");
  const plan = join(root, "plan.json");
  const q = ["--quiet"];
  assert.equal(await main(["sample", ...inputs.flatMap((i) => ["-i", i]), "--per-year", "12", "--year-columns", "created",
    "--seed", "3", "--write-plan", plan, ...q]), 0);
  assert.equal(await main(["sample", ...inputs.flatMap((i) => ["-i", i]), "-o", sampled, "--plan", plan, "--seed", "3",
    "--year-columns", "created", "--year-output", "year", ...q]), 0);
  const sampleRows = await rowsOf(sampled);
  // 20 documents crawled in 2020 (12 drawn), 10 in 2023 (all drawn), 281 without a date.
  assert.equal(sampleRows.filter((r) => r.year === 2020).length, 12);
  assert.equal(sampleRows.filter((r) => r.year === 2023).length, 10);
  assert.equal(sampleRows.length, 22);
  const st = JSON.parse(readFileSync(join(sampled, "stats.json"), "utf8"));
  const s = st.stages.find((x: { name: string }) => x.name === "sample");
  assert.deepEqual(s.removed, { no_year: 281, not_sampled: 8 });

  // Scripted model: FineMath scores from a hash of the document; one document gets an unreadable answer.
  const unreadable = String(sampleRows[0].text);
  const srv = await startServer((r) => {
    if (r.prompt.startsWith("Task:")) return { answer: "Here is the refined text:\n" + r.doc.slice(0, Math.ceil(r.doc.length * 0.75)) };
    if (unreadable.startsWith(r.doc)) return { answer: "Hard to say." }; // (the prompt may hold a cut-down copy)
    return { answer: `Some reasoning.\nFinal score: ${createHash("sha256").update(r.doc).digest()[0] % 6}` };
  });
  process.env.MEGAMATH_TEST_KEY = SECRET;
  const llm = ["--base-url", srv.url, "--model", "llama-3.1-70b-instruct", "--api-key-env", "MEGAMATH_TEST_KEY", ...q];
  const annotated = join(root, "annotated");
  assert.equal(await main(["annotate", "-i", join(sampled, "*.parquet"), "-o", annotated, ...llm, "--raw-column", "raw"]), 0);
  const ann = await rowsOf(annotated);
  assert.equal(ann.length, 21);
  assert.ok(ann.every((r) => Number.isInteger(r.finemath_score) && (r.finemath_score as number) <= 5 && typeof r.year === "number"));
  const annStats = JSON.parse(readFileSync(join(annotated, "stats.json"), "utf8")).stages.find((x: { name: string }) => x.name === "annotate");
  assert.deepEqual(annStats.failed, { unparseable_score: 1 });
  assert.equal(annStats.counters.llm_requests, 22);

  // A forced rerun is answered from the journal: no new request, same bytes.
  const before = srv.requests.length;
  const outFile = readdirSync(annotated).find((n) => n.endsWith(".parquet"))!;
  const bytes = readFileSync(join(annotated, outFile));
  assert.equal(await main(["annotate", "-i", join(sampled, "*.parquet"), "-o", annotated, ...llm, "--raw-column", "raw", "--force"]), 0);
  assert.equal(srv.requests.length, before);
  assert.ok(readFileSync(join(annotated, outFile)).equals(bytes));

  const refined = join(root, "refined");
  assert.equal(await main(["refine", "-i", join(annotated, "*.parquet"), "-o", refined, ...llm, "--keep-original", "original"]), 0);
  const ref = await rowsOf(refined);
  const refStats = JSON.parse(readFileSync(join(refined, "stats.json"), "utf8")).stages.find((x: { name: string }) => x.name === "refine");
  // One real document is over the 24,000-character input budget: removed without a request.
  assert.deepEqual(refStats.removed, { refine_input_too_long: 1 });
  assert.equal(refStats.counters.llm_requests, 20);
  assert.equal(refStats.counters.refine_preamble_stripped, 20);
  assert.equal(ref.length, 20);
  for (const r of ref) {
    assert.ok(!String(r.text).startsWith("Here is"));
    assert.ok(String(r.original).startsWith(String(r.text).slice(0, 40)));
  }
  await srv.close();
  assert.ok(srv.requests.every((r) => r.authorization === `Bearer ${SECRET}`));
  for (const f of walk(root)) assert.ok(!readFileSync(f).includes(SECRET), `${f} holds the API key`);
  delete process.env.MEGAMATH_TEST_KEY;
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
