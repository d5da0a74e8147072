// Chat and long-CoT datasets in their Hugging Face Parquet layouts (a `messages` list<struct<…>> column) tokenize
// with the chat and cot templates, and mix through the Decay presets and `megamath mix`. Files are built from real
// DPO / math.stackexchange records (test/io/chat-parquet.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync, writeFileSync, readdirSync, mkdirSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpDir, repoRoot, sharedData } from "../helpers.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import { renderBatch } from "../../lib/tokenizer/templates.js";
import { MegatronReader } from "../../lib/formats/megatron.js";
import { loadTokenizer } from "../../lib/tokenizer/load.js";
import { readDocuments } from "../../lib/io/index.js";
import { loadPreset, runMix, withTemplates } from "../../lib/mix/index.js";
import {
  dpoRecords, writeDpoChatParquet, seMathRecords, writeOpenR1Parquet, writeParquet, listOfStruct, type Sharegpt,
} from "../io/chat-parquet.js";

/** Every document of a token folder's shard, decoded, sorted (shards are shuffled). */
function decodedDocs(prefix: string): string[] {
  const r = new MegatronReader(prefix);
  const tok = loadTokenizer("llama3");
  try {
    const out: string[] = [];
    for (let i = 0; i < r.index.lengths.length; i++) out.push(tok.decode(r.document(i)));
    return out.sort();
  } finally {
    r.close();
    tok.free();
  }
}

const framed = (s: string) => `<|begin_of_text|>${s}<|end_of_text|>`;
const label = (t: Sharegpt) => (t.from === "human" ? "User" : t.from === "gpt" ? "Assistant" : "System");

test("tokenize --template chat reads a Parquet messages list<struct> column (the main column) end to end", async () => {
  const dir = tmpDir();
  const recs = dpoRecords(60);
  const file = join(dir, "dpo.parquet");
  writeDpoChatParquet(file, recs);
  await tokenizeFiles({ inputs: [file], outDir: join(dir, "out"), template: { name: "chat" }, workers: 0 });
  const want = recs.map((r) => framed([...r.conversations, r.chosen].map((t) => `${label(t)}:${t.value}`).join("\n"))).sort();
  assert.deepEqual(decodedDocs(join(dir, "out", "dpo")), want);
});

test("the chat template renders a List<Struct> column read from Parquet as it is (not the main column)", async () => {
  const dir = tmpDir();
  const recs = dpoRecords(20);
  const file = join(dir, "c.parquet");
  writeParquet(file, [
    { name: "text", schema: [{ name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }], data: recs.map(() => "x") },
    { name: "messages", schema: listOfStruct("messages", ["from", "value"]), data: recs.map((r) => [...r.conversations, r.chosen]) },
  ]);
  for await (const b of readDocuments(file)) {
    assert.match(String(b.schema.fields[2].type), /^List<Struct/);
    const { texts, failures } = renderBatch(b, { name: "chat" });
    assert.deepEqual(failures, []);
    assert.deepEqual(texts, recs.map((r) => [...r.conversations, r.chosen].map((t) => `${label(t)}:${t.value}`).join("\n")));
  }
});

test("cot from OpenR1's layout (problem + messages) and from a conversation alone (AM layout) give OctoThinker's text", async () => {
  const dir = tmpDir();
  const recs = seMathRecords(40);
  const want = recs.map((r) => framed(`${r.input}\n<think>\n${r.output}\n</think>`)).sort();
  const openr1 = join(dir, "openr1.parquet");
  writeOpenR1Parquet(openr1, recs);
  await tokenizeFiles({ inputs: [openr1], outDir: join(dir, "o"), workers: 0, template: { name: "cot", columns: { question: "problem", messages: "messages" } } });
  assert.deepEqual(decodedDocs(join(dir, "o", "openr1")), want);
  const am = join(dir, "am.parquet");
  writeParquet(am, [{
    name: "messages", schema: listOfStruct("messages", ["role", "content"]),
    data: recs.map((r) => [{ role: "user", content: r.input }, { role: "assistant", content: `<think>\n${r.output}\n</think>` }]),
  }]);
  await tokenizeFiles({ inputs: [am], outDir: join(dir, "a"), workers: 0, template: { name: "cot", columns: { messages: "messages" } } });
  assert.deepEqual(decodedDocs(join(dir, "a", "am")), want);
});

test("bad conversations are reported with their reason: skipped and counted under skip, named under fail", async () => {
  const dir = tmpDir();
  const file = join(dir, "bad.parquet");
  writeParquet(file, [{
    name: "messages", schema: listOfStruct("messages", ["role", "content"]),
    data: [
      [{ role: "user", content: "What is 1+1?" }, { role: "assistant", content: "2" }],
      [{ role: "user", content: "no reply" }],
      [{ role: "user", content: null }, { role: "assistant", content: "x" }],
      [],
      null,
    ],
  }]);
  const res = await tokenizeFiles({ inputs: [file], outDir: join(dir, "s"), workers: 0, template: { name: "chat" }, onError: "skip" });
  assert.equal(res.shards[0].documents, 1);
  // No assistant turn, a null content, an empty list and a missing (null) list.
  assert.deepEqual(res.stats.failed, { template_bad_messages: 4 });
  await assert.rejects(tokenizeFiles({ inputs: [file], outDir: join(dir, "f"), workers: 0, template: { name: "chat" } }),
    /bad\.parquet row id bad\.parquet\/1: template_bad_messages: conversation has no assistant turn/);
});

test("decay-long mixes OpenR1- and AM-layout Parquet sources, and megamath mix takes a chat Parquet source", async () => {
  const dir = tmpDir();
  const recs = seMathRecords(120);
  const openr1 = join(dir, "openr1.parquet");
  writeOpenR1Parquet(openr1, recs.slice(0, 60));
  const am = join(dir, "am.parquet");
  writeParquet(am, [{
    name: "messages", schema: listOfStruct("messages", ["role", "content"]),
    data: recs.slice(60).map((r) => [{ role: "user", content: r.input }, { role: "assistant", content: `<think>\n${r.output}\n</think>` }]),
  }]);
  const chat = join(dir, "chat.parquet");
  writeDpoChatParquet(chat, dpoRecords(100));
  const web = sharedData("web-nonmath/c4_demo.jsonl.gz");
  // AM-DeepSeek-R1-Distilled's conversation layout (the 40M set is flat question/answer, the preset's default).
  const spec = withTemplates({ ...loadPreset("decay-long"), total_tokens: 40_000 }, { "am-deepseek-distilled-40m": JSON.stringify({ name: "cot", columns: { messages: "messages" } }) });
  const { mixture } = await runMix({
    spec, workers: 0, outDir: join(dir, "mix"),
    paths: { "megamath-web-pro": web, instruction: chat, "dclm-baseline": web, "openr1-math-220k": openr1, "am-deepseek-distilled-40m": am },
  });
  const byName = new Map(mixture!.sources.map((s) => [s.name, s]));
  assert.equal(byName.get("openr1-math-220k")!.available_documents, 60);
  assert.equal(byName.get("am-deepseek-distilled-40m")!.available_documents, 60);
  assert.equal(byName.get("instruction")!.available_documents, 100);
  assert.equal(mixture!.tokens_written, 40_000);

  // The CLI, with a spec naming a chat source over the Parquet chat file.
  const specFile = join(dir, "spec.json");
  writeFileSync(specFile, JSON.stringify({ name: "chat-only", total_tokens: "3K", sources: [{ name: "chat", weight: 1, template: "chat" }] }));
  execFileSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), "mix", "--spec", specFile, "--source", `chat=${chat}`, "-o", join(dir, "cli"), "-q"],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  const mj = JSON.parse(readFileSync(join(dir, "cli", "mixture.json"), "utf8"));
  assert.equal(mj.tokens_written, 3000);
  assert.equal(mj.sources[0].available_documents, 100);
});

test("mix --dry-run writes nothing next to the output (its token counting happens under the OS temp folder)", async () => {
  const root = tmpDir();
  const chat = join(root, "chat.parquet");
  writeDpoChatParquet(chat, dpoRecords(30));
  const spec = { name: "dry", total_tokens: 2000, max_repetition: 4, seed: 0, sources: [{ name: "chat", weight: 1, template: { name: "chat" as const } }] };
  // The output's parent does not exist: a dry run must not create it (it used to hold the token-count folder).
  const { plan, mixture } = await runMix({ spec, paths: { chat }, outDir: join(root, "no", "such", "mix"), dryRun: true, workers: 0 });
  assert.equal(mixture, null);
  assert.equal(plan!.sources[0].available_documents, 30);
  assert.ok(!existsSync(join(root, "no")));

  // The CLI without -o: nothing in the working folder or its parent, no temp folder left behind.
  const cwd = join(root, "work");
  const tmp = join(root, "tmp");
  mkdirSync(cwd);
  mkdirSync(tmp);
  const specFile = join(root, "spec.json");
  writeFileSync(specFile, JSON.stringify({ ...spec, total_tokens: "2K" }));
  const before = readdirSync(root).sort();
  // tsx by absolute URL: the command runs outside the repository.
  execFileSync(process.execPath, ["--import", import.meta.resolve("tsx"), join(repoRoot, "cli/main.ts"), "mix", "--spec", specFile, "--source", `chat=${chat}`, "--dry-run"],
    { cwd, env: { ...process.env, TMPDIR: tmp }, stdio: ["ignore", "pipe", "pipe"] });
  assert.deepEqual(readdirSync(root).sort(), before);
  assert.deepEqual(readdirSync(cwd), []);
  assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith("megamath-")), [], "the dry run's temp folder is removed");
});
