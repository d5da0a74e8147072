// report.json's figures come from the steps' own outputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { collectReport } from "../../recipe/report/collect.js";
import { tmpDir } from "../helpers.js";

test("mixture tokens and shares are what mix packed (tokens_written), not its plan", async () => {
  const dir = join(tmpDir("megamath-report-"), "mix-stable");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "mixture.json"), JSON.stringify({
    name: "stable", total_tokens: 1000, tokens_written: 900,
    sources: [
      { name: "web", weight: 0.7, planned_tokens: 700, tokens_written: 600 },
      { name: "qa", weight: 0.3, planned_tokens: 300, tokens_written: 300 },
    ],
  }));
  const report = await collectReport({
    recipe: "t", differences: {},
    plan: [{ step: "mix-stable", command: "mix", options: {}, runOptions: {}, positionals: [], shard: "none", outDir: dir }],
    results: [{ step: "mix-stable", command: "mix", status: "ran", seconds: 1, options: {} }],
  });
  assert.deepEqual(report.mixtures, [{
    name: "stable", totalTokens: 900,
    sources: [{ name: "web", weight: 0.7, tokens: 600, share: 0.66667 }, { name: "qa", weight: 0.3, tokens: 300, share: 0.33333 }],
  }]);
});
