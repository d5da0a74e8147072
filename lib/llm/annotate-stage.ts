// FineMath annotation: each document (cut to a character budget) goes into the FineMath 5-point prompt and the
// answer's "Final score: N" becomes `finemath_score`. An answer without a readable score is a counted failure and its
// raw text is kept in a sidecar file (<outDir>/failures/annotate/<input>.<hash>.jsonl) for inspection — never a silent 0.
import { Int32, Utf8 } from "apache-arrow";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import type { Batch } from "../arrow/batch.js";
import { takeRows, withColumn } from "../arrow/batch.js";
import type { Stage, StageContext } from "../runtime/stage.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { LlmClient } from "./client.js";
import { type DocumentFence, FINEMATH_PROMPT, type PromptTemplate, checkPrompt, renderPrompt, truncateDoc } from "./prompts.js";
import { askBatches, journalPathFor, requestFailed } from "./ask.js";
import { parseFinalScore } from "./parse.js";

/**
 * Default document budget: 10,000 characters (about 2,500 Llama-3 tokens of English, ~3,000 of LaTeX-heavy text),
 * so prompt + document + a 100-word justification fit an 8k context with room to spare, and annotation cost per
 * document is bounded. Longer documents are cut at a word boundary; the count goes to `annotate_truncated`.
 */
export const DEFAULT_ANNOTATE_MAX_CHARS = 10_000;

export interface AnnotateOptions {
  client: LlmClient;
  prompt?: PromptTemplate;
  maxChars?: number;
  fence?: DocumentFence;
  scoreColumn?: string;
  /** Also output the model's full answer in this column (empty: do not). */
  rawColumn?: string;
  /** Highest valid score (5 for the FineMath prompt). */
  maxScore?: number;
  journalDir?: string;
}

export function annotateStage(o: AnnotateOptions): Stage {
  const prompt = o.prompt ?? FINEMATH_PROMPT;
  checkPrompt(prompt);
  const maxChars = o.maxChars ?? DEFAULT_ANNOTATE_MAX_CHARS;
  const scoreColumn = o.scoreColumn ?? "finemath_score";
  const maxScore = o.maxScore ?? 5;
  const name = "annotate";
  return {
    name,
    requires: ["text", "id"],
    async *run(input: AsyncIterable<Batch>, ctx: StageContext) {
      const failures: string[] = [];
      const asked = askBatches(input, ctx, {
        client: o.client, stage: name, journalDir: o.journalDir,
        prompt: (text) => {
          const t = truncateDoc(text, maxChars);
          if (t.truncated) ctx.stats.count("annotate_truncated");
          return { prompt: renderPrompt(prompt, t.text, o.fence ?? "tags") };
        },
      });
      for await (const a of asked) {
        const keep: number[] = [];
        const scores: number[] = [];
        const raws: string[] = [];
        a.outcomes.forEach((out, i) => {
          const row = a.firstRow + i;
          if (out.kind === "error") return requestFailed(ctx, name, row, a.ids[i], out.error);
          if (out.kind === "skipped") return ctx.stats.remove(out.reason);
          const score = parseFinalScore(out.answer.text, maxScore);
          if (out.answer.finishReason === "length") ctx.stats.count("annotate_finish_length");
          if (score === null) {
            const reason = out.answer.finishReason === "length" ? "unparseable_score_cut_off" : "unparseable_score";
            ctx.stats.fail(reason, 1, `${ctx.file} row ${row} (id ${a.ids[i]})`, snippet(out.answer.text));
            failures.push(JSON.stringify({ id: a.ids[i], row, reason, finish_reason: out.answer.finishReason,
              answer: out.answer.text }) + "\n");
            return;
          }
          keep.push(i);
          scores.push(score);
          raws.push(out.answer.text);
        });
        let b = withColumn(takeRows(a.batch, keep), scoreColumn, Int32Array.from(scores), new Int32());
        if (o.rawColumn) b = withColumn(b, o.rawColumn, raws, new Utf8());
        yield b;
      }
      // Written once the file is complete, atomically, so a resumed run rewrites the same bytes.
      // No failures this time: remove a sidecar an earlier (--force) run left, so it never describes stale output.
      const sidecar = journalPathFor(join(ctx.outDir, "failures", name), ctx.file || "input");
      if (failures.length) await writeFileAtomic(sidecar, failures.join(""));
      else await rm(sidecar, { force: true });
    },
    async close() {
      o.client.close();
    },
  };
}

function snippet(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 160 ? "…" + one.slice(-160) : one;
}
