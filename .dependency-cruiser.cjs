// Import rules checked by test/build/dependencies.test.ts (npm test): the library knows no flags and nothing of the
// recipe; the classifier engines know nothing of the stages above them; nothing imports in a circle.
module.exports = {
  forbidden: [
    {
      name: "lib-upward",
      severity: "error",
      comment: "lib/ is the library: it imports nothing from the CLI, the recipe or the report (they sit above it).",
      from: { path: "^lib/" },
      to: { path: "^(cli|recipe)/" },
    },
    {
      name: "engine-downward",
      severity: "error",
      comment: "classifiers/ holds classifier engines (fastText): they know nothing of the stages that use them, the CLI or the recipe.",
      from: { path: "^classifiers/" },
      to: { path: "^(lib/classify|cli|recipe)/" },
    },
    {
      name: "no-circular",
      severity: "error",
      comment: "No import circles (dynamic import() included).",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|test|trainer)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    moduleSystems: ["es6", "cjs"],
  },
};
