// Test worker: sums the UTF-8 byte lengths of packed texts and reports its thread id; optionally waits.
import { threadId } from "node:worker_threads";
import { type PackedTexts, unpackText, packedLength } from "../../lib/runtime/pool.js";

export default async function (task: { packed: PackedTexts; delayMs?: number }): Promise<{ lengths: number[]; thread: number }> {
  if (task.delayMs) await new Promise((r) => setTimeout(r, task.delayMs));
  const lengths: number[] = [];
  for (let i = 0; i < packedLength(task.packed); i++) lengths.push(unpackText(task.packed, i).length);
  return { lengths, thread: threadId };
}
