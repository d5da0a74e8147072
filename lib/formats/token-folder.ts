// The folder manifest of `megamath tokenize`: <out>/manifest.json is the merge of the shard manifests ("pieces",
// <prefix>.manifest.json) present in the folder. Each piece is written atomically by the task that made its shard, so
// the pieces are the truth; manifest.json is a summary any task can rebuild from them.
//
// Several `--shard i/N` tasks finish at about the same time and each rewrites manifest.json. A task that listed the
// folder before another task's piece landed would write a summary without that piece, and if its rename came last
// it would win. So every writer, after renaming, merges the pieces again and rewrites until what it wrote matches
// what is on disk. The last rename is then by a writer that checked after it; any piece finished before that check is
// in the summary, and a piece finished after it belongs to a writer that renames later, contradicting "last". No lock
// is needed, so a killed task cannot leave one behind, and shared file systems without working locks are fine.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, isTempName } from "../io/atomic.js";
import type { TokenFileManifest, TokenizerInfo } from "./token-file.js";

export const FOLDER_MANIFEST = "manifest.json";
const PIECE_SUFFIX = ".manifest.json";

export interface FolderShard {
  prefix: string;
  /** The shard's files, relative to the folder. */
  files: string[];
  documents: number;
  tokens: number;
  sources: string[];
}

export interface FolderManifest {
  format: "megamath-token-folder";
  shards: FolderShard[];
  documents: number;
  tokens: number;
  tokenizer: TokenizerInfo | null;
  bos_eos: TokenFileManifest["bos_eos"] | null;
  dtype: string | null;
  /** Pieces in the folder that are not in the summary, and why (unreadable, or a listed file is missing). */
  left_out: { piece: string; reason: string }[];
}

/** Pieces that cannot be summed: they describe token files made with different settings. */
export class FolderManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FolderManifestError";
  }
}

/** The shard manifest files in a folder, sorted by name. */
export function pieceNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => n.endsWith(PIECE_SUFFIX) && !isTempName(n)).sort();
}

/** Merge the pieces present in `dir` into a folder manifest (reads only). Throws FolderManifestError when pieces
 * disagree on tokenizer, framing or dtype: such shards must not be mixed as one corpus. */
export function mergeFolderPieces(dir: string): FolderManifest {
  const shards: FolderShard[] = [];
  const left_out: FolderManifest["left_out"] = [];
  let first: { name: string; m: TokenFileManifest } | null = null;
  const disagree: string[] = [];
  for (const name of pieceNames(dir)) {
    let m: TokenFileManifest;
    try {
      m = JSON.parse(readFileSync(join(dir, name), "utf8")) as TokenFileManifest;
    } catch (e) {
      left_out.push({ piece: name, reason: `unreadable: ${(e as Error).message}` });
      continue;
    }
    if (m?.format !== "megatron-indexed-dataset" || !Array.isArray(m.files)) {
      left_out.push({ piece: name, reason: `not a token file manifest (format ${JSON.stringify(m?.format)})` });
      continue;
    }
    const missing = m.files.filter((f) => !existsSync(join(dir, f)));
    if (missing.length) {
      left_out.push({ piece: name, reason: `listed file(s) missing: ${missing.join(", ")} (delete the piece or re-tokenize with --force)` });
      continue;
    }
    if (!first) first = { name, m };
    else {
      const what = [
        m.tokenizer?.fingerprint !== first.m.tokenizer?.fingerprint ? `tokenizer ${m.tokenizer?.name} (${m.tokenizer?.fingerprint})` : "",
        m.bos_eos?.rule !== first.m.bos_eos?.rule ? `framing "${m.bos_eos?.rule}"` : "",
        m.dtype !== first.m.dtype ? `dtype ${m.dtype}` : "",
      ].filter(Boolean);
      if (what.length) disagree.push(`${name} has ${what.join(", ")}`);
    }
    shards.push({ prefix: m.prefix, files: m.files, documents: m.documents, tokens: m.tokens, sources: m.sources ?? [] });
  }
  if (disagree.length && first) {
    const f = first.m;
    throw new FolderManifestError(`${dir}: shards made with different settings cannot form one token folder: ` +
      `${first.name} has tokenizer ${f.tokenizer?.name} (${f.tokenizer?.fingerprint}), framing "${f.bos_eos?.rule}", dtype ${f.dtype}; ` +
      `${disagree.join("; ")}. Re-tokenize the odd shards with the same settings (--force), or move them to another folder.`);
  }
  return {
    format: "megamath-token-folder",
    shards,
    documents: shards.reduce((a, s) => a + s.documents, 0),
    tokens: shards.reduce((a, s) => a + s.tokens, 0),
    tokenizer: first?.m.tokenizer ?? null,
    bos_eos: first?.m.bos_eos ?? null,
    dtype: first?.m.dtype ?? null,
    left_out,
  };
}

export function serializeFolderManifest(m: FolderManifest): string {
  return JSON.stringify(m, null, 2) + "\n";
}

export interface WriteFolderManifestOptions {
  /** Called between merging the pieces and renaming manifest.json into place. Tests use it to run another writer
   * at exactly the moment that made the old single-pass write lose that writer's piece. */
  beforeWrite?: () => Promise<void>;
}

/** Rounds of merge-write-check before leaving the rest to the writers still changing pieces (each checks itself). */
const MAX_ROUNDS = 50;

/** Write <dir>/manifest.json from the pieces present, and rewrite it until it matches them (see the top comment).
 * Returns what was written last; nothing is written when the folder does not exist. */
export async function writeFolderManifest(dir: string, o: WriteFolderManifestOptions = {}): Promise<FolderManifest | null> {
  if (!existsSync(dir)) return null;
  let merged = mergeFolderPieces(dir);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const text = serializeFolderManifest(merged);
    if (o.beforeWrite) await o.beforeWrite();
    // Unchanged: leave the file (and its modification time, which a downstream fingerprint reads) alone.
    if (round > 0 || o.beforeWrite || readText(join(dir, FOLDER_MANIFEST)) !== text) await writeFileAtomic(join(dir, FOLDER_MANIFEST), text);
    const now = mergeFolderPieces(dir);
    if (serializeFolderManifest(now) === text) break;
    merged = now;
  }
  return merged;
}

export interface FolderManifestState {
  /** manifest.json as found (null: absent or unreadable). */
  written: FolderManifest | null;
  /** The merge of the pieces present now. */
  current: FolderManifest;
  /** manifest.json differs from the pieces (a task died between its piece and the summary, or it is missing). */
  stale: boolean;
}

/** What a reader should trust: the pieces, with whether manifest.json agrees with them. */
export function readFolderManifest(dir: string): FolderManifestState {
  const current = mergeFolderPieces(dir);
  let written: FolderManifest | null = null;
  let text: string | null = null;
  try {
    text = readFileSync(join(dir, FOLDER_MANIFEST), "utf8");
    written = JSON.parse(text) as FolderManifest;
  } catch {
    written = null;
  }
  return { written, current, stale: text !== serializeFolderManifest(current) };
}

/** Whether a path is a folder manifest written by writeFolderManifest. */
export function isFolderManifestFile(path: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { format?: unknown }).format === "megamath-token-folder";
  } catch {
    return false;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}
