// Worker thread of the `score` stage: maps the models the main thread loaded into SharedArrayBuffers (no copy, so
// memory does not grow with the number of workers) and scores packed slices of texts.
import { workerData } from "node:worker_threads";
import { FastTextModel, type SharedModelHandle } from "../../classifiers/fasttext/model.js";
import { scorePacked, type ScoreModels, type ScoreSettings, type ScoreResult } from "./score-core.js";
import type { PackedTexts } from "../runtime/pool.js";

export interface ScoreWorkerData {
  math?: SharedModelHandle;
  lid?: SharedModelHandle;
  settings: ScoreSettings;
}

const data = workerData as ScoreWorkerData;
const models: ScoreModels = {
  math: data.math ? FastTextModel.fromShared(data.math) : undefined,
  lid: data.lid ? FastTextModel.fromShared(data.lid) : undefined,
};

export default function scoreTask(task: { texts: PackedTexts }): ScoreResult {
  return scorePacked(models, task.texts, data.settings);
}
