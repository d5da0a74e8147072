// Child process for the kill-and-resume test: annotates 60 real documents in 3 batches against the server at argv[2]
// and writes the rows as JSONL to argv[3]/out.jsonl (atomically, at the end).
import { join } from "node:path";
import { makeBatch, batchRows } from "../../lib/arrow/batch.js";
import { LlmClient } from "../../lib/llm/client.js";
import { annotateStage } from "../../lib/llm/annotate-stage.js";
import { writeFileAtomic } from "../../lib/io/atomic.js";
import { realMathTexts, runStage } from "./util.js";

const [url, outDir] = process.argv.slice(2);
const texts = realMathTexts(60);
const batches = [0, 20, 40].map((s) => makeBatch({ id: texts.slice(s, s + 20).map((_, i) => `doc${s + i}`), text: texts.slice(s, s + 20) }));
const client = new LlmClient({ baseUrl: url, model: "m", maxInFlight: 8, apiKey: process.env.TEST_LLM_KEY });
const { rows, stats } = await runStage(annotateStage({ client, rawColumn: "raw" }), batches, { outDir, file: "/data/in.parquet" });
client.close();
await writeFileAtomic(join(outDir, "out.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
await writeFileAtomic(join(outDir, "stats.json"), JSON.stringify({ ...stats.toJSON(), timeMs: 0 }) + "\n");
