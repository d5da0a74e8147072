// megamath's library API. Each area is importable from the package root.
export * from "./lib/arrow/batch.js";
export * from "./lib/runtime/stage.js";
export * from "./lib/runtime/stats.js";
export * from "./lib/runtime/log.js";
export * from "./lib/runtime/pool.js";
export * from "./lib/runtime/runner.js";
export * from "./lib/runtime/progress.js";
export * from "./lib/io/atomic.js";
