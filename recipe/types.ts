// A recipe describes a whole build declaratively: inputs, steps in order (each a megamath subcommand with its
// options), and where outputs go. The same plan runs locally (`megamath build`), or is emitted as Slurm job arrays /
// Kubernetes indexed Jobs that call the same subcommands with `--shard i/N`.

export type StepCondition = "always" | "llm" | "train";

/** How a step splits across N workers: over input files, over dedup bands, or not at all (one job). */
export type ShardMode = "files" | "bands" | "none";

export interface RecipeStep {
  /** Unique name; also the step's output folder under the build's output folder. */
  name: string;
  /** The megamath subcommand to run. */
  command: string;
  /** Where the step reads documents: "@input" (the recipe's inputs) or "@STEP" (another step's output). Omit for
   * steps that take no documents (mix, train). */
  input?: string;
  /** Option values, as in the command's --config file. Strings may reference other steps' folders as ${STEP}. */
  options?: Record<string, string | number | boolean | string[]>;
  /** Positional arguments (e.g. the mixture folder of `train`); ${STEP} references work here too. */
  args?: string[];
  /** Run only with an LLM server (--llm) or when training was asked for (--train). */
  when?: StepCondition;
  /** What to run instead when `when` does not hold; without it the step is skipped (and the report says so). */
  otherwise?: Omit<RecipeStep, "name" | "when" | "otherwise"> & { note: string };
  shard?: ShardMode;
  /** Does this step pass the command --output? (default true) */
  output?: boolean;
  /** One line for the report: what the step does in the paper's recipe. */
  about?: string;
  /** Write this step's documents even when it runs fused with the next step (see Recipe.keepIntermediate). */
  keep?: boolean;
  /** false: this step never joins a fused pass (see Recipe.fuse). */
  fuse?: boolean;
}

export interface Recipe {
  name: string;
  description?: string;
  /** Globs, relative to the recipe file unless absolute. */
  inputs: string[];
  seed?: number;
  /** Values that differ from the paper's, with the paper's value: shown in the report. */
  differences_from_paper?: Record<string, string>;
  steps: RecipeStep[];
  /** The step whose output is the finished corpus (MegaMath-Web-Pro-Max). */
  final?: string;
  /** Run consecutive per-document steps (score → filter, …) as one read → stages → write pass (default true);
   * false runs every step on its own. */
  fuse?: boolean;
  /** Also write the documents of steps that run fused with a later one (for debugging; default false: only what a
   * later step, the report's final corpus or a mixture reads is written). */
  keepIntermediate?: boolean;
}

const STEP_KEYS = new Set(["name", "command", "input", "options", "args", "when", "otherwise", "shard", "output", "about", "keep", "fuse"]);
const RECIPE_KEYS = ["name", "description", "inputs", "seed", "differences_from_paper", "steps", "final", "fuse", "keepIntermediate"];

/** Validate a parsed recipe; messages name the bad field and the allowed values. */
export function validateRecipe(r: unknown, where: string, knownCommands: string[]): Recipe {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (!r || typeof r !== "object" || Array.isArray(r)) fail("a recipe must be a JSON object");
  const o = r as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!RECIPE_KEYS.includes(k)) fail(`unknown field "${k}"; allowed: ${RECIPE_KEYS.join(", ")}`);
  }
  if (typeof o.name !== "string" || !o.name) fail(`"name" must be a non-empty string`);
  for (const k of ["fuse", "keepIntermediate"]) if (o[k] !== undefined && typeof o[k] !== "boolean") fail(`"${k}" must be true or false`);
  if (!Array.isArray(o.inputs) || !o.inputs.every((x) => typeof x === "string")) fail(`"inputs" must be a list of globs`);
  if (!Array.isArray(o.steps) || o.steps.length === 0) fail(`"steps" must be a non-empty list`);
  const names = new Set<string>();
  (o.steps as unknown[]).forEach((s, i) => {
    const at = `steps[${i}]`;
    if (!s || typeof s !== "object") fail(`${at} must be an object`);
    const st = s as Record<string, unknown>;
    for (const k of Object.keys(st)) if (!STEP_KEYS.has(k)) fail(`${at}: unknown field "${k}"; allowed: ${[...STEP_KEYS].join(", ")}`);
    if (typeof st.name !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(st.name) || st.name === "recipe-dir") {
      fail(`${at}.name must be lowercase letters, digits and dashes (and not the reserved "recipe-dir")`);
    }
    if (names.has(st.name as string)) fail(`${at}.name "${st.name}" is used twice`);
    for (const c of [st.command, (st.otherwise as Record<string, unknown> | undefined)?.command]) {
      if (c !== undefined && !knownCommands.includes(c as string)) fail(`${at}: command "${c}" is not one of: ${knownCommands.join(", ")}`);
    }
    if (st.command === undefined) fail(`${at}.command is required`);
    for (const k of ["keep", "fuse"]) if (st[k] !== undefined && typeof st[k] !== "boolean") fail(`${at}.${k} must be true or false`);
    if (st.when !== undefined && !["always", "llm", "train"].includes(st.when as string)) fail(`${at}.when must be one of: always, llm, train`);
    if (st.shard !== undefined && !["files", "bands", "none"].includes(st.shard as string)) fail(`${at}.shard must be one of: files, bands, none`);
    const refs = [st.input, (st.otherwise as Record<string, unknown> | undefined)?.input].filter((x) => x !== undefined) as string[];
    for (const ref of refs) {
      if (ref !== "@input" && !(ref.startsWith("@") && names.has(ref.slice(1)))) {
        fail(`${at}.input "${ref}" must be "@input" or "@NAME" of an earlier step`);
      }
    }
    names.add(st.name as string);
  });
  if (o.final !== undefined && !names.has(o.final as string)) fail(`"final" names no step: ${o.final}`);
  return o as unknown as Recipe;
}
