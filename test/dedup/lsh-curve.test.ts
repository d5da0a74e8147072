// Quality check: on real text with planted pairs of known 5-gram Jaccard similarity, the share of pairs the
// pipeline puts in one cluster follows the LSH curve 1 - (1 - s^r)^b within sampling error, no candidate pair
// has a true similarity below 0.5, and the survivor of each planted pair is the one with the higher math_score.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tmpDir } from "../helpers.js";
import { buildPlantedCorpus, jaccard, shingles, LEVELS, type PlantedDoc } from "./planted-corpus.js";
import { runDedupStages, dedupFilterStage, dedupPaths, readRecordFile, readRecordChunks, lshProbability, defaultDedupParams } from "../../lib/dedup/index.js";
import { runPipeline } from "../../lib/runtime/runner.js";
import { readDocuments } from "../../lib/io/index.js";
import { getStrings } from "../../lib/arrow/batch.js";

test("detection rate per similarity level follows 1 - (1 - s^r)^b; nothing below 0.5 is paired", async (t) => {
  const dir = tmpDir("dedup-lsh-");
  const corpus = buildPlantedCorpus(dir, 7);
  const work = join(dir, "work");
  const params = { ...defaultDedupParams };
  const s = await runDedupStages({ inputs: corpus.files, workDir: work, params, read: {}, onError: "fail" });
  assert.equal(s.stages[0].counters.too_short, 6, "documents under 5 words are counted and never signed");

  // Where every document ended up: (file, row) -> cluster id, and whether it survived.
  const where = new Map<string, { file: number; row: number; doc: PlantedDoc }>();
  corpus.docs.forEach((docs, f) => docs.forEach((d, row) => where.set(d.id, { file: f, row, doc: d })));
  const cluster = new Map<string, { cluster: number; keep: boolean }>();
  for (let f = 0; f < corpus.files.length; f++) {
    const { data } = await readRecordFile(dedupPaths.dups(work, f), "dups");
    for (let i = 0; i < data.length; i += 3) cluster.set(`${f}:${data[i]}`, { cluster: data[i + 1], keep: data[i + 2] === 1 });
  }
  const key = (id: string) => `${where.get(id)!.file}:${where.get(id)!.row}`;

  const lines: string[] = [];
  for (const { level } of LEVELS) {
    const pairs = corpus.pairs.filter((p) => p.level === level);
    let found = 0;
    let expected = 0;
    let variance = 0;
    for (const p of pairs) {
      const ca = cluster.get(key(p.a));
      const cb = cluster.get(key(p.b));
      if (ca && cb && ca.cluster === cb.cluster) found++;
      const q = lshProbability(p.jaccard, params.bands, params.rows);
      expected += q;
      variance += q * (1 - q);
    }
    const n = pairs.length;
    const rate = found / n;
    const want = expected / n;
    // 4 binomial standard deviations (Poisson-binomial over the pairs' exact similarities) + half a pair.
    const tol = (4 * Math.sqrt(variance)) / n + 0.5 / n;
    lines.push(`s=${level}: ${found}/${n} = ${rate.toFixed(3)}, theory ${want.toFixed(3)} ± ${tol.toFixed(3)}`);
    assert.ok(Math.abs(rate - want) <= tol, `level ${level}: detected ${rate.toFixed(3)}, theory ${want.toFixed(3)} ± ${tol.toFixed(3)}`);
  }
  t.diagnostic(lines.join("; "));
  const exact = corpus.pairs.filter((p) => p.level === 1);
  assert.ok(exact.every((p) => cluster.get(key(p.a))?.cluster === cluster.get(key(p.b))?.cluster), "all exact copies found");

  // Every candidate pair any band produced: its true Jaccard must be >= 0.5 (planted 0.5-level pairs may sit at
  // 0.48-0.52 by construction).
  const byKey = new Map<string, PlantedDoc>();
  for (const [, v] of where) byKey.set(`${v.file}:${v.row}`, v.doc);
  let candidates = 0;
  let minJ = 1;
  for (let b = 0; b < params.bands; b++) {
    for await (const chunk of readRecordChunks(dedupPaths.pairs(work, b), "pairs")) {
      for (let i = 0; i < chunk.length; i += 4) {
        const x = byKey.get(`${chunk[i]}:${chunk[i + 1]}`)!;
        const y = byKey.get(`${chunk[i + 2]}:${chunk[i + 3]}`)!;
        const j = jaccard(shingles(x.words), shingles(y.words));
        minJ = Math.min(minJ, j);
        candidates++;
      }
    }
  }
  t.diagnostic(`${candidates} candidate pairs over ${params.bands} bands, lowest true Jaccard ${minJ.toFixed(3)}`);
  assert.ok(minJ >= 0.48, `a pair with true Jaccard ${minJ.toFixed(3)} was paired`);

  // Survivors: in each detected planted pair, the higher math_score stays; a tie keeps the smaller (file, row).
  let checked = 0;
  for (const p of corpus.pairs) {
    const ka = key(p.a), kb = key(p.b);
    const ca = cluster.get(ka), cb = cluster.get(kb);
    if (!ca || !cb || ca.cluster !== cb.cluster) continue;
    const A = where.get(p.a)!, B = where.get(p.b)!;
    const aWins = A.doc.score > B.doc.score ||
      (A.doc.score === B.doc.score && (A.file < B.file || (A.file === B.file && A.row < B.row)));
    assert.equal(ca.keep, aWins, `pair ${p.a}/${p.b}: wrong survivor`);
    assert.equal(cb.keep, !aWins, `pair ${p.a}/${p.b}: wrong survivor`);
    checked++;
  }
  assert.ok(checked >= 600, `only ${checked} planted pairs detected`);

  // Stage 4 under the pipeline runner: exactly the losers are removed, counted as "duplicate".
  const out = join(dir, "out");
  const r = await runPipeline({
    inputs: corpus.files, outDir: out, stages: [dedupFilterStage({ workDir: work, inputs: corpus.files })],
    write: { format: "jsonl" },
  });
  const total = corpus.docs.reduce((n, d) => n + d.length, 0);
  const losers = [...cluster.values()].filter((c) => !c.keep).length;
  const st = r.stats.stages.find((x) => x.name === "dedup")!;
  assert.equal(st.docsIn, total);
  assert.equal(st.removed.duplicate, losers);
  assert.equal(st.docsOut + st.removed.duplicate, st.docsIn);
  const kept = new Set<string>();
  for (const f of r.outputs) for await (const b of readDocuments(f)) for (const id of getStrings(b, "id")) kept.add(id!);
  assert.equal(kept.size, total - losers);
  for (const p of corpus.pairs) {
    const ca = cluster.get(key(p.a));
    if (ca && !ca.keep) assert.ok(!kept.has(p.a));
  }
});
