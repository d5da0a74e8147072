// megamath's library API: everything the CLI does is importable from the package root.
// Core: record batches, stages, stats, the runner (sharding, resume), worker pool, progress, package paths.
export * from "./lib/arrow/batch.js";
export * from "./lib/runtime/stage.js";
export * from "./lib/runtime/stats.js";
export * from "./lib/runtime/log.js";
export * from "./lib/runtime/pool.js";
export * from "./lib/runtime/runner.js";
export * from "./lib/runtime/progress.js";
export * from "./lib/paths.js";
// I/O: Parquet / JSONL / Arrow readers and writers (atomic).
export * from "./lib/io/index.js";
// Recall: year-stratified sampling, LLM annotation and refinement.
export { sampleStage, type SampleOptions } from "./lib/sample/sample-stage.js";
export { yearFromString, batchYears, DEFAULT_YEAR_COLUMNS } from "./lib/sample/year.js";
export { yearStage } from "./lib/stages/year.js";
export { annotateStage } from "./lib/llm/annotate-stage.js";
export { refineStage } from "./lib/llm/refine-stage.js";
export * as llm from "./lib/llm/client.js";
export * as prompts from "./lib/llm/prompts.js";
// Classifiers: fastText engine, MegaMath preprocessing, language ID, scoring, filtering, training.
export * as fasttext from "./classifiers/fasttext/index.js";
export { preprocessForFastText } from "./lib/classify/preprocess.js";
export { scoreStage } from "./lib/classify/score-stage.js";
export { filterStage, parseConditions } from "./lib/stages/filter.js";
export { trainClassifier } from "./lib/classify/train-classifier.js";
// Cleaning: MinHash-LSH near-dedup, 13-gram decontamination.
export * as dedup from "./lib/dedup/index.js";
export * as decontam from "./lib/decontam/index.js";
// Tokens: Llama-3 / tiktoken tokenizers, Megatron + datatrove token files, mixtures.
export { loadTokenizer } from "./lib/tokenizer/load.js";
export { renderBatch } from "./lib/tokenizer/templates.js";
export { tokenizeStage, type TokenizeStageOptions } from "./lib/tokenizer/tokenize-stage.js";
export { tokenizeFiles } from "./lib/tokenizer/tokenize-files.js";
export { MegatronWriter, MegatronReader } from "./lib/formats/megatron.js";
export * as mix from "./lib/mix/index.js";
// Training launcher (the trainer itself is Python, in trainer/).
export * as train from "./lib/train/index.js";
// Recipes: plan, run locally, emit for Slurm / Kubernetes, report.
export { validateRecipe, type Recipe, type RecipeStep } from "./recipe/types.js";
export { planBuild, finalFolder, type Invocation, type StepOptions, type BuildSettings } from "./recipe/plan.js";
export { loadRecipe, planRecipe } from "./recipe/load.js";
export { runPlanLocally, type StepResult, type RunContext } from "./recipe/run.js";
export { emit, clusterSteps, stepArgv, DEDUP_STAGES } from "./recipe/emit.js";
export { collectReport, type Report } from "./recipe/report/collect.js";
export { reportFromFolder, writeReport } from "./recipe/report/folder.js";
export { readPlanFile, writePlanFile, type PlanFile } from "./recipe/plan-file.js";
export { renderReport } from "./recipe/report/html.js";
