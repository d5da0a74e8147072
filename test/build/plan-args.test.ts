// The build planner hands steps typed option values (no command line); the emitter writes command lines that the
// commands must parse back to the same values, also when the output folder's name has a comma (list flags split at
// commas).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planBuild } from "../../recipe/plan.js";
import { stepArgv, clusterSteps } from "../../recipe/emit.js";
import { validateRecipe } from "../../recipe/types.js";
import { stepCommands, loadStepCommand, stepOptionSpecs } from "../../cli/steps.js";
import { parseCommandArgs, optionValues, globalOptions } from "../../cli/command.js";
import { repoRoot } from "../helpers.js";

const recipePath = join(repoRoot, "pipelines/pro-max-demo.json");
const recipe = () => validateRecipe(JSON.parse(readFileSync(recipePath, "utf8")), recipePath, Object.keys(stepCommands));

test("build plan: paths under a folder with a comma stay whole, in-process and on emitted command lines", async () => {
  const outDir = "/data/runs/a,b";
  const specs = await stepOptionSpecs(Object.keys(stepCommands));
  const plan = planBuild(recipe(), { recipeDir: join(repoRoot, "pipelines"), outDir, optionSpec: (c, o) => specs.get(c)![o] });
  let checked = 0;
  for (const inv of clusterSteps(plan, (c) => specs.get(c)!)) {
    const inputs = (inv.options.input as string[] | undefined) ?? [];
    if (!inputs.some((p) => p.startsWith(outDir + "/"))) continue;
    const cmd = await loadStepCommand(inv.command);
    const inProcess = optionValues(cmd, { ...inv.options, ...inv.runOptions }, inv.step);
    const { opts: parsed } = parseCommandArgs({ ...cmd, options: { ...globalOptions, ...cmd.options } }, stepArgv(inv));
    assert.deepEqual(inProcess.input, inputs, inv.step);
    assert.deepEqual(parsed, inProcess, `${inv.step}: the emitted command line means what the in-process step gets`);
    checked++;
  }
  assert.ok(checked >= 5, `only ${checked} steps read an earlier step's folder`);
});

test("LLM settings go only to the steps whose command takes them", async () => {
  const specs = await stepOptionSpecs(Object.keys(stepCommands));
  const plan = planBuild(recipe(), {
    recipeDir: join(repoRoot, "pipelines"), outDir: "/tmp/x", optionSpec: (c, o) => specs.get(c)![o],
    llm: { url: "http://127.0.0.1:9/v1", model: "m", apiKeyEnv: "KEY" },
  });
  const withServer = plan.filter((p) => "base-url" in p.runOptions || "api-key-env" in p.runOptions).map((p) => p.step);
  assert.deepEqual(withServer, ["annotate", "refine"]);
  for (const p of plan) assert.equal(p.options.model === "m", withServer.includes(p.step), p.step);
  const tc = plan.find((p) => p.step === "train-classifier")!;
  assert.equal(tc.substituted, undefined, "with a server, train-classifier learns from the annotations");
  assert.equal(tc.options["score-column"], "finemath_score");
  // The command takes the values as given (train-classifier would refuse an unknown option).
  for (const inv of plan.filter((p) => !p.skipped)) optionValues(await loadStepCommand(inv.command), { ...inv.options, ...inv.runOptions }, inv.step);
});
