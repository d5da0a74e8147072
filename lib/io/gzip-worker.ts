// A worker thread of GzipPool: one gzip member of the JSONL writer, compressed as the main thread would
// (zlib.gzipSync, same level), so the file is byte-identical whatever the number of workers.
import { gzipSync } from "node:zlib";
import { threadId } from "node:worker_threads";

export interface GzipTask {
  bytes: Uint8Array;
  level: number;
}

export default function gzip(t: GzipTask): { bytes: Uint8Array; thread: number } {
  return { bytes: gzipSync(t.bytes, { level: t.level }), thread: threadId };
}
