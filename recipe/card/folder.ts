// `megamath card` as a library call: find what a folder is (a build folder with plan.json, or a mixture folder with
// mixture.json), gather its figures from what the steps left there, and write README.md cards: one in the build's
// final corpus folder and one in each mixture folder.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { writeFileAtomic } from "../../lib/io/atomic.js";
import { packagePath } from "../../lib/paths.js";
import { isDataFile, isTempName } from "../../lib/io/index.js";
import { indexSetBenchmarks } from "../../lib/decontam/index-set.js";
import { readPlanFile } from "../plan-file.js";
import { reportFromFolder } from "../report/folder.js";
import type { Report } from "../report/collect.js";
import { PRESETS, loadPreset } from "../../lib/mix/spec.js";
import type { MixtureJson } from "../../lib/mix/run.js";
import { corpusCard, mixtureCard } from "./card.js";

export interface CardOptions {
  /** Licence of the corpus card (Hub id); default odc-by, MegaMath-Web's (recipe.md §6). */
  license?: string;
  /** The build folder's report when the caller has just written it (`megamath build`): not collected again. */
  report?: Report;
}

/** Write the cards of `dir`; returns the README.md paths written. */
export async function writeCards(dir: string, o: CardOptions = {}): Promise<string[]> {
  if (existsSync(join(dir, "mixture.json"))) return [await writeMixtureCard(dir)];
  if (!existsSync(join(dir, "plan.json"))) {
    throw new Error(`${dir} is neither a build folder (plan.json) nor a mixture folder (mixture.json)`);
  }
  const pf = await readPlanFile(dir);
  if (!pf.finalDir) throw new Error(`${dir}: the recipe names no final step, so there is no corpus to describe`);
  const report = o.report ?? (await reportFromFolder(dir));
  // Documents only: not stats.json, completion markers or the decontamination report folder.
  const files = existsSync(pf.finalDir)
    ? readdirSync(pf.finalDir).filter((f) => !f.startsWith(".") && !isTempName(f) && DOCUMENT_FILE.test(f) && isDataFile(join(pf.finalDir!, f)))
    : [];
  if (!files.length) throw new Error(`${pf.finalDir} holds no documents: run the build to the end first`);
  const docs = report.finalCorpus?.docs;
  if (docs === undefined) throw new Error(`${dir}: the report has no figures for the final corpus (${pf.finalDir}); did its step finish?`);
  const extensions = [...new Set(files.map((f) => DOCUMENT_FILE.exec(f)![0]))].sort();
  const decont = pf.plan.find((p) => p.command === "decontaminate" && !p.skipped);
  // The benchmarks the decontaminate step matched against: its --index (default: the shipped 12) and extras.
  const index = decont?.options.index ? String(decont.options.index) : undefined;
  const extraBenchmarks = decont?.options["extra-benchmark"] ? ([] as unknown[]).concat(decont.options["extra-benchmark"]).map(String) : undefined;
  const benchmarks = indexSetBenchmarks({ index, extraBenchmarks }).map((b) => ({ name: b.name, items: b.items }));
  const first = pf.plan.find((p) => p.options.input !== undefined);
  const local = localPaths(dir);
  const inputs = first ? ([] as unknown[]).concat(first.options.input).map((x) => local(String(x))) : [];
  const card = corpusCard({
    recipe: pf.recipe, report, documents: docs, tokens: report.finalCorpus?.tokens, license: o.license ?? "odc-by",
    dataFiles: extensions.map((e) => `*${e}`), inputs, benchmarks,
    steps: pf.plan.map((p) => ({
      step: p.step, command: p.command, about: p.about, skipped: p.skipped,
      options: Object.fromEntries(Object.entries(p.options).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => local(String(x))) : typeof v === "string" ? local(v) : v])),
    })),
  });
  const written = [join(pf.finalDir, "README.md")];
  await writeFileAtomic(written[0], card);
  for (const p of pf.plan) {
    if (p.command === "mix" && !p.skipped && existsSync(join(p.outDir, "mixture.json"))) written.push(await writeMixtureCard(p.outDir));
  }
  return written.map((w) => relative(process.cwd(), resolve(w)) || w);
}

const DOCUMENT_FILE = /\.(parquet|arrow|jsonl|ndjson)(\.gz|\.zst)?$/;

/** Paths as a published card shows them: the build folder as BUILD/, this installation as megamath/ (a card
 * should not carry the machine's absolute paths). */
function localPaths(buildDir: string): (s: string) => string {
  const build = resolve(buildDir);
  const root = packagePath();
  return (s) => s.split(build).join("BUILD").split(root).join("megamath");
}

async function writeMixtureCard(dir: string): Promise<string> {
  const mixture = JSON.parse(readFileSync(join(dir, "mixture.json"), "utf8")) as MixtureJson;
  if (!Array.isArray(mixture.sources) || typeof mixture.tokens_written !== "number") {
    throw new Error(`${join(dir, "mixture.json")} is not a mixture written by megamath mix`);
  }
  const layouts = (PRESETS as readonly string[]).includes(mixture.name) ? loadPreset(mixture.name).layouts : undefined;
  const path = join(dir, "README.md");
  await writeFileAtomic(path, mixtureCard({ mixture, layouts }));
  return path;
}
