// The fastText engine: load/predict/save compatible with fastText 0.9.2, and Hogwild training in worker threads.
export { FastTextModel, type Prediction, type SharedModelHandle } from "./model.js";
export { type FastTextArgs, type LossName } from "./args.js";
export { FastTextModelError } from "./errors.js";
export { trainSupervised, type TrainOptions } from "./train.js";
