// `megamath mix` as a library call: resolve sources (tokenizing document sources on the fly), plan, fail early if a
// source cannot supply its share, pack every source's share, and write mixture.json. Everything is built in a
// temporary sibling folder and renamed into place at the end, so a failed run leaves nothing half-written. A dry run
// writes nothing next to the output: the token counts of document sources are made in a folder under the OS temp
// dir, removed at the end.
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { rm, rename, mkdir, mkdtemp } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { randomBytes } from "node:crypto";
import type { Logger } from "../../lib/runtime/log.js";
import { loadTokenizer } from "../../lib/tokenizer/load.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import type { TokenizerInfo } from "../../lib/formats/token-file.js";
import { writeFileAtomic } from "../../lib/io/atomic.js";
import { type MixSpec, MixSpecError } from "./spec.js";
import { planMixture, type MixPlan } from "./plan.js";
import { resolveSource, describeTokenSource, type TokenSourceInfo } from "./sources.js";
import { packSource, type PackResult } from "./pack.js";

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

export async function runMix(opts: RunMixOptions): Promise<{ plan: MixPlan; mixture: MixtureJson | null }> {
  const { spec, log } = opts;
  const out = resolve(opts.outDir);
  if (!opts.dryRun && existsSync(join(out, "mixture.json")) && !opts.force) {
    throw new MixSpecError(`${out} already holds a mixture (mixture.json); use --force to replace it`);
  }
  // The finished mixture replaces the output folder whole: only a folder megamath made (it holds mixture.json) or an
  // empty one may be replaced, and never one that holds a source.
  if (!opts.dryRun && existsSync(out) && !existsSync(join(out, "mixture.json")) && readdirSync(out).length > 0) {
    throw new MixSpecError(`${out} exists and is not a mixture folder (no mixture.json): megamath replaces only folders it made; choose another --output`);
  }
  for (const s of spec.sources) {
    const p = opts.paths?.[s.name] ?? s.path;
    if (p && (resolve(p) + sep).startsWith(out + sep)) {
      throw new MixSpecError(`source "${s.name}" (${p}) is inside the output folder ${out}, which the mixture replaces; choose another --output`);
    }
  }
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
    : join(dirname(out), `.tmp-${basename(out)}-${process.pid}-${randomBytes(3).toString("hex")}`);
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
        const res = await tokenizeFiles({
          inputs: r.files, outDir: join(work, ".sources", s.name), tokenizer: opts.tokenizer ?? "llama3",
          template: s.template ?? { name: "web" }, seed: spec.seed, workers: opts.workers, log,
        });
        prefixes = res.shards.map((m) => join(work, ".sources", s.name, m.prefix));
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
    if (opts.dryRun) return { plan, mixture: null };
    // 3. Pack each source's share.
    const packed: PackResult[] = [];
    for (const p of plan.sources) {
      const prefix = join(work, p.name, p.name);
      await mkdir(dirname(prefix), { recursive: true });
      packed.push(await packSource(p.name, infos.get(p.name)!, p.planned_tokens, prefix, tokInfo, spec.seed));
    }
    const total = packed.reduce((a, r) => a + r.tokens_written, 0);
    const sources = plan.sources.map((p, i) => ({
      name: p.name, weight: p.weight, prefix: `${p.name}/${p.name}`, planned_tokens: p.planned_tokens,
      available_tokens: p.available_tokens, available_documents: p.available_documents, epochs: p.epochs,
      max_repetition: p.max_repetition, documents_written: packed[i].documents_written,
      tokens_written: packed[i].tokens_written, truncated_documents: packed[i].truncated_documents,
      inputs: infos.get(p.name)!.prefixes.map((x) => (x.startsWith(work) ? x.slice(work.length + 1) : x)),
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
    return { plan, mixture };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
