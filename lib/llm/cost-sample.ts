// The sample a cost plan (cost-plan.ts) is measured on: an even share of documents from each file, read from the
// start, each rendered into the step's prompt as the step would send it and counted with the model's tokenizer.
// Shared by `megamath plan-cost` and `megamath build --plan`.
import { readDocuments } from "../io/index.js";
import { getStrings } from "../arrow/batch.js";
import type { Tokenizer } from "../tokenizer/load.js";
import { renderPrompt, truncateDoc, type DocumentFence, type PromptTemplate } from "./prompts.js";
import type { SampledRequest } from "./cost-plan.js";

export interface CostSampleOptions {
  step: "annotate" | "refine";
  prompt: PromptTemplate;
  tokenizer: Tokenizer;
  /** Documents to sample in all. */
  sample: number;
  fence: DocumentFence;
  /** annotate: documents are cut to this many characters. */
  maxChars: number;
  /** refine: longer documents are not sent (0: no bound). */
  maxInputChars: number;
  textKey?: string;
}

export async function sampleRequests(files: string[], o: CostSampleOptions): Promise<SampledRequest[]> {
  const sample: SampledRequest[] = [];
  if (!files.length) return sample;
  const perFile = Math.ceil(o.sample / files.length);
  for (const f of files) {
    let taken = 0;
    for await (const b of readDocuments(f, { textKey: o.textKey ?? "text", batchSize: Math.min(perFile, 4096) })) {
      for (const t of getStrings(b, "text")) {
        if (taken >= perFile || sample.length >= o.sample) break;
        const text = t ?? "";
        const skipped = o.step === "refine" && o.maxInputChars > 0 && text.length > o.maxInputChars;
        const sent = o.step === "annotate" ? truncateDoc(text, o.maxChars).text : text;
        sample.push({ promptTokens: skipped ? 0 : o.tokenizer.encode(renderPrompt(o.prompt, sent, o.fence)).length, documentTokens: o.tokenizer.encode(text).length, skipped });
        taken++;
      }
      if (taken >= perFile || sample.length >= o.sample) break;
    }
  }
  return sample;
}
