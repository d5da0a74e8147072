// Pro-Max refinement: each document goes into the refinement prompt and the model's answer replaces `text`.
// Documents deliberately not sent (empty, or over the input budget) are counted removals. An answer that cannot be
// used — empty, cut off by the token limit, far shorter or far longer than the input — is a failed document with its
// reason, like an unparseable annotation: so a file whose answers are all unusable fails whole (no marker, exit 1)
// and --max-failed-share applies, instead of a broken server passing for a strict filter. A lead-in line ("Here is the refined text:") and an echoed
// <document> fence are stripped (counted). The document is fenced as data inside the prompt; whatever it says can
// only change its own answer, because every document is its own request and is inserted literally.
import { Utf8 } from "apache-arrow";
import type { Batch } from "../arrow/batch.js";
import { takeRows, withColumn } from "../arrow/batch.js";
import type { Stage, StageContext } from "../runtime/stage.js";
import type { LlmClient } from "./client.js";
import { type DocumentFence, PROMAX_REFINE_PROMPT, type PromptTemplate, checkPrompt, renderPrompt } from "./prompts.js";
import { askBatches, requestFailed } from "./ask.js";
import { cleanRefined } from "./parse.js";

/**
 * Defaults, project decisions (the papers give none):
 * - maxInputChars 24,000 (~6k tokens): the refined text must fit `max_tokens` (default 8,192 in the command), and
 *   the prompt asks to keep the original length, so a longer input would be cut off; such documents are removed as
 *   `refine_input_too_long` without a request rather than paying for a truncated answer.
 * - length ratio (answer chars / input chars) within [0.2, 1.5]: refinement removes boilerplate, so answers are
 *   usually shorter, but one under a fifth of the input has lost the content (or is a refusal), and one over 1.5x has
 *   invented content or repeated itself.
 */
export const DEFAULT_REFINE_LIMITS = { maxInputChars: 24_000, minRatio: 0.2, maxRatio: 1.5 };

export interface RefineOptions {
  client: LlmClient;
  prompt?: PromptTemplate;
  fence?: DocumentFence;
  maxInputChars?: number;
  minRatio?: number;
  maxRatio?: number;
  /** Keep the original text in this column (empty: do not). */
  originalColumn?: string;
  journalDir?: string;
}

export function refineStage(o: RefineOptions): Stage {
  const prompt = o.prompt ?? PROMAX_REFINE_PROMPT;
  checkPrompt(prompt);
  const lim = {
    maxInputChars: o.maxInputChars ?? DEFAULT_REFINE_LIMITS.maxInputChars,
    minRatio: o.minRatio ?? DEFAULT_REFINE_LIMITS.minRatio,
    maxRatio: o.maxRatio ?? DEFAULT_REFINE_LIMITS.maxRatio,
  };
  const name = "refine";
  return {
    name,
    requires: ["text", "id"],
    async *run(input: AsyncIterable<Batch>, ctx: StageContext) {
      const asked = askBatches(input, ctx, {
        client: o.client, stage: name, journalDir: o.journalDir,
        prompt: (text) => {
          if (text.trim() === "") return { skip: "refine_empty_input" };
          if (lim.maxInputChars > 0 && text.length > lim.maxInputChars) return { skip: "refine_input_too_long" };
          return { prompt: renderPrompt(prompt, text, o.fence ?? "tags") };
        },
      });
      for await (const a of asked) {
        const keep: number[] = [];
        const refined: string[] = [];
        a.outcomes.forEach((out, i) => {
          if (out.kind === "error") return requestFailed(ctx, name, a.firstRow + i, a.ids[i], out.error);
          if (out.kind === "skipped") return ctx.stats.remove(out.reason);
          const bad = (reason: string) =>
            ctx.stats.fail(reason, 1, `${ctx.file} row ${a.firstRow + i} (id ${a.ids[i]})`, snippet(out.answer.text));
          if (out.answer.finishReason === "length") return bad("refine_cut_off");
          const c = cleanRefined(out.answer.text);
          if (c.text === "") return bad("refine_empty_answer");
          const ratio = c.text.length / Math.max(1, a.texts[i].length);
          if (ratio < lim.minRatio) return bad("refine_too_short");
          if (ratio > lim.maxRatio) return bad("refine_too_long");
          if (c.preamble) ctx.stats.count("refine_preamble_stripped");
          if (c.fence) ctx.stats.count("refine_fence_stripped");
          keep.push(i);
          refined.push(c.text);
        });
        let b = takeRows(a.batch, keep);
        if (o.originalColumn) b = withColumn(b, o.originalColumn, keep.map((i) => a.texts[i]), new Utf8());
        yield withColumn(b, "text", refined, new Utf8());
      }
    },
    async close() {
      o.client.close();
    },
  };
}

function snippet(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 160 ? one.slice(0, 160) + "…" : one;
}
