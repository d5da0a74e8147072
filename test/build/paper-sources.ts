// A --sources folder for the paper recipe (pipelines/pro-max.json): every dataset its mixtures read, at the path
// and in the file format and columns of its release on the Hub (`huggingface-cli download OWNER/NAME --local-dir
// DIR/OWNER/NAME`), filled with the demo's small real stand-ins (fixtures/demo/sources, PROVENANCE.md there). The
// demo's stand-ins are sized for its 1M/500k-token mixtures, so the paper recipe runs on this folder at those sizes.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { repoRoot } from "../helpers.js";
import { zstdCompress, ensureZstd } from "../../lib/io/index.js";
import { listOfStruct, writeParquet } from "../io/chat-parquet.js";

const standIn = (name: string) => join(repoRoot, "fixtures", "demo", "sources", `${name}.parquet`);

async function rows(name: string): Promise<Record<string, unknown>[]> {
  const b = readFileSync(standIn(name));
  const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[];
}

const str = (name: string) => [{ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }] as never;

/** Write the folder; returns the path of each dataset file by the mixture source name it serves. */
export async function writePaperSources(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const place = (source: string, rel: string) => {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    out[source] = p;
    return p;
  };
  // Parquet releases whose columns the stand-ins already have (text; problem/generated_solution; problem/solution;
  // problem + messages list<struct<content, role>>).
  copyFileSync(join(repoRoot, "fixtures", "demo", "megamath-web-00001.parquet"), place("megamath-web-pro", "LLM360/MegaMath/megamath-web-pro/000_00000.parquet"));
  copyFileSync(standIn("megamath-qa"), place("megamath-qa", "LLM360/MegaMath/megamath-qa/qwen-2.5/000_00000.parquet"));
  copyFileSync(standIn("megamath-text-code-block"), place("megamath-text-code-block", "LLM360/MegaMath/megamath-text-code-block/000_00000.parquet"));
  copyFileSync(standIn("megamath-translated-code"), place("megamath-translated-code", "LLM360/MegaMath/megamath-translated-code/000_00000.parquet"));
  // MegaMath-Code's release is metadata only: the recipe reads the code text the user supplies here.
  copyFileSync(standIn("megamath-code"), place("megamath-code", "megamath-code-text/000.parquet"));
  copyFileSync(standIn("openmathinstruct-2"), place("openmathinstruct-2", "nvidia/OpenMathInstruct-2/data/train-00000-of-00001.parquet"));
  copyFileSync(standIn("numinamath-1.5"), place("numinamath-1.5", "AI-MO/NuminaMath-1.5/data/train-00000-of-00001.parquet"));
  copyFileSync(standIn("openr1-math-220k"), place("openr1-math-220k", "open-r1/OpenR1-Math-220k/data/train-00000-of-00001.parquet"));
  // DCLM-Baseline: zstd-compressed JSONL in global/local shard folders, the page in `text`.
  await ensureZstd();
  const dclm = (await rows("dclm-baseline")).map((r, i) => JSON.stringify({ text: r.text, url: `https://example.org/dclm/${i}` })).join("\n") + "\n";
  writeFileSync(place("dclm-baseline", "mlfoundations/dclm-baseline-1.0/global-shard_01_of_10/local-shard_0_of_10/shard_00000000_processed.jsonl.zst"), zstdCompress(Buffer.from(dclm)));
  // AM-DeepSeek-Distilled-40M: JSONL with flat question/answer.
  writeFileSync(place("am-deepseek-distilled-40m", "a-m-team/AM-DeepSeek-Distilled-40M/math/part-00000.jsonl"),
    (await rows("am-deepseek-distilled-40m")).map((r) => JSON.stringify({ question: r.question, answer: r.answer })).join("\n") + "\n");
  // The three instruction sets, a third of the chat stand-in each: TULU3 personas and UltraChat keep the turns in
  // `messages`, WildChat in `conversation` (list<struct<content, role>>, plus its `model` column).
  const chats = (await rows("instruction")).map((r) => JSON.parse(String(r.messages)) as { role: string; content: string }[]);
  const third = Math.ceil(chats.length / 3);
  const turns = (k: number) => chats.slice(k * third, (k + 1) * third).map((t) => t.map((m) => ({ content: m.content, role: m.role })));
  writeParquet(place("instruction-tulu3", "allenai/tulu-3-sft-personas-instruction-following/data/train-00000-of-00001.parquet"), [
    { name: "id", schema: str("id"), data: turns(0).map((_, i) => `personas_IF_${i}`) },
    { name: "messages", schema: listOfStruct("messages", ["content", "role"]) as never, data: turns(0) }]);
  writeParquet(place("instruction-wildchat", "allenai/WildChat-1M/data/train-00000-of-00001.parquet"), [
    { name: "model", schema: str("model"), data: turns(1).map(() => "gpt-4-0314") },
    { name: "conversation", schema: listOfStruct("conversation", ["content", "role"]) as never, data: turns(1) }]);
  writeParquet(place("instruction-ultrachat", "HuggingFaceH4/ultrachat_200k/data/train_sft-00000-of-00001.parquet"), [
    { name: "prompt", schema: str("prompt"), data: turns(2).map((t) => t[0].content) },
    { name: "messages", schema: listOfStruct("messages", ["content", "role"]) as never, data: turns(2) }]);
  return out;
}

/** The --set values that run the paper recipe at the demo's size (the sizes of pipelines/pro-max-demo.json). */
export const REDUCED_SIZE = [
  "sample.per-year=120",
  "train-classifier.dim=64", "train-classifier.bucket=200000", "train-classifier.lr=0.5", "train-classifier.epoch=10",
  "mix-stable.tokens=1M", "mix-decay-long.tokens=500k", "mix-decay-short.tokens=500k", "mix-decay-hybrid.tokens=500k",
  "mix-stable.workers=0", "mix-decay-long.workers=0", "mix-decay-short.workers=0", "mix-decay-hybrid.workers=0",
];
