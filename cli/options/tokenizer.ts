// Flags shared by `megamath tokenize` and `megamath mix` for choosing a tokenizer, a template and framing.
import type { OptionSpecs, ValuesOf } from "../command.js";
import { UsageError } from "../command.js";
import { TEMPLATE_NAMES, parseTemplateName, type TemplateSpec, type TemplateColumns } from "../../lib/tokenizer/templates.js";

export const tokenizerOptions = {
  tokenizer: { type: "string", default: "llama3", placeholder: "NAME|FILE", description: "llama3, a tiktoken encoding (cl100k_base, o200k_base, gpt2, ...), or a tokenizer.json / .tiktoken / tokenizer.model file." },
  bos: { type: "string", placeholder: "ID|none", description: "BOS id prepended to every document (default: the tokenizer's; Llama-3 128000)." },
  eos: { type: "string", placeholder: "ID|none", description: "EOS id appended to every document (default: the tokenizer's; Llama-3 128001)." },
  dtype: { type: "string", choices: ["int32", "uint16"], default: "int32", description: "Token dtype of the .bin (Megatron code 4 or 8)." },
  "no-ds-sidecars": { type: "boolean", description: "Do not write the datatrove .ds/.ds.index/.ds.metadata files." },
} as const satisfies OptionSpecs;

export const templateOptions = {
  template: { type: "string", choices: TEMPLATE_NAMES, default: "web", description: "How a record becomes text: web (text), qa (Question:/Answer:), cot (question + <think>reasoning</think>), chat (User:/Assistant:)." },
  "text-key": { type: "string", default: "text", description: "Text column (web template)." },
  "question-key": { type: "string", default: "question", description: "Question column (qa, cot)." },
  "answer-key": { type: "string", default: "answer", description: "Answer column (qa; optional for cot)." },
  "reasoning-key": { type: "string", default: "reasoning", description: "Reasoning column (cot)." },
  "messages-key": { type: "string", default: "messages", description: "Conversation column (chat): list of {role, content} or its JSON text." },
  "prompt-key": { type: "string", description: "Prompt column (chat from prompt/response columns instead of messages)." },
  "response-key": { type: "string", default: "response", description: "Response column (chat with --prompt-key)." },
} as const satisfies OptionSpecs;

export function parseSpecialId(v: unknown, flag: string): number | null | undefined {
  if (v === undefined) return undefined;
  const s = String(v).trim().toLowerCase();
  if (s === "none" || s === "") return null;
  if (!/^\d+$/.test(s)) throw new UsageError(`--${flag} must be a token id or "none", got "${v}"`);
  return Number(s);
}

export function templateFrom(opts: ValuesOf<typeof templateOptions>): TemplateSpec {
  const name = parseTemplateName(opts.template);
  const columns: TemplateColumns = {
    text: opts["text-key"], question: opts["question-key"], answer: opts["answer-key"],
    reasoning: opts["reasoning-key"], messages: opts["messages-key"], response: opts["response-key"],
  };
  if (opts["prompt-key"]) columns.prompt = opts["prompt-key"];
  return { name, columns };
}
