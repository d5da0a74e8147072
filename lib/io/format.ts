// Which reader/writer handles a path, decided by its extension (case-insensitive).

export type FileFormat = "parquet" | "jsonl" | "arrow";
export type Compression = "none" | "gzip" | "zstd";

export interface DetectedFormat {
  format: FileFormat;
  /** Whole-file compression (JSONL only; Parquet compresses pages internally). */
  compression: Compression;
}

const JSONL = /\.(jsonl|ndjson|json)(\.(gz|zst|zstd))?$/i;

/** Detect the format of `path` from its name. Throws on an unknown extension, listing the known ones. */
export function detectFormat(path: string): DetectedFormat {
  const p = path.toLowerCase();
  if (p.endsWith(".parquet") || p.endsWith(".pq")) return { format: "parquet", compression: "none" };
  if (p.endsWith(".arrow") || p.endsWith(".arrows") || p.endsWith(".ipc") || p.endsWith(".feather")) {
    return { format: "arrow", compression: "none" };
  }
  const m = JSONL.exec(p);
  if (m) {
    const c = m[3];
    return { format: "jsonl", compression: c === "gz" ? "gzip" : c ? "zstd" : "none" };
  }
  throw new Error(
    `${path}: unknown file format (expected .parquet, .jsonl/.ndjson/.json with optional .gz/.zst, or .arrow/.ipc/.feather)`,
  );
}

/** True when detectFormat would accept the name (used to filter directory listings). */
export function isDataFile(path: string): boolean {
  try {
    detectFormat(path);
    return true;
  } catch {
    return false;
  }
}
