// Mixture specs: a JSON file (or a shipped preset) listing sources with weights as shares of tokens, a total token
// budget, a maximum repetition (epochs) per source and a seed. Weights that do not sum to 1 are normalized with a
// warning (Megatron and nanotron normalize too); a zero, negative or non-numeric weight is an error.
import { readFileSync, existsSync } from "node:fs";
import { packagePath } from "../../lib/paths.js";
import { parseTemplateName, type TemplateSpec } from "../../lib/tokenizer/templates.js";

export const PRESETS = ["stable", "decay-long", "decay-short", "decay-hybrid"] as const;

export interface MixSourceSpec {
  name: string;
  weight: number;
  /** Token files (folder, prefix, .bin/.idx, glob) or documents (Parquet/JSONL globs, tokenized with `template`). */
  path?: string;
  template?: TemplateSpec;
  /** Most epochs this source may be repeated; default: the spec's max_repetition. */
  max_repetition?: number;
}

export interface MixSpec {
  name: string;
  description?: string;
  total_tokens: number;
  max_repetition: number;
  seed: number;
  sources: MixSourceSpec[];
}

export class MixSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MixSpecError";
  }
}

export function presetPath(name: string): string {
  // From the package root, so the compiled dist/ finds the JSON presets that ship next to the sources.
  return packagePath("pipelines", "mix", "presets", `${name}.json`);
}

export function loadPreset(name: string): MixSpec {
  if (!(PRESETS as readonly string[]).includes(name)) {
    throw new MixSpecError(`unknown preset "${name}": use one of ${PRESETS.join(", ")}`);
  }
  return parseMixSpec(JSON.parse(readFileSync(presetPath(name), "utf8")), `preset ${name}`);
}

export function loadSpecFile(path: string): MixSpec {
  if (!existsSync(path)) throw new MixSpecError(`mixture spec ${path} does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new MixSpecError(`mixture spec ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseMixSpec(raw, path);
}

/** "2M" -> 2e6, "200B" -> 2e11, "1.5e9" -> 1.5e9. */
export function parseTokenCount(s: string | number): number {
  if (typeof s === "number") return s;
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kKmMbBgGtT]?)\s*$/.exec(s);
  if (!m) throw new MixSpecError(`token count "${s}" is not a number like 2M, 200B or 5e6`);
  const mult: Record<string, number> = { "": 1, k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 };
  const v = Math.round(Number(m[1]) * mult[m[2].toLowerCase()]);
  if (!(v > 0)) throw new MixSpecError(`token count "${s}" must be positive`);
  return v;
}

export function parseMixSpec(raw: unknown, where: string): MixSpec {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new MixSpecError(`${where}: a mixture spec is a JSON object`);
  const o = raw as Record<string, unknown>;
  const sources = o.sources;
  if (!Array.isArray(sources) || sources.length === 0) throw new MixSpecError(`${where}: "sources" must be a non-empty list`);
  const names = new Set<string>();
  const parsed = sources.map((s, i) => {
    const so = s as Record<string, unknown>;
    const at = `${where}: sources[${i}]`;
    if (!so || typeof so.name !== "string" || !/^[A-Za-z0-9._-]+$/.test(so.name)) {
      throw new MixSpecError(`${at}: "name" must be letters, digits, '.', '_' or '-'`);
    }
    if (names.has(so.name)) throw new MixSpecError(`${at}: duplicate source name "${so.name}"`);
    names.add(so.name);
    const w = so.weight;
    if (typeof w !== "number" || !Number.isFinite(w) || w <= 0) {
      throw new MixSpecError(`${at} (${so.name}): weight must be a positive number, got ${JSON.stringify(w)}`);
    }
    const t = so.template as Record<string, unknown> | string | undefined;
    let template: TemplateSpec | undefined;
    try {
      if (typeof t === "string") template = { name: parseTemplateName(t) };
      else if (t) template = { name: parseTemplateName(String(t.name)), columns: (t.columns ?? {}) as TemplateSpec["columns"] };
    } catch (e) {
      throw new MixSpecError(`${at} (${so.name}): ${(e as Error).message}`);
    }
    const rep = so.max_repetition;
    if (rep !== undefined && (typeof rep !== "number" || !(rep > 0))) {
      throw new MixSpecError(`${at} (${so.name}): max_repetition must be a positive number`);
    }
    if (so.path !== undefined && typeof so.path !== "string") throw new MixSpecError(`${at} (${so.name}): path must be a string`);
    return { name: so.name, weight: w, path: so.path as string | undefined, template, max_repetition: rep as number | undefined };
  });
  const total = o.total_tokens === undefined ? NaN : parseTokenCount(o.total_tokens as string | number);
  if (!(total > 0)) throw new MixSpecError(`${where}: "total_tokens" must be a positive number`);
  const maxRep = o.max_repetition === undefined ? 4 : Number(o.max_repetition);
  if (!(maxRep > 0)) throw new MixSpecError(`${where}: "max_repetition" must be positive`);
  const seed = o.seed === undefined ? 0 : Number(o.seed);
  if (!Number.isInteger(seed)) throw new MixSpecError(`${where}: "seed" must be an integer`);
  return {
    name: typeof o.name === "string" ? o.name : "mixture",
    description: typeof o.description === "string" ? o.description : undefined,
    total_tokens: total, max_repetition: maxRep, seed, sources: parsed,
  };
}

/** Weights as shares summing to 1. Returns the original sum so the caller can warn when it was not 1. */
export function normalizeWeights(spec: MixSpec): { shares: number[]; sum: number } {
  const sum = spec.sources.reduce((a, s) => a + s.weight, 0);
  // Shares that already sum to 1 (up to float rounding) are kept exactly as written.
  if (Math.abs(sum - 1) <= 1e-9) return { shares: spec.sources.map((s) => s.weight), sum: 1 };
  return { shares: spec.sources.map((s) => s.weight / sum), sum };
}
