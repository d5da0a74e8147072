// Test helper: a worker thread that rebuilds a model from a shared handle and predicts lines sent to it.
import { parentPort, workerData } from "node:worker_threads";
import { FastTextModel, type SharedModelHandle } from "../../classifiers/fasttext/model.js";

const model = FastTextModel.fromShared(workerData as SharedModelHandle);
parentPort!.on("message", (lines: string[]) => {
  parentPort!.postMessage(lines.map((l) => model.predict(l, -1)));
});
