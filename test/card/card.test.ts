// `megamath card` writes Hugging Face dataset cards whose YAML header parses and uses the Hub's field names
// (hub-metadata.ts, from the Hub's documentation), with the figures of the folder it describes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { tmpDir, repoRoot } from "../helpers.js";
import { loadPreset, runMix } from "../../lib/mix/index.js";
import { writeCards } from "../../recipe/card/folder.js";
import { sizeCategory } from "../../recipe/card/inputs.js";
import { cardMetadata, hubProblems } from "./hub-metadata.js";

const demo = join(repoRoot, "fixtures", "demo");

test("the validator rejects what the Hub would not read", () => {
  assert.deepEqual(hubProblems({ license: "odc-by", language: ["en"], size_categories: ["1K<n<10K"], task_categories: ["text-generation"],
    configs: [{ config_name: "default", data_files: [{ split: "train", path: "*.parquet" }] }] }), []);
  const bad = hubProblems({ licenses: ["odc-by"], language: "English", size_categories: ["1K-10K"], task_categories: ["text-generation"],
    configs: [{ name: "default", data_files: [{ path: "*.parquet" }] }] });
  assert.ok(bad.includes('unknown field "licenses"'), bad.join("; "));
  assert.ok(bad.includes('missing "license"'));
  assert.ok(bad.includes("language must be ISO 639 codes"));
  assert.ok(bad.some((p) => p.startsWith("size_categories")));
  assert.ok(bad.includes("configs[0].config_name must be a string"));
  assert.ok(bad.includes("configs[0].data_files must be a path, or a list of {split, path}"));
  assert.deepEqual(hubProblems({ license: "other", language: ["en"], size_categories: ["n<1K"], task_categories: ["x"], configs: [{ config_name: "a", data_files: "a.bin" }] }),
    ["license other needs license_name"]);
});

test("size categories follow the Hub's bins", () => {
  assert.equal(sizeCategory(0), "n<1K");
  assert.equal(sizeCategory(999), "n<1K");
  assert.equal(sizeCategory(1000), "1K<n<10K");
  assert.equal(sizeCategory(69_200_000), "10M<n<100M"); // Pro-Max's ≈69.2M rows (recipe.md §2.2), "10M-100M" on the Hub
  assert.equal(sizeCategory(2e12), "n>1T");
});

test("a mixture card: Hub header, tokens and documents per source as packed, licences and layouts", async () => {
  const dir = tmpDir();
  const spec = { ...loadPreset("decay-long"), total_tokens: 30_000 };
  const paths = {
    "megamath-web-pro": join(demo, "sources", "dclm-baseline.parquet"), instruction: join(demo, "sources", "instruction.parquet"),
    "dclm-baseline": join(demo, "sources", "dclm-baseline.parquet"), "openr1-math-220k": join(demo, "sources", "openr1-math-220k.parquet"),
    "am-deepseek-distilled-40m": join(demo, "sources", "am-deepseek-distilled-40m.parquet"),
  };
  const out = join(dir, "mix");
  const { mixture } = await runMix({ spec, paths, outDir: out, workers: 0 });
  const written = await writeCards(out);
  assert.deepEqual(written.map((w) => w.endsWith(join("mix", "README.md"))), [true]);
  const readme = readFileSync(join(out, "README.md"), "utf8");
  const meta = cardMetadata(readme);
  assert.deepEqual(hubProblems(meta), []);
  const docs = mixture!.sources.reduce((a, s) => a + s.documents_written, 0);
  assert.deepEqual(meta.size_categories, [sizeCategory(docs)]);
  // Mixed licences (odc-by, cc-by-4.0, apache-2.0, cc-by-nc-4.0): "other" with a name, spelled out in the body.
  assert.equal(meta.license, "other");
  assert.equal(meta.viewer, false);
  assert.deepEqual((meta.configs as { config_name: string }[]).map((c) => c.config_name), spec.sources.map((s) => s.name));
  for (const s of mixture!.sources) {
    const row = readme.split("\n").find((l) => l.startsWith(`| ${s.name} | `) && l.includes("%"));
    assert.ok(row, `no row for ${s.name}`);
    assert.ok(row.includes(`| ${s.tokens_written.toLocaleString("en-US")} | ${s.documents_written.toLocaleString("en-US")} |`), row);
  }
  assert.match(readme, /\*\*30,000 tokens\*\* of llama3/);
  assert.match(readme, /a-m-team\/AM-DeepSeek-Distilled-40M \| cc-by-nc-4.0 \| non-commercial/);
  assert.match(readme, /flat `question` and `answer` fields/, "the preset's layout note");
});

test("megamath card on a folder that is neither a build nor a mixture says so", () => {
  const dir = tmpDir();
  let err = "";
  try {
    execFileSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), "card", dir], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    err = (e as { stderr: Buffer }).stderr.toString();
  }
  assert.match(err, /is neither a build folder \(plan\.json\) nor a mixture folder \(mixture\.json\)/);
  assert.equal(existsSync(join(dir, "README.md")), false);
});
