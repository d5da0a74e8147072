// Facts declared on option specs: which flags are part of an output's identity, one list of commands with their
// summaries, and one meaning of --workers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { optionsIdentity } from "../../cli/pipeline.js";
import { registry, buildCommands, summaries, loadCommand } from "../../cli/registry.js";
import { stepCommands } from "../../cli/steps.js";
import { helpText, optionValues } from "../../cli/command.js";

test("identity: flags declared identity: false do not change it, the others do", async () => {
  const annotate = await loadCommand("annotate");
  const base = optionValues(annotate, { input: ["a.parquet"], output: "o", model: "m" }, "test");
  const id = optionsIdentity("annotate", base, annotate.options);
  for (const [k, v] of Object.entries({ "base-url": "http://h:1/v1", "timeout-s": 5, "max-in-flight": 3, workers: 3, "on-error": "skip", output: "p" })) {
    assert.equal(optionsIdentity("annotate", { ...base, [k]: v }, annotate.options), id, `${k} changed the identity`);
  }
  for (const [k, v] of Object.entries({ model: "other", temperature: 0.5, "max-tokens": 7, prompt: "x" })) {
    assert.notEqual(optionsIdentity("annotate", { ...base, [k]: v }, annotate.options), id, `${k} left the identity unchanged`);
  }
  // Without the command's own declarations, the shared ones decide (the same answer for shared flags).
  assert.equal(optionsIdentity("annotate", { ...base, "timeout-s": 9 }), optionsIdentity("annotate", base));
});

test("one list of commands: every command has its summary there and shows it in --help", async () => {
  assert.deepEqual(Object.keys(registry).filter((k) => !(k in buildCommands)).sort(), Object.keys(stepCommands).sort());
  for (const name of Object.keys(registry)) {
    const cmd = await loadCommand(name);
    assert.equal(cmd.name, name);
    assert.ok(summaries[name].length > 10, name);
    assert.ok(helpText(cmd, summaries[name]).includes(summaries[name]), name);
    assert.equal((cmd as unknown as Record<string, unknown>).summary, undefined, `${name} declares a second summary`);
  }
});

test("--workers means worker threads, 0 the main thread, in every command that takes it", async () => {
  let seen = 0;
  for (const name of Object.keys(registry)) {
    const spec = (await loadCommand(name)).options.workers;
    if (!spec) continue;
    seen++;
    assert.match(spec.description, /0: none, all on the main thread/, name);
    assert.equal(spec.identity, false, name);
  }
  assert.ok(seen >= 5, `only ${seen} commands take --workers`);
});
