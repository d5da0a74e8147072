// The flags every LLM command shares (server, model, key, concurrency, retries, sampling), declared once, and the
// client they describe. The key is read from the environment variable named by --api-key-env, never from a flag or
// a config file, so it cannot end up in shell history, a config file or a log line.
import type { OptionSpecs, ValuesOf } from "../command.js";
import { UsageError } from "../command.js";
import { LlmClient, apiKeyFromEnv } from "../../lib/llm/client.js";

/** The LLM flags. The transport ones (where the server is, how patient to be, where answers are journaled) are not
 * part of the outputs' identity: answers are journaled by request body, which none of them is part of, so a rerun
 * with a longer --timeout-s or another --max-in-flight resumes instead of redoing finished files. */
export function llmOptions(defaults: { maxTokens: number; temperature: number }) {
  return {
    "base-url": { type: "string", placeholder: "URL", default: process.env.MEGAMATH_LLM_BASE_URL ?? "http://127.0.0.1:8000/v1",
      description: "OpenAI-compatible server, including /v1 (vLLM: http://HOST:8000/v1). Env MEGAMATH_LLM_BASE_URL sets the default.", identity: false },
    model: { type: "string", placeholder: "NAME", description: "Model name as the server knows it (e.g. meta-llama/Llama-3.1-70B-Instruct)." },
    "api-key-env": { type: "string", placeholder: "VAR", default: "OPENAI_API_KEY",
      description: "Environment variable holding the API key (sent as a Bearer token; never logged or written). Unset: no key.", identity: false },
    endpoint: { type: "string", choices: ["chat", "completions"], default: "chat",
      description: "chat: /v1/chat/completions (instruct models); completions: /v1/completions (raw prompt)." },
    "max-in-flight": { type: "integer", default: 256, description: "Requests in flight at once.", identity: false },
    "timeout-s": { type: "number", default: envNumber("MEGAMATH_LLM_TIMEOUT_S") ?? 600, identity: false,
      description: "Deadline of one request attempt, in seconds. Env MEGAMATH_LLM_TIMEOUT_S sets the default (reaches the steps of `megamath build` too)." },
    "max-retries": { type: "integer", default: 6,
      description: "Retries on connection errors, timeouts, HTTP 408/409/425/429 and 5xx except 501/505 (honouring Retry-After); other 4xx are not retried.", identity: false },
    "max-tokens": { type: "integer", default: defaults.maxTokens, description: "max_tokens of each answer." },
    temperature: { type: "number", default: defaults.temperature, description: "Sampling temperature." },
    "top-p": { type: "number", description: "Nucleus sampling top_p (server default when unset)." },
    param: { type: "list", placeholder: "KEY=JSON",
      description: "Extra request field, e.g. seed=1 or stop=[\"\\n\\n\",\"###\"] (repeatable; part of the cache key; not model, messages, prompt or stream)." },
    prompt: { type: "string", placeholder: "NAME|FILE",
      description: "Built-in prompt name or a prompt text file containing <EXAMPLE> once." },
    fence: { type: "string", choices: ["tags", "none"], default: "tags",
      description: "Put the document between <document> tags inside the prompt (tags), or in place of <EXAMPLE> bare (none, the paper's exact text)." },
    "journal-dir": { type: "string", placeholder: "DIR",
      description: "Where answered requests are journaled for resume (default OUTPUT/.llm-journal/COMMAND).", identity: false },
  } as const satisfies OptionSpecs;
}

export type LlmValues = ValuesOf<ReturnType<typeof llmOptions>>;

/** A number from the environment, or undefined when unset (not a number: NaN, refused when the client is made). */
function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === "" ? undefined : Number(raw);
}

/** Request fields the client sets itself: a --param for one of them would be overwritten or would break the request. */
const RESERVED_PARAMS: Record<string, string> = {
  model: "use --model", messages: "the prompt is built from --prompt", prompt: "the prompt is built from --prompt",
  stream: "answers are read whole (stream=false)",
};

export function clientFromOptions(opts: LlmValues): LlmClient {
  if (!opts.model) throw new UsageError("--model is required (the model name the server serves)");
  const baseUrl = String(opts["base-url"]);
  let url: URL | null = null;
  try {
    url = new URL(baseUrl);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(`--base-url must be an http(s) URL including /v1 (e.g. http://127.0.0.1:8000/v1), got "${baseUrl}"`);
  }
  if (!(opts["timeout-s"] > 0)) throw new UsageError("--timeout-s must be > 0 (its default is env MEGAMATH_LLM_TIMEOUT_S when set)");
  if (opts["max-retries"] < 0) throw new UsageError("--max-retries must be >= 0");
  if (opts["max-tokens"] < 1) throw new UsageError("--max-tokens must be >= 1");
  const params: Record<string, unknown> = { max_tokens: opts["max-tokens"], temperature: opts.temperature };
  if (opts["top-p"] !== undefined) params.top_p = opts["top-p"];
  for (const kv of opts.param ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param must look like KEY=JSON, got "${kv}"`);
    const key = kv.slice(0, eq);
    if (Object.hasOwn(RESERVED_PARAMS, key)) throw new UsageError(`--param ${key}: not settable here (${RESERVED_PARAMS[key]})`);
    const raw = kv.slice(eq + 1);
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      v = raw; // a bare word is a string
    }
    params[key] = v;
  }
  const inFlight = opts["max-in-flight"];
  if (inFlight < 1) throw new UsageError("--max-in-flight must be >= 1");
  return new LlmClient({
    baseUrl,
    model: String(opts.model),
    apiKey: apiKeyFromEnv(String(opts["api-key-env"])),
    endpoint: opts.endpoint,
    params,
    maxInFlight: inFlight,
    timeoutMs: Math.round(opts["timeout-s"] * 1000),
    maxRetries: opts["max-retries"],
  });
}
