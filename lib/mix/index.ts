// Mixture planning and packing (OctoThinker Stable / Decay presets).
export { PRESETS, loadPreset, loadSpecFile, parseMixSpec, parseTokenCount, normalizeWeights, parseTemplate, withTemplates, MixSpecError, type MixSpec, type MixSourceSpec } from "./spec.js";
export { planMixture, largestRemainder, MixPlanError, type MixPlan, type PlannedSource } from "./plan.js";
export { runMix, prepareMixSources, type RunMixOptions, type MixtureJson } from "./run.js";
export { checkMixLayouts, checkSourceLayout, suggestTemplates, templateColumnSets } from "./layouts.js";
