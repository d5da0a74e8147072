// `megamath train` as a library: run config + plan from a mixture, environment checks, trainer launch.
export { buildRunConfig, checkpointLastLr, formatPlan, latestCheckpoint, readMixture, TrainConfigError, type TrainOptions, type TrainPlan, type MixtureManifest } from "./config.js";
export { MODEL_PRESETS, PRESET_NAMES, resolvePreset, paramCount, flopsPerToken, type PresetInfo } from "./presets.js";
export { lrAt, lrLandmarks, type PhaseSpec } from "./schedule.js";
export { findTorchPython, checkEnv, trainerRoot, pythonEnv, type TorchEnv } from "./environment.js";
export { runTrainer, processPlans, chooseLauncher, type LaunchSpec, type Launcher, type TrainerEvent } from "./launch.js";
export { estimateMemory, chooseActivationCheckpointing, chooseMemoryPlan, savedBytes, layerBytesPerToken, describeAc, AC_CHOICES, type MemoryInput, type MemoryEstimate, type MemoryPlan } from "./memory.js";
