// Mixture specs: a JSON file (or a shipped preset) listing sources with weights as shares of tokens, a total token
// budget, a maximum repetition (epochs) per source and a seed. Weights that do not sum to 1 are normalized with a
// warning (Megatron and nanotron normalize too); a zero, negative or non-numeric weight is an error.
import { readFileSync, existsSync } from "node:fs";
import { packagePath } from "../paths.js";
import { parseTemplateName, type TemplateSpec } from "../tokenizer/templates.js";

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
  /** Per source: the released dataset's layout and what to supply when it lacks the text (presets' source_layouts). */
  layouts?: Record<string, string>;
}

export class MixSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MixSpecError";
  }
}

export function presetPath(name: string): string {
  // From the package root, so the compiled dist/ finds the JSON presets that ship next to the sources.
  return packagePath("pipelines", "mixtures", `${name}.json`);
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
    let template: TemplateSpec | undefined;
    try {
      template = so.template === undefined ? undefined : parseTemplate(so.template);
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
  const layouts = o.source_layouts as Record<string, unknown> | undefined;
  if (layouts !== undefined) {
    if (!layouts || typeof layouts !== "object" || Array.isArray(layouts)) throw new MixSpecError(`${where}: "source_layouts" must map source names to notes`);
    for (const [k, v] of Object.entries(layouts)) {
      if (!names.has(k)) throw new MixSpecError(`${where}: source_layouts names "${k}", which is not a source`);
      if (typeof v !== "string") throw new MixSpecError(`${where}: source_layouts.${k} must be a string`);
    }
  }
  return {
    name: typeof o.name === "string" ? o.name : "mixture",
    description: typeof o.description === "string" ? o.description : undefined,
    total_tokens: total, max_repetition: maxRep, seed, sources: parsed,
    ...(layouts ? { layouts: layouts as Record<string, string> } : {}),
  };
}

const COLUMN_ROLES = ["text", "question", "answer", "reasoning", "messages", "prompt", "response"];

/** A template as a spec gives it: a name ("qa") or {name, columns}. Unknown names, roles or non-string columns throw. */
export function parseTemplate(t: unknown): TemplateSpec {
  if (typeof t === "string") return { name: parseTemplateName(t) };
  if (!t || typeof t !== "object" || Array.isArray(t)) throw new Error(`a template is a name or {"name", "columns"}, got ${JSON.stringify(t)}`);
  const o = t as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== "name" && k !== "columns") throw new Error(`template has unknown field "${k}" (name, columns)`);
  const cols = (o.columns ?? {}) as Record<string, unknown>;
  if (typeof cols !== "object" || Array.isArray(cols)) throw new Error(`template columns must be an object`);
  for (const [k, v] of Object.entries(cols)) {
    if (!COLUMN_ROLES.includes(k)) throw new Error(`template column role "${k}" is not one of ${COLUMN_ROLES.join(", ")}`);
    if (typeof v !== "string" || !v) throw new Error(`template column ${k} must name a column`);
  }
  return { name: parseTemplateName(String(o.name)), columns: cols as TemplateSpec["columns"] };
}

/** Replace the templates of named sources: values are a template name or its JSON ({"name": "chat", "columns":
 * {"messages": "conversation"}}). A name that is not a source of the mixture throws. */
export function withTemplates(spec: MixSpec, templates: Record<string, string>): MixSpec {
  const sources = spec.sources.map((s) => {
    const v = templates[s.name];
    if (v === undefined) return s;
    try {
      return { ...s, template: parseTemplate(v.trimStart().startsWith("{") ? JSON.parse(v) : v) };
    } catch (e) {
      throw new MixSpecError(`template of source "${s.name}": ${(e as Error).message}`);
    }
  });
  const unknown = Object.keys(templates).filter((n) => !spec.sources.some((s) => s.name === n));
  if (unknown.length) throw new MixSpecError(`templates given for sources not in mixture "${spec.name}": ${unknown.join(", ")} (sources: ${spec.sources.map((s) => s.name).join(", ")})`);
  return { ...spec, sources };
}

/** Weights as shares summing to 1. Returns the original sum so the caller can warn when it was not 1. */
export function normalizeWeights(spec: MixSpec): { shares: number[]; sum: number } {
  const sum = spec.sources.reduce((a, s) => a + s.weight, 0);
  // Shares that already sum to 1 (up to float rounding) are kept exactly as written.
  if (Math.abs(sum - 1) <= 1e-9) return { shares: spec.sources.map((s) => s.weight), sum: 1 };
  return { shares: spec.sources.map((s) => s.weight / sum), sum };
}
