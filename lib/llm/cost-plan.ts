// What an LLM step (annotate, refine) will cost before it starts: requests, prompt and answer tokens, GPU-hours at a
// given serving throughput, measured on a sample of the corpus and scaled to its document count. For refine it also
// measures the input-length guard: the share of documents and of tokens sent nowhere because they are longer than
// maxInputChars. Counts are in the model's tokenizer (Llama-3 for Llama-3.1/3.3-70B-Instruct).

/** One sampled document as the step would send it. */
export interface SampledRequest {
  /** Tokens of the rendered prompt (document inside), before the chat template's own tokens. */
  promptTokens: number;
  /** Tokens of the document text itself (the whole document, uncut). */
  documentTokens: number;
  /** True when the step would not send it (refine: longer than maxInputChars). */
  skipped: boolean;
}

export interface CostPlanInput {
  step: "annotate" | "refine";
  /** Documents in the whole corpus (one request each unless skipped). */
  documents: number;
  sample: SampledRequest[];
  /** Chat template tokens added per request by the server (role headers, default system text). */
  overheadTokens: number;
  /** annotate: answer tokens per request. */
  outputTokensPerRequest?: number;
  /** refine: answer tokens per document token (the prompt asks to keep the original length: 1). */
  outputRatio?: number;
  /** Generated tokens per second per GPU, as the serving stack reaches at its batch size. */
  outputTokensPerSecPerGpu: number;
  /** Prompt (prefill) tokens per second per GPU; without it prefill time is left out and the plan says so. */
  promptTokensPerSecPerGpu?: number;
}

export interface CostPlan {
  step: "annotate" | "refine";
  documents: number;
  sampled: number;
  requests: number;
  skipped: { documents: number; documentShare: number; tokenShare: number };
  promptTokens: number;
  outputTokens: number;
  gpuHours: { decode: number; prefill: number | null; total: number };
  notes: string[];
}

export function planLlmCost(i: CostPlanInput): CostPlan {
  if (!i.sample.length) throw new Error("cost plan: the sample holds no documents");
  if (!(i.outputTokensPerSecPerGpu > 0)) throw new Error("cost plan: tokens per second per GPU must be positive");
  const sent = i.sample.filter((s) => !s.skipped);
  const skippedDocs = i.sample.length - sent.length;
  const allTokens = i.sample.reduce((a, s) => a + s.documentTokens, 0);
  const skippedTokens = i.sample.filter((s) => s.skipped).reduce((a, s) => a + s.documentTokens, 0);
  const sentShare = sent.length / i.sample.length;
  const requests = Math.round(i.documents * sentShare);
  const mean = (f: (s: SampledRequest) => number) => (sent.length ? sent.reduce((a, s) => a + f(s), 0) / sent.length : 0);
  const promptTokens = Math.round(requests * (mean((s) => s.promptTokens) + i.overheadTokens));
  const notes: string[] = [];
  let outPerRequest: number;
  if (i.step === "annotate") {
    outPerRequest = i.outputTokensPerRequest ?? 0;
    notes.push(`answers assumed ${outPerRequest} tokens each`);
  } else {
    const ratio = i.outputRatio ?? 1;
    outPerRequest = mean((s) => s.documentTokens) * ratio;
    notes.push(`answers assumed ${ratio} x the document's tokens (the prompt asks to keep the original length)`);
  }
  const outputTokens = Math.round(requests * outPerRequest);
  const decode = outputTokens / i.outputTokensPerSecPerGpu / 3600;
  const prefill = i.promptTokensPerSecPerGpu ? promptTokens / i.promptTokensPerSecPerGpu / 3600 : null;
  if (prefill === null) notes.push("prefill time not counted (give the prompt tokens/s per GPU to include it)");
  notes.push(`scaled from ${i.sample.length} sampled documents to ${i.documents}`);
  return {
    step: i.step, documents: i.documents, sampled: i.sample.length, requests,
    skipped: {
      documents: i.documents - requests, documentShare: skippedDocs / i.sample.length,
      tokenShare: allTokens ? skippedTokens / allTokens : 0,
    },
    promptTokens, outputTokens, gpuHours: { decode, prefill, total: decode + (prefill ?? 0) }, notes,
  };
}
