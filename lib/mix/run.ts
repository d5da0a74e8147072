// `megamath mix` as a library call: resolve sources (tokenizing document sources on the fly), plan, fail early if a
// source cannot supply its share, pack every source's share, and write mixture.json. Everything is built in a
// temporary sibling folder and renamed into place at the end, so a failed run leaves nothing half-written. A dry run
// writes nothing next to the output: the token counts of document sources are made in a folder under the OS temp
// dir, removed at the end.
// The mixture is one task of the task loop (lib/runtime/task-loop.ts): its marker (<out>/.done/mixture.json) holds
// the fingerprint of the spec, the tokenizer and every source file, so a rerun with the same fingerprint skips and any
// change redoes it. The temp folder's name is owned by the task: a killed run's leftover is removed by the next one.
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { rm, rename, mkdir, mkdtemp, readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { randomBytes } from "node:crypto";
import type { Logger } from "../runtime/log.js";
import { loadTokenizer } from "../tokenizer/load.js";
import { shardPrefixes, tokenizeFiles } from "../tokenizer/tokenize-files.js";
import type { TokenizerInfo } from "../formats/token-file.js";
import { writeFileAtomic } from "../io/atomic.js";
import { fingerprintFile, hashOf, taskFingerprint } from "../runtime/fingerprint.js";
import { markerPath, readTaskMarker, removeOwnTemps, runTaskLoop } from "../runtime/task-loop.js";
import { StageStats } from "../runtime/stats.js";
import { type MixSpec, type MixSourceSpec, MixSpecError } from "./spec.js";
import { planMixture, type MixPlan } from "./plan.js";
import { resolveSource, describeTokenSource, type TokenSourceInfo } from "./sources.js";
import { packSource, type PackResult } from "./pack.js";
import { checkMixLayouts } from "./layouts.js";

export interface RunMixOptions {
  spec: MixSpec;
  /** Paths per source name (override the spec's "path"). */
  paths?: Record<string, string>;
  outDir: string;
  tokenizer?: string;
  workers?: number;
  force?: boolean;
  /** Plan only: check budgets and print the plan, write nothing. */
  dryRun?: boolean;
  /** A folder where document sources are tokenized once and reused by every mixture naming the same files with the
   * same template, tokenizer and seed (the recipe's mixtures share DCLM, the instruction data, ...). Each source gets
   * its own subfolder; tokenize's task markers decide reuse, so a changed file is retokenized. Default: none, each
   * mixture tokenizes its document sources in its own temp folder. */
  sourceCache?: string;
  log?: Logger;
}

export interface MixtureJson {
  name: string;
  description?: string;
  seed: number;
  total_tokens: number;
  tokens_written: number;
  tokenizer: TokenizerInfo;
  dtype: string;
  weights_sum_given: number;
  weights_normalized: boolean;
  sources: {
    name: string; weight: number; prefix: string; planned_tokens: number; available_tokens: number;
    available_documents: number; epochs: number; max_repetition: number; documents_written: number;
    tokens_written: number; truncated_documents: number; inputs: string[];
  }[];
  megatron_data_path: (number | string)[];
  nanotron_datasets: { dataset_folder: string[]; dataset_weights: number[] };
}

/** The temp folder of a mix into `out` ("owned": the next run removes a killed run's). */
const WORK_SUFFIX = ".mix";

/** Run (or, when its marker matches, skip) the mixture. `plan` is null when a finished mixture was reused. */
export async function runMix(opts: RunMixOptions): Promise<{ plan: MixPlan | null; mixture: MixtureJson | null; skipped?: boolean }> {
  const out = resolve(opts.outDir);
  // Every document source against its template before anything is read whole or tokenized (layouts.ts): a library
  // caller gets the same "columns found, templates that would read them" error as `megamath mix`.
  await checkMixLayouts(opts.spec, opts.paths ?? {});
  if (opts.dryRun) return buildMix(opts, out);
  if (existsSync(join(out, "mixture.json")) && !opts.force && !(await readTaskMarker(markerPath(out, "mixture")))) {
    throw new MixSpecError(`${out} already holds a mixture (mixture.json) that this megamath did not record; use --force to replace it`);
  }
  // The finished mixture replaces the output folder whole: only a folder megamath made (it holds mixture.json) or an
  // empty one may be replaced, and never one that holds a source.
  if (!opts.dryRun && existsSync(out) && !existsSync(join(out, "mixture.json")) && readdirSync(out).length > 0) {
    throw new MixSpecError(`${out} exists and is not a mixture folder (no mixture.json): megamath replaces only folders it made; choose another --output`);
  }
  for (const s of opts.spec.sources) {
    const p = opts.paths?.[s.name] ?? s.path;
    if (p && (resolve(p) + sep).startsWith(out + sep)) {
      throw new MixSpecError(`source "${s.name}" (${p}) is inside the output folder ${out}, which the mixture replaces; choose another --output`);
    }
  }
  const fingerprint = await mixFingerprint(opts);
  let built: { plan: MixPlan; mixture: MixtureJson | null; files: Map<string, string[]> } | null = null;
  const loop = await runTaskLoop({
    step: "mix", outDir: out, force: opts.force, log: opts.log, tempSuffixes: [],
    tasks: [{ key: "mixture", fingerprint }],
    run: async () => {
      await removeOwnTemps(dirname(out), basename(out), [WORK_SUFFIX]);
      const b = await buildMix(opts, out);
      built = b;
      const m = b.mixture!;
      const stats = new StageStats("mix");
      stats.count("tokens_written", m.tokens_written);
      stats.count("documents_written", m.sources.reduce((a, x) => a + x.documents_written, 0));
      const outputs = ["mixture.json", ...m.sources.flatMap((x) => (b.files.get(x.name) ?? []).map((f) => `${x.name}/${f}`))];
      return { outputs, stats: { files: 1, stages: [stats.toJSON()] } };
    },
  });
  if (loop.skipped.length) {
    opts.log?.info(`mix: ${out} already holds this mixture (same spec, tokenizer and sources); skipping (use --force to redo)`);
    return { plan: null, mixture: JSON.parse(await readFile(join(out, "mixture.json"), "utf8")) as MixtureJson, skipped: true };
  }
  const { plan, mixture } = built!;
  return { plan, mixture };
}

/** The mixture's fingerprint: the spec with its paths, the tokenizer, and every file each source resolves to. */
async function mixFingerprint(opts: RunMixOptions): Promise<string> {
  const reads: string[] = [];
  for (const s of opts.spec.sources) {
    const path = opts.paths?.[s.name] ?? s.path;
    if (!path) continue; // buildMix says which sources lack data
    const r = await resolveSource(s.name, path);
    const files = r.kind === "tokens" ? r.prefixes.flatMap((p) => [p + ".bin", p + ".idx"]) : r.files;
    for (const f of files) reads.push(`${s.name}:${await fingerprintFile(f)}`);
  }
  return taskFingerprint({ step: "mix", settings: { spec: opts.spec, paths: opts.paths ?? {}, tokenizer: opts.tokenizer ?? "llama3" }, reads });
}

async function buildMix(opts: RunMixOptions, out: string): Promise<{ plan: MixPlan; mixture: MixtureJson | null; files: Map<string, string[]> }> {
  const { spec, log } = opts;
  const unknown = Object.keys(opts.paths ?? {}).filter((n) => !spec.sources.some((s) => s.name === n));
  if (unknown.length) {
    throw new MixSpecError(`--source names not in mixture "${spec.name}": ${unknown.join(", ")} (sources: ${spec.sources.map((s) => s.name).join(", ")})`);
  }
  const tok = loadTokenizer(opts.tokenizer ?? "llama3");
  const tokInfo: TokenizerInfo = {
    name: tok.name, hf_name: tok.hfName, vocab_size: tok.vocabSize, fingerprint: tok.fingerprint, bos_id: tok.bosId, eos_id: tok.eosId,
  };
  tok.free();
  const missing = spec.sources.filter((s) => !(opts.paths?.[s.name] ?? s.path)).map((s) => s.name);
  if (missing.length) throw new MixSpecError(`no data for source(s) ${missing.join(", ")}: give --source NAME=PATH for each`);

  const work = opts.dryRun
    ? await mkdtemp(join(tmpdir(), "megamath-mix-dry-run-"))
    : join(dirname(out), `.tmp-${basename(out)}${WORK_SUFFIX}-${process.pid}-${randomBytes(3).toString("hex")}`);
  const cache = opts.sourceCache && !opts.dryRun ? resolve(opts.sourceCache) : undefined;
  // Paths as recorded in manifests: inside the temp folder relative to it, in the source cache relative to the
  // mixture folder, so two builds write the same bytes.
  const shown = (x: string) => (x.startsWith(work) ? x.slice(work.length + 1) : cache && x.startsWith(cache + sep) ? relative(out, x) : x);
  try {
    // 1. Resolve every source to token files; tokenize document sources into the work folder.
    const infos = new Map<string, TokenSourceInfo>();
    for (const s of spec.sources) {
      const path = opts.paths?.[s.name] ?? s.path!;
      const r = await resolveSource(s.name, path);
      let prefixes: string[];
      if (r.kind === "tokens") prefixes = r.prefixes;
      else {
        if (opts.dryRun) log?.info(`mix: ${s.name}: tokenizing ${r.files.length} file(s) to count tokens`);
        const files = r.files.map((f) => resolve(f));
        const dir = cache ? cachedSourceDir(cache, s, files, opts) : join(work, ".sources", s.name);
        await tokenizeSource(s, files, dir, opts);
        prefixes = shardPrefixes(files, dir);
      }
      const info = describeTokenSource(prefixes);
      for (const [i, m] of info.manifests.entries()) {
        if (!m) log?.warn(`mix: ${info.prefixes[i]} has no manifest; assuming it was tokenized with ${tokInfo.name}`);
        else if (m.tokenizer.fingerprint !== tokInfo.fingerprint) {
          throw new MixSpecError(`source "${s.name}": ${info.prefixes[i]} was tokenized with ${m.tokenizer.name} (${m.tokenizer.fingerprint}), the mixture uses ${tokInfo.name} (${tokInfo.fingerprint})`);
        }
      }
      infos.set(s.name, info);
    }
    // 2. Plan; fails before anything is packed.
    const plan = planMixture(spec, new Map([...infos].map(([n, i]) => [n, { tokens: i.tokens, documents: i.documents }])));
    if (Math.abs(plan.weights_sum - 1) > 1e-9) {
      log?.warn(`mix: weights of "${spec.name}" sum to ${plan.weights_sum}, not 1; normalized to token shares`);
    }
    for (const p of plan.sources) {
      log?.info(`mix: ${p.name}: weight ${(p.weight * 100).toFixed(3)}%, ${p.planned_tokens} tokens of ${p.available_tokens} available (${p.epochs.toFixed(3)} epochs)`);
    }
    if (opts.dryRun) return { plan, mixture: null, files: new Map() };
    // 3. Pack each source's share.
    const packed: PackResult[] = [];
    for (const p of plan.sources) {
      const prefix = join(work, p.name, p.name);
      await mkdir(dirname(prefix), { recursive: true });
      packed.push(await packSource(p.name, infos.get(p.name)!, p.planned_tokens, prefix, tokInfo, spec.seed, shown));
    }
    const total = packed.reduce((a, r) => a + r.tokens_written, 0);
    const sources = plan.sources.map((p, i) => ({
      name: p.name, weight: p.weight, prefix: `${p.name}/${p.name}`, planned_tokens: p.planned_tokens,
      available_tokens: p.available_tokens, available_documents: p.available_documents, epochs: p.epochs,
      max_repetition: p.max_repetition, documents_written: packed[i].documents_written,
      tokens_written: packed[i].tokens_written, truncated_documents: packed[i].truncated_documents,
      inputs: infos.get(p.name)!.prefixes.map(shown),
    }));
    const mixture: MixtureJson = {
      name: spec.name, description: spec.description, seed: spec.seed, total_tokens: plan.total_tokens,
      tokens_written: total, tokenizer: tokInfo, dtype: packed[0]?.manifest.dtype ?? "int32",
      weights_sum_given: plan.weights_sum, weights_normalized: Math.abs(plan.weights_sum - 1) > 1e-9,
      sources,
      megatron_data_path: sources.flatMap((s) => [s.weight, s.prefix]),
      nanotron_datasets: { dataset_folder: sources.map((s) => s.name), dataset_weights: sources.map((s) => s.weight) },
    };
    await writeFileAtomic(join(work, "mixture.json"), JSON.stringify(mixture, null, 2) + "\n");
    if (existsSync(out)) await rm(out, { recursive: true, force: true });
    await mkdir(dirname(out), { recursive: true });
    await rename(work, out);
    const files = new Map(packed.map((r, i) => [plan.sources[i].name, [...r.manifest.files, `${r.manifest.prefix}.manifest.json`]]));
    return { plan, mixture, files };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Tokenize, ahead of the mixture, the document sources that `ready` accepts into the source cache (the mixture then
 * finds them done): a build runs this while the steps the mixture waits for are still running (the mixture's own
 * sources read nothing the build makes). Same folders, same task markers, same bytes as when the mixture tokenizes
 * them itself; does nothing without a source cache. */
export async function prepareMixSources(opts: RunMixOptions, ready: (path: string) => boolean): Promise<void> {
  if (!opts.sourceCache || opts.dryRun) return;
  const cache = resolve(opts.sourceCache);
  for (const s of opts.spec.sources) {
    const path = opts.paths?.[s.name] ?? s.path;
    if (!path || !ready(path)) continue;
    const r = await resolveSource(s.name, path);
    if (r.kind === "tokens") continue;
    const files = r.files.map((f) => resolve(f));
    await tokenizeSource(s, files, cachedSourceDir(cache, s, files, opts), opts);
  }
}

/** A document source's folder in the source cache: one per (files, template, tokenizer, seed). */
function cachedSourceDir(cache: string, s: MixSourceSpec, files: string[], opts: RunMixOptions): string {
  const template = s.template ?? { name: "web" };
  return join(cache, `${s.name}-${hashOf({ files, template, tokenizer: opts.tokenizer ?? "llama3", seed: opts.spec.seed }).slice(0, 12)}`);
}

function tokenizeSource(s: MixSourceSpec, files: string[], dir: string, opts: RunMixOptions) {
  const template = s.template ?? { name: "web" };
  return oneAtATime(dir, () => tokenizeFiles({ inputs: files, outDir: dir, tokenizer: opts.tokenizer ?? "llama3", template, seed: opts.spec.seed, workers: opts.workers, log: opts.log }));
}

/** Mixtures of one build may run at once (recipe/run.ts) and share cached sources: one tokenizes a
 * cache folder while the others wait for it, then find its markers and reuse it. */
const busy = new Map<string, Promise<unknown>>();
async function oneAtATime<T>(key: string, f: () => Promise<T>): Promise<T> {
  while (busy.has(key)) await busy.get(key)!.catch(() => {});
  const p = f();
  busy.set(key, p);
  try {
    return await p;
  } finally {
    busy.delete(key);
  }
}
