// Describe a folder of token shards for `megamath inspect DIR` (or DIR/manifest.json): every shard on disk, whether
// each has its manifest piece and is listed in manifest.json, totals, and what to do when manifest.json is behind.
// Counts come from the .idx files (what `megamath mix` reads), not from manifest.json.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { readMegatronIndex } from "../formats/megatron.js";
import { isTempName } from "../io/atomic.js";
import { manifestPath } from "../formats/token-file.js";
import { FOLDER_MANIFEST, isFolderManifestFile, readFolderManifest, type FolderManifest } from "../formats/token-folder.js";

export interface TokenFolderDescription {
  path: string;
  format: "token-folder";
  shards: { prefix: string; documents: number; tokens: number; dtype: string; hasManifest: boolean; inFolderManifest: boolean }[];
  documents: number;
  tokens: number;
  tokenizer: string | null;
  bos_eos: string | null;
  /** manifest.json: "current" (matches the shard manifests), "stale", or "missing". */
  folderManifest: "current" | "stale" | "missing";
  /** Problems a user should act on, each with what to do. */
  notes: string[];
}

function idxPrefixes(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(".idx") && !isTempName(n)).sort().map((n) => n.slice(0, -4));
}

/** The token folder a path names: a folder holding .idx shards or a folder manifest, or that folder's manifest.json. */
export function tokenFolderOf(path: string): string | null {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const hasManifest = existsSync(join(path, FOLDER_MANIFEST)) && isFolderManifestFile(join(path, FOLDER_MANIFEST));
    return hasManifest || idxPrefixes(path).length ? path : null;
  }
  return basename(path) === FOLDER_MANIFEST && isFolderManifestFile(path) ? dirname(path) : null;
}

export function describeTokenFolder(dir: string): TokenFolderDescription {
  const notes: string[] = [];
  const rebuild = `rebuild it with: megamath tokenize -o ${dir} --rebuild-manifest`;
  let current: FolderManifest | null = null;
  let state: ReturnType<typeof readFolderManifest> | null = null;
  try {
    state = readFolderManifest(dir);
    current = state.current;
  } catch (e) {
    notes.push((e as Error).message);
  }
  const listed = new Set((state?.written?.shards ?? []).map((s) => s.prefix));
  const shards = idxPrefixes(dir).map((p) => {
    const idx = readMegatronIndex(join(dir, p));
    return {
      prefix: p, documents: idx.lengths.length, tokens: idx.tokens, dtype: idx.dtype,
      hasManifest: existsSync(manifestPath(join(dir, p))), inFolderManifest: listed.has(p),
    };
  });
  const folderManifest = !state
    ? (existsSync(join(dir, FOLDER_MANIFEST)) ? "stale" : "missing") // the shard manifests conflict (noted above)
    : !state.written ? "missing" : state.stale ? "stale" : "current";
  if (folderManifest === "missing" && state) notes.push(`${FOLDER_MANIFEST} is missing or unreadable; ${rebuild}`);
  else if (folderManifest === "stale" && state) {
    const absent = shards.filter((s) => s.hasManifest && !s.inFolderManifest).map((s) => s.prefix);
    notes.push(`${FOLDER_MANIFEST} does not match the shard manifests` +
      (absent.length ? ` (it leaves out ${absent.length}: ${absent.slice(0, 5).join(", ")}${absent.length > 5 ? ", ..." : ""})` : "") +
      `; ${rebuild}`);
  }
  const unfinished = shards.filter((s) => !s.hasManifest).map((s) => s.prefix);
  if (unfinished.length) {
    notes.push(`${unfinished.length} shard(s) have no NAME.manifest.json (a task still running or killed, or not made by ` +
      `megamath tokenize): ${unfinished.slice(0, 5).join(", ")}${unfinished.length > 5 ? ", ..." : ""}`);
  }
  for (const l of current?.left_out ?? []) notes.push(`${l.piece}: ${l.reason}`);
  return {
    path: dir, format: "token-folder", shards,
    documents: shards.reduce((a, s) => a + s.documents, 0),
    tokens: shards.reduce((a, s) => a + s.tokens, 0),
    tokenizer: current?.tokenizer?.name ?? null,
    bos_eos: current?.bos_eos?.rule ?? null,
    folderManifest, notes,
  };
}

export function formatTokenFolder(d: TokenFolderDescription): string {
  const lines = [
    `${d.path}  (token folder: ${d.shards.length} shard(s); manifest.json ${d.folderManifest})`,
    `documents ${d.documents}   tokens ${d.tokens}   tokenizer ${d.tokenizer ?? "unknown (no shard manifests)"}`,
  ];
  if (d.bos_eos) lines.push(`framing: ${d.bos_eos}`);
  const w = Math.max(6, ...d.shards.map((s) => s.prefix.length));
  lines.push(`  ${"shard".padEnd(w)}  ${"documents".padStart(10)}  ${"tokens".padStart(12)}  manifest  in manifest.json`);
  for (const s of d.shards) {
    lines.push(`  ${s.prefix.padEnd(w)}  ${String(s.documents).padStart(10)}  ${String(s.tokens).padStart(12)}  ` +
      `${(s.hasManifest ? "yes" : "NO").padEnd(8)}  ${s.inFolderManifest ? "yes" : "NO"}`);
  }
  for (const n of d.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}
