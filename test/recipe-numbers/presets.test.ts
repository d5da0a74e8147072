// Every number of the shipped mixture presets pinned against the paper's tables, transcribed here from
// ../shared/spec/recipe.md: §3.3 (OctoThinker Table 2, Stable) and §3.4 (Table 5, Decay). A preset whose weight,
// budget, repetition cap or template drifts from these fails here, with the table it breaks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PRESETS, loadPreset } from "../../lib/mix/index.js";
import { presetPath } from "../../lib/mix/spec.js";

type T = { name: string; columns?: Record<string, string> };
const web: T = { name: "web" };
// Templates follow each released dataset's layout (recipe.md §3.1, §6; the preset's source_layouts cite the cards).
const TEMPLATES: Record<string, T> = {
  "megamath-web-pro-max": web,
  "megamath-web-pro": web,
  "dclm-baseline": web,
  "megamath-text-code-block": web,
  "megamath-code": web,
  "megamath-translated-code": web,
  // MegaMath-QA ships only `text` (the Question:/Answer: pair already written out).
  "megamath-qa": web,
  // OctoThinker §3.1: instruction data as "User:{}\nAssistant:{}" from the conversation.
  instruction: { name: "chat" },
  "openmathinstruct-2": { name: "qa", columns: { question: "problem", answer: "generated_solution" } },
  "numinamath-1.5": { name: "qa", columns: { question: "problem", answer: "solution" } },
  // OctoThinker §3.1: question + "\n" + thinking in <think></think>.
  "openr1-math-220k": { name: "cot", columns: { question: "problem", messages: "messages" } },
  "am-deepseek-distilled-40m": { name: "cot", columns: { question: "question", reasoning: "answer" } },
};

// recipe.md §3.3, "Stable stage (200B tokens, constant LR)", OctoThinker Table 2.
const STABLE = {
  total: 200e9,
  weights: {
    "megamath-web-pro-max": 0.725, "dclm-baseline": 0.10, "megamath-text-code-block": 0.10, "megamath-qa": 0.05,
    "megamath-code": 0.0125, "megamath-translated-code": 0.0125,
  },
};
// recipe.md §3.4, "Decay stage (20B tokens per branch)", OctoThinker Table 5: common to all branches Web-Pro 55%,
// instruction-following 10%, DCLM-Baseline 5%; QA 30% per branch.
const DECAY_COMMON = { "megamath-web-pro": 0.55, instruction: 0.10, "dclm-baseline": 0.05 };
const DECAY: Record<string, Record<string, number>> = {
  "decay-long": { "openr1-math-220k": 0.15, "am-deepseek-distilled-40m": 0.15 },
  "decay-short": { "openmathinstruct-2": 0.175, "numinamath-1.5": 0.10, "megamath-qa": 0.025 },
  "decay-hybrid": { "openmathinstruct-2": 0.10, "numinamath-1.5": 0.10, "openr1-math-220k": 0.10 },
};
const EXPECTED: Record<string, { total: number; weights: Record<string, number> }> = {
  stable: STABLE,
  ...Object.fromEntries(Object.entries(DECAY).map(([k, qa]) => [k, { total: 20e9, weights: { ...DECAY_COMMON, ...qa } }])),
};

test("the shipped presets are exactly the paper's four mixtures", () => {
  assert.deepEqual([...PRESETS].sort(), Object.keys(EXPECTED).sort());
});

for (const name of PRESETS) {
  test(`preset ${name}: weights, budget, repetition cap and templates as recipe.md §3.3/§3.4`, () => {
    const spec = loadPreset(name);
    const want = EXPECTED[name];
    assert.equal(spec.name, name);
    assert.equal(spec.total_tokens, want.total, "token budget");
    // Per-source epochs are not published (recipe.md §7 "per-dataset token budgets and epochs ... unknown"); our cap
    // is 4 epochs for every source (Muennighoff et al.'s 'up to 4 epochs is about as good as new data').
    assert.equal(spec.max_repetition, 4);
    for (const s of spec.sources) assert.equal(s.max_repetition, undefined, `${s.name}: no per-source cap`);
    // Order and membership exactly as the table, every weight exact (no normalization needed).
    assert.deepEqual(spec.sources.map((s) => s.name), Object.keys(want.weights));
    for (const s of spec.sources) {
      assert.equal(s.weight, want.weights[s.name], `${s.name} weight`);
      const t = TEMPLATES[s.name];
      assert.deepEqual({ name: s.template?.name, columns: s.template?.columns ?? {} }, { name: t.name, columns: t.columns ?? {} }, `${s.name} template`);
      assert.equal(s.path, undefined, `${s.name}: presets name no paths`);
    }
    const sum = spec.sources.reduce((a, s) => a + s.weight, 0);
    assert.ok(Math.abs(sum - 1) < 1e-12, `weights sum to ${sum}`);
    if (name !== "stable") {
      const qa = spec.sources.filter((s) => !(s.name in DECAY_COMMON)).reduce((a, s) => a + s.weight, 0);
      assert.ok(Math.abs(qa - 0.30) < 1e-12, `QA share ${qa} (§3.4: 30%)`);
    }
    // The description quotes the same numbers the test pins.
    const raw = JSON.parse(readFileSync(presetPath(name), "utf8"));
    assert.match(raw.description, name === "stable" ? /200B/ : /20B/);
  });
}

test("the Decay branches use Web-Pro, not Pro-Max; the Stable stage uses Pro-Max (recipe.md §3.4 note)", () => {
  assert.ok(loadPreset("stable").sources.some((s) => s.name === "megamath-web-pro-max"));
  for (const b of ["decay-long", "decay-short", "decay-hybrid"]) {
    const names = loadPreset(b).sources.map((s) => s.name);
    assert.ok(names.includes("megamath-web-pro") && !names.includes("megamath-web-pro-max"), b);
  }
});
