// Every mixture source read in the layout its released dataset has (recipe.md §3.1, §6; the presets'
// source_layouts cite the cards): a tiny fixture per layout, written here in that layout, is rendered with the
// preset's template and checked text for text. Layouts that do not fit stop before tokenizing with the columns found
// and the --source-template values that would read them; MegaMath-Code's metadata-only release says what to supply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { tmpDir, repoRoot } from "../helpers.js";
import { listOfStruct, writeParquet } from "../io/chat-parquet.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import { loadTokenizer } from "../../lib/tokenizer/load.js";
import { MegatronReader } from "../../lib/formats/megatron.js";
import type { TemplateSpec } from "../../lib/tokenizer/templates.js";
import { PRESETS, loadPreset, withTemplates, checkMixLayouts, checkSourceLayout, MixSpecError, runMix } from "../../lib/mix/index.js";

const dir = tmpDir();
const str = (name: string) => [{ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }] as never;
const strings = (name: string, data: (string | null)[]) => ({ name, schema: str(name), data });
const jsonl = (name: string, rows: object[]) => {
  const p = join(dir, name);
  writeFileSync(p, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return p;
};
const parquet = (name: string, cols: { name: string; schema: never; data: unknown[] }[]) => {
  const p = join(dir, name);
  writeParquet(p, cols);
  return p;
};

// One or two rows per dataset, with the columns its card lists (values made up, small).
const FIXTURES: Record<string, string> = {
  // LLM360/MegaMath megamath-qa: a lone `text` column.
  "megamath-qa": parquet("megamath-qa.parquet", [strings("text", ["Question: What is 2+3?\nAnswer: 2+3 = 5."])]),
  // a-m-team/AM-DeepSeek-Distilled-40M: JSONL, flat question/answer.
  "am-deepseek-distilled-40m": jsonl("am-40m.jsonl", [{ question: "Is 7 prime?", answer: "<think>\n7 has no divisor but 1 and 7.\n</think>\nYes.", source: "x" }]),
  // open-r1/OpenR1-Math-220k: problem, solution, answer, generations list<string>, messages list<struct<content, role>>.
  "openr1-math-220k": parquet("openr1.parquet", [
    strings("problem", ["Find x if 2x = 6."]), strings("solution", ["x = 3"]), strings("answer", ["3"]),
    { name: "messages", schema: listOfStruct("messages", ["content", "role"]) as never,
      data: [[{ content: "Find x if 2x = 6.", role: "user" }, { content: "<think>\nDivide by 2.\n</think>\nx = 3", role: "assistant" }]] },
  ]),
  // AI-MO/NuminaMath-1.5: problem, solution, answer, problem_type, question_type, source, ...
  "numinamath-1.5": parquet("numina.parquet", [strings("problem", ["Compute 4!."]), strings("solution", ["4! = 24."]),
    strings("answer", ["24"]), strings("problem_type", ["Algebra"]), strings("source", ["olympiads"])]),
  // nvidia/OpenMathInstruct-2: problem, generated_solution, expected_answer, problem_source.
  "openmathinstruct-2": jsonl("omi2.jsonl", [{ problem: "What is 10/2?", generated_solution: "10/2 = \\boxed{5}", expected_answer: "5", problem_source: "augmented_math" }]),
  // mlfoundations/dclm-baseline-1.0: text, url, ...
  "dclm-baseline": jsonl("dclm.jsonl", [{ text: "A page of ordinary web text.", url: "https://example.org/a", language_id_whole_page_fasttext: { en: 0.97 } }]),
  // TULU3 personas / UltraChat-200K: messages list<struct<content, role>>.
  instruction: parquet("ultrachat.parquet", [strings("prompt", ["Say hi."]),
    { name: "messages", schema: listOfStruct("messages", ["content", "role"]) as never, data: [[{ content: "Say hi.", role: "user" }, { content: "Hi!", role: "assistant" }]] }]),
  "megamath-web-pro": parquet("web-pro.parquet", [strings("text", ["Web-Pro page."]), strings("url", ["https://example.org/p"])]),
  "megamath-web-pro-max": parquet("pro-max.parquet", [strings("text", ["Pro-Max page."]), strings("id", ["d1"])]),
  "megamath-text-code-block": parquet("tcb.parquet", [strings("text", ["Text then code:\n```python\nprint(1)\n```"])]),
  "megamath-translated-code": parquet("tc.parquet", [strings("text", ["def f():\n    return 1\n"])]),
  "megamath-code": parquet("code-text.parquet", [strings("text", ["int main() { return 0; }"])]),
};
// What the first row of each fixture becomes: OctoThinker §3.1's formats (cot: question + newline + <think>;
// chat: User:/Assistant:), qa as Question:/Answer:, web as is.
const EXPECTED: Record<string, string> = {
  "megamath-qa": "Question: What is 2+3?\nAnswer: 2+3 = 5.",
  "am-deepseek-distilled-40m": "Is 7 prime?\n<think>\n7 has no divisor but 1 and 7.\n</think>\nYes.",
  "openr1-math-220k": "Find x if 2x = 6.\n<think>\nDivide by 2.\n</think>\nx = 3",
  "numinamath-1.5": "Question: Compute 4!.\nAnswer: 4! = 24.",
  "openmathinstruct-2": "Question: What is 10/2?\nAnswer: 10/2 = \\boxed{5}",
  "dclm-baseline": "A page of ordinary web text.",
  instruction: "User:Say hi.\nAssistant:Hi!",
  "megamath-web-pro": "Web-Pro page.",
  "megamath-web-pro-max": "Pro-Max page.",
  "megamath-text-code-block": "Text then code:\n```python\nprint(1)\n```",
  "megamath-translated-code": "def f():\n    return 1\n",
  "megamath-code": "int main() { return 0; }",
};

const tok = loadTokenizer("llama3");
async function renderFirst(file: string, template: TemplateSpec): Promise<string> {
  const out = tmpDir();
  const res = await tokenizeFiles({ inputs: [file], outDir: out, template, workers: 0 });
  assert.deepEqual(res.stats.failed ?? {}, {}, `${file}: failures`);
  const r = new MegatronReader(join(out, res.shards[0].prefix));
  const ids = [...r.document(0)];
  r.close();
  assert.equal(ids[0], 128000);
  assert.equal(ids.at(-1), 128001);
  return tok.decode(ids.slice(1, -1));
}

for (const preset of PRESETS) {
  test(`preset ${preset}: every source's released layout renders with the preset's template`, async () => {
    const spec = loadPreset(preset);
    await checkMixLayouts(spec, FIXTURES);
    for (const s of spec.sources) {
      assert.ok(spec.layouts?.[s.name], `${s.name} has a source_layouts note`);
      assert.equal(await renderFirst(FIXTURES[s.name], s.template ?? { name: "web" }), EXPECTED[s.name], s.name);
    }
  });
}

test("WildChat's `conversation` stops with the columns found and the flag that reads it; the flag renders it", async () => {
  const wildchat = parquet("wildchat.parquet", [strings("conversation_hash", ["h1"]), strings("model", ["gpt-4"]),
    { name: "conversation", schema: listOfStruct("conversation", ["content", "role", "language"]) as never,
      data: [[{ content: "Hello?", role: "user", language: "English" }, { content: "Hello!", role: "assistant", language: "English" }]] }]);
  const spec = loadPreset("decay-short");
  const paths = { ...FIXTURES, instruction: wildchat };
  await assert.rejects(checkMixLayouts(spec, paths), (e: Error) => {
    assert.ok(e instanceof MixSpecError);
    assert.match(e.message, /has columns conversation_hash, model, conversation; template \{"name":"chat"\} needs messages or prompt \+ response/);
    assert.ok(e.message.includes(`--source-template instruction='{"name":"chat","columns":{"messages":"conversation"}}'`), e.message);
    assert.match(e.message, /WildChat keeps them in `conversation`/);
    return true;
  });
  const fixed = withTemplates(spec, { instruction: '{"name":"chat","columns":{"messages":"conversation"}}' });
  await checkMixLayouts(fixed, paths);
  assert.equal(await renderFirst(wildchat, fixed.sources.find((s) => s.name === "instruction")!.template!), "User:Hello?\nAssistant:Hello!");
});

test("MegaMath-Code as released (metadata only) says there is no text and what to supply", async () => {
  const meta = parquet("megamath-code-meta.parquet", [strings("file_info", ['{"blob_id":"b1","path":"a.py"}']), strings("repo_info", ['{"repo_name":"x/y"}'])]);
  await assert.rejects(checkMixLayouts(loadPreset("stable"), { ...FIXTURES, "megamath-code": meta }), (e: Error) => {
    assert.match(e.message, /source "megamath-code": .* has columns file_info, repo_info; template \{"name":"web"\} needs text/);
    assert.match(e.message, /No template reads these columns/);
    assert.match(e.message, /metadata only .* Supply the code yourself/);
    return true;
  });
  // The library's runMix checks the same before reading anything (also on a dry run), not only `megamath mix`.
  await assert.rejects(runMix({ spec: loadPreset("stable"), paths: { ...FIXTURES, "megamath-code": meta }, outDir: join(tmpDir(), "mix"), dryRun: true }),
    (e: Error) => e instanceof MixSpecError && /source "megamath-code": .* has columns file_info, repo_info/.test(e.message));
});

test("a QA set with its own column names gets the qa and cot templates that would read it", async () => {
  const f = jsonl("other-qa.jsonl", [{ problem: "p", solution: "s" }]);
  await assert.rejects(checkSourceLayout("q", f, { name: "qa" }), (e: Error) => {
    assert.ok(e.message.includes(`--source-template q='{"name":"qa","columns":{"question":"problem","answer":"solution"}}'`), e.message);
    assert.ok(e.message.includes(`--source-template q='{"name":"cot","columns":{"question":"problem","reasoning":"solution"}}'`), e.message);
    return true;
  });
});

test("withTemplates: names, JSON, unknown sources and bad templates", () => {
  const spec = loadPreset("decay-long");
  assert.deepEqual(withTemplates(spec, { instruction: "web" }).sources[1].template, { name: "web" });
  assert.throws(() => withTemplates(spec, { nope: "web" }), /templates given for sources not in mixture "decay-long": nope/);
  assert.throws(() => withTemplates(spec, { instruction: "html" }), /source "instruction": unknown template "html"/);
  assert.throws(() => withTemplates(spec, { instruction: '{"name":"chat","columns":{"turns":"x"}}' }), /column role "turns" is not one of/);
  assert.throws(() => withTemplates(spec, { instruction: '{"name":"chat"' }), /template of source "instruction"/);
});

test("megamath mix --source-template reads WildChat's conversation end to end", () => {
  const spec = join(dir, "chat-spec.json");
  writeFileSync(spec, JSON.stringify({ name: "chat", total_tokens: 10, max_repetition: 100, sources: [{ name: "instruction", weight: 1, template: "chat" }] }));
  const wildchat = join(dir, "wildchat.parquet");
  const run = (extra: string[]) => {
    try {
      execFileSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), "mix", "--spec", spec, "--source", `instruction=${wildchat}`, "--dry-run", "-q", ...extra],
        { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
      return { code: 0, err: "" };
    } catch (e) {
      const x = e as { status: number; stderr: Buffer };
      return { code: x.status, err: x.stderr.toString() };
    }
  };
  const bad = run([]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /"messages":"conversation"/);
  const good = run(["--source-template", 'instruction={"name":"chat","columns":{"messages":"conversation"}}']);
  assert.equal(good.code, 0, good.err);
});
