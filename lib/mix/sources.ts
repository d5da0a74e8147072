// Where a mixture source's tokens come from: token files (a folder of .bin/.idx, a prefix, a .bin/.idx file, a glob)
// or documents (Parquet/JSONL globs or a folder of them) tokenized on the fly with the source's template.
import { existsSync, readdirSync, statSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expandInputs, isDataFile } from "../io/index.js";
import { isTempName } from "../io/atomic.js";
import { manifestPath, type TokenFileManifest } from "../formats/token-file.js";
import { readMegatronIndex } from "../formats/megatron.js";
import { MixSpecError } from "./spec.js";

export type ResolvedSource =
  | { kind: "tokens"; prefixes: string[] }
  | { kind: "documents"; files: string[] };

function tokenPrefixesIn(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(".idx") && !isTempName(n)).sort().map((n) => join(dir, n.slice(0, -4)));
}

export async function resolveSource(name: string, path: string): Promise<ResolvedSource> {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const prefixes = tokenPrefixesIn(path);
    if (prefixes.length) return { kind: "tokens", prefixes };
    const files = readdirSync(path).filter((n) => !isTempName(n)).map((n) => join(path, n)).filter((p) => statSync(p).isFile() && isDataFile(p)).sort();
    if (files.length) return { kind: "documents", files };
    throw new MixSpecError(`source "${name}": folder ${path} has no token files (.bin/.idx) and no documents (Parquet/JSONL/Arrow)`);
  }
  const prefix = path.replace(/\.(bin|idx)$/, "");
  if (existsSync(prefix + ".idx")) return { kind: "tokens", prefixes: [prefix] };
  let files: string[];
  try {
    files = await expandInputs([path]);
  } catch (e) {
    throw new MixSpecError(`source "${name}": ${(e as Error).message}`);
  }
  const idx = files.filter((f) => f.endsWith(".idx"));
  if (idx.length) return { kind: "tokens", prefixes: idx.map((f) => f.slice(0, -4)).sort() };
  const bins = files.filter((f) => f.endsWith(".bin") && existsSync(f.slice(0, -4) + ".idx"));
  if (bins.length) return { kind: "tokens", prefixes: bins.map((f) => f.slice(0, -4)).sort() };
  const docs = files.filter((f) => isDataFile(f));
  if (docs.length) return { kind: "documents", files: docs };
  throw new MixSpecError(`source "${name}": ${path} matched no token files and no documents`);
}

export interface TokenSourceInfo {
  prefixes: string[];
  lengths: Int32Array[];
  tokens: number;
  documents: number;
  manifests: (TokenFileManifest | null)[];
}

export function describeTokenSource(prefixes: string[]): TokenSourceInfo {
  let tokens = 0;
  let documents = 0;
  const lengths: Int32Array[] = [];
  const manifests = prefixes.map((p) => {
    const idx = readMegatronIndex(p);
    lengths.push(idx.lengths);
    tokens += idx.tokens;
    documents += idx.lengths.length;
    return existsSync(manifestPath(p)) ? (JSON.parse(readFileSync(manifestPath(p), "utf8")) as TokenFileManifest) : null;
  });
  return { prefixes, lengths, tokens, documents, manifests };
}
