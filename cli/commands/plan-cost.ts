// megamath plan-cost: what annotate or refine would cost on a corpus, before it runs.
import { defineCommand, UsageError } from "../command.js";
import { expandInputs } from "../../lib/io/index.js";
import { describeFile } from "../../lib/io/inspect.js";
import { loadTokenizer } from "../../lib/tokenizer/load.js";
import { loadPrompt, type DocumentFence } from "../../lib/llm/prompts.js";
import { sampleRequests } from "../../lib/llm/cost-sample.js";
import { DEFAULT_ANNOTATE_MAX_CHARS } from "../../lib/llm/annotate-stage.js";
import { DEFAULT_REFINE_LIMITS } from "../../lib/llm/refine-stage.js";
import { planLlmCost, type SampledRequest } from "../../lib/llm/cost-plan.js";

export default defineCommand({
  name: "plan-cost",
  usage: "plan-cost -i GLOB --step annotate|refine --tokens-per-sec N [--prompt-tokens-per-sec N] [--sample 2000]",
  details: [
    "Counts the corpus's documents, renders the step's prompt around a sample of them (an even share from each file,",
    "read from the start), counts tokens with the model's tokenizer and scales to the whole corpus: requests, prompt",
    "and answer tokens, GPU-hours at --tokens-per-sec generated tokens per second per GPU (plus prefill at",
    "--prompt-tokens-per-sec when given). For refine it also reports what the input-length guard drops unsent.",
  ].join("\n"),
  options: {
    input: { type: "list", short: "i", placeholder: "GLOB", description: "Documents (Parquet/JSONL/Arrow)." },
    step: { type: "string", choices: ["annotate", "refine"], default: "refine", description: "The LLM step to cost." },
    "tokens-per-sec": { type: "number", placeholder: "N", description: "Generated tokens per second per GPU of your serving setup (required)." },
    "prompt-tokens-per-sec": { type: "number", placeholder: "N", description: "Prompt (prefill) tokens per second per GPU; default: prefill not counted." },
    sample: { type: "integer", default: 2000, description: "Documents sampled to measure token counts." },
    prompt: { type: "string", placeholder: "NAME|FILE", description: "Prompt (default: finemath for annotate, promax-refine for refine)." },
    fence: { type: "string", choices: ["tags", "none"], default: "tags", description: "As the step's --fence." },
    "max-chars": { type: "integer", default: DEFAULT_ANNOTATE_MAX_CHARS, description: "annotate: documents cut to this many characters." },
    "max-input-chars": { type: "integer", default: DEFAULT_REFINE_LIMITS.maxInputChars, description: "refine: longer documents are not sent." },
    "output-tokens": { type: "integer", default: 512, description: "annotate: answer tokens per request (default: annotate's --max-tokens, an upper bound)." },
    "output-ratio": { type: "number", default: 1, description: "refine: answer tokens per document token." },
    "overhead-tokens": { type: "integer", default: 40, description: "Chat template tokens per request (Llama-3.1's headers and default system text)." },
    tokenizer: { type: "string", default: "llama3", description: "The model's tokenizer." },
    "text-key": { type: "string", default: "text", description: "Input column holding the document text." },
    json: { type: "boolean", description: "Print the plan as JSON." },
  },
  async run({ opts, ctx }) {
    if (!opts.input?.length) throw new UsageError("--input is required");
    const tps = opts["tokens-per-sec"];
    if (!(typeof tps === "number" && tps > 0)) throw new UsageError("--tokens-per-sec is required: generated tokens per second per GPU (measure it on your server)");
    if (!(opts.sample > 0)) throw new UsageError("--sample must be positive");
    const files = await expandInputs(opts.input);
    let documents = 0;
    for (const f of files) documents += (await describeFile(f, { rows: 0 })).rows;
    const step = opts.step as "annotate" | "refine";
    const prompt = loadPrompt(opts.prompt ?? (step === "annotate" ? "finemath" : "promax-refine"));
    const tok = loadTokenizer(opts.tokenizer);
    let sample: SampledRequest[];
    try {
      sample = await sampleRequests(files, { step, prompt, tokenizer: tok, sample: opts.sample, fence: opts.fence as DocumentFence,
        maxChars: opts["max-chars"], maxInputChars: opts["max-input-chars"], textKey: opts["text-key"] });
    } finally {
      tok.free();
    }
    const plan = planLlmCost({
      step, documents, sample, overheadTokens: opts["overhead-tokens"], outputTokensPerRequest: opts["output-tokens"],
      outputRatio: opts["output-ratio"], outputTokensPerSecPerGpu: tps, promptTokensPerSecPerGpu: opts["prompt-tokens-per-sec"],
    });
    if (opts.json) {
      ctx.stdout.write(JSON.stringify(plan, null, 1) + "\n");
      return 0;
    }
    const n = (x: number) => Math.round(x).toLocaleString("en-US");
    const lines = [
      `plan-cost ${step} (prompt ${prompt.name}) on ${n(documents)} documents in ${files.length} file(s):`,
      `  requests        ${n(plan.requests)}`,
      `  prompt tokens   ${n(plan.promptTokens)} (${n(plan.promptTokens / Math.max(1, plan.requests))} per request)`,
      `  answer tokens   ${n(plan.outputTokens)} (${n(plan.outputTokens / Math.max(1, plan.requests))} per request)`,
      `  GPU-hours       ${plan.gpuHours.total.toFixed(2)} (decode ${plan.gpuHours.decode.toFixed(2)} at ${tps} tokens/s/GPU` +
        (plan.gpuHours.prefill === null ? ")" : `, prefill ${plan.gpuHours.prefill.toFixed(2)} at ${opts["prompt-tokens-per-sec"]} tokens/s/GPU)`),
      ...(step === "refine" ? [`  not sent (over ${n(opts["max-input-chars"])} characters): ${n(plan.skipped.documents)} documents, ` +
        `${(plan.skipped.documentShare * 100).toFixed(2)}% of documents, ${(plan.skipped.tokenShare * 100).toFixed(2)}% of tokens`] : []),
      ...plan.notes.map((x) => `  note: ${x}`),
    ];
    ctx.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
});
