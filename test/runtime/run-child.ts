// Child process for the kill-and-resume test: runs a pipeline over the given inputs and, in the middle of the
// second file (after three batches, so a row group is already in its temporary output), writes the `stopped` flag
// file and waits there for the test to kill it. The stop point does not depend on timing.
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { runPipeline } from "../../lib/runtime/runner.js";
import { hashStage, minLengthStage } from "./stages.js";

const [out, workers, stopped, ...inputs] = process.argv.slice(2);
const second = basename([...inputs].sort()[1]);
const stopInSecondFile = async (file: string, n: number) => {
  if (basename(file) !== second || n !== 3) return;
  writeFileSync(stopped, "");
  setInterval(() => {}, 1 << 30); // keep the process alive while it waits to be killed
  await new Promise(() => {});
};
await runPipeline({
  inputs, outDir: out, stages: [hashStage(Number(workers), 0, stopInSecondFile), minLengthStage(200)],
  read: { batchSize: 50 }, write: { format: "parquet", rowGroupSize: 100 },
});
