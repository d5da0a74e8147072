// The build report's dedup section shows stage 3's figures (clusters/done.json as stage 3 writes it): mode,
// retained documents, largest cluster, the cluster-size histogram and (bucket mode) greedy/bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { collectReport } from "../../recipe/report/collect.js";
import { renderReport } from "../../recipe/report/html.js";
import { tmpDir } from "../helpers.js";

test("report.json and report.html carry the dedup step's retained docs, largest cluster, sizes and greedy/bound", async () => {
  const dir = join(tmpDir("dedup-report-"), "dedup");
  mkdirSync(join(dir, "dedup-work", "clusters"), { recursive: true });
  writeFileSync(join(dir, "dedup-work", "clusters", "done.json"), JSON.stringify({
    inputDigest: "x", clusters: 3, clusteredDocs: 9, duplicates: 6, files: [], clustering: "bucket", docs: 100,
    retained: 94, largestCluster: 5, clusterSizes: { "2": 1, "3-4": 1, "5-8": 1 }, upperBound: 96, greedyBoundRatio: 94 / 96,
  }));
  const report = await collectReport({
    recipe: "t", differences: {},
    plan: [{ step: "dedup", command: "dedup", options: {}, runOptions: {}, positionals: [], shard: "none", outDir: dir }],
    results: [],
  });
  assert.deepEqual(report.dedup, {
    clustering: "bucket", docs: 100, retained: 94, removed: 6, clusters: 3, largestCluster: 5,
    clusterSizes: { "2": 1, "3-4": 1, "5-8": 1 }, upperBound: 96, greedyBoundRatio: 94 / 96,
  });
  const html = renderReport(report);
  assert.match(html, /data-key="dedup.retained" data-value="94"/);
  assert.match(html, /data-key="dedup.largestCluster" data-value="5"/);
  assert.match(html, /data-key="dedup.sizes.3-4" data-value="1"/);
  assert.match(html, /greedy\/bound <span data-key="dedup.greedyBoundRatio" data-value="0.979/);
});
