// Test worker: sums the UTF-8 byte lengths of packed texts and reports its thread id; optionally waits, either a
// delay or at a barrier until `parties` tasks have arrived (tasks held at once can only be on different threads).
import { threadId } from "node:worker_threads";
import { type PackedTexts, unpackText, packedLength } from "../../lib/runtime/pool.js";

export default async function (task: { packed: PackedTexts; delayMs?: number; barrier?: { arrived: Int32Array; parties: number } }):
  Promise<{ lengths: number[]; thread: number; barrierTimedOut?: boolean }> {
  if (task.delayMs) await new Promise((r) => setTimeout(r, task.delayMs));
  let barrierTimedOut: boolean | undefined;
  if (task.barrier) {
    const { arrived, parties } = task.barrier;
    Atomics.add(arrived, 0, 1);
    Atomics.notify(arrived, 0);
    // A generous bound so a broken pool fails the test instead of hanging it; never reached when the pool works.
    const deadline = Date.now() + 120_000;
    for (let seen = Atomics.load(arrived, 0); seen < parties; seen = Atomics.load(arrived, 0)) {
      if (Date.now() > deadline) {
        barrierTimedOut = true;
        break;
      }
      Atomics.wait(arrived, 0, seen, 1000);
    }
  }
  const lengths: number[] = [];
  for (let i = 0; i < packedLength(task.packed); i++) lengths.push(unpackText(task.packed, i).length);
  return { lengths, thread: threadId, barrierTimedOut };
}
