// Child process for the kill-and-resume test: runs a slow pipeline over the given inputs.
import { runPipeline } from "../../lib/runtime/runner.js";
import { hashStage, minLengthStage } from "./stages.js";

const [out, workers, delay, ...inputs] = process.argv.slice(2);
await runPipeline({
  inputs, outDir: out, stages: [hashStage(Number(workers), Number(delay)), minLengthStage(200)],
  read: { batchSize: 50 }, write: { format: "parquet", rowGroupSize: 100 },
});
