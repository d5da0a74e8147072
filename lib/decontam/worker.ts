// Worker thread for decontamination: the indexes arrive once in workerData on shared memory (no copy, no parse);
// each task matches a packed batch of texts, read as UTF-8 in place (no string per document). Returns only the
// contaminated rows, so the reply is tiny.
import { workerData } from "node:worker_threads";
import { NgramIndex, type SharedIndex } from "./ngram-index.js";
import { Matcher, type Match } from "./matcher.js";

export interface DecontTask {
  bytes: Uint8Array;
  offsets: Int32Array;
  maxMatches: number;
}

export interface DecontResult {
  rows: number[];
  matches: Match[][];
}

const data = workerData as { indexes: SharedIndex[] } | undefined;
let matcher: Matcher | undefined;

export default function decontaminateTask(task: DecontTask): DecontResult {
  if (!data?.indexes) throw new Error("decontamination worker started without indexes in workerData");
  matcher ??= new Matcher(data.indexes.map((p) => NgramIndex.fromShared(p)));
  const out: DecontResult = { rows: [], matches: [] };
  const n = task.offsets.length - 1;
  const opts = { maxMatches: task.maxMatches };
  for (let i = 0; i < n; i++) {
    const m = matcher.matchUtf8(task.bytes, task.offsets[i], task.offsets[i + 1], opts);
    if (m.length) {
      out.rows.push(i);
      out.matches.push(m);
    }
  }
  return out;
}
