// Worker thread for decontamination: the indexes arrive once in workerData on shared memory (no copy, no parse);
// each task matches a packed batch of texts. Returns only the contaminated rows, so the reply is tiny.
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
const decoder = new TextDecoder();

export default function decontaminateTask(task: DecontTask): DecontResult {
  if (!data?.indexes) throw new Error("decontamination worker started without indexes in workerData");
  matcher ??= new Matcher(data.indexes.map((p) => NgramIndex.fromShared(p)));
  const out: DecontResult = { rows: [], matches: [] };
  const n = task.offsets.length - 1;
  for (let i = 0; i < n; i++) {
    const text = decoder.decode(task.bytes.subarray(task.offsets[i], task.offsets[i + 1]));
    const m = matcher.match(text, { maxMatches: task.maxMatches });
    if (m.length) {
      out.rows.push(i);
      out.matches.push(m);
    }
  }
  return out;
}
