// A small client for OpenAI-compatible servers (vLLM, SGLang, TGI, hosted APIs): /v1/chat/completions or
// /v1/completions, many requests in flight, a per-request deadline, and retries with exponential backoff + jitter on
// the failures that are worth retrying (connection errors and resets, timeouts, unreadable answers, the transient
// 4xx 408/409/425/429 and 5xx, honouring Retry-After). Any other 4xx is the caller's mistake, and 501/505 say the
// server cannot do this at all: those are not retried. The API key is only ever put in the Authorization
// header: it is not part of any error message, counter, cache key or file.
import http from "node:http";
import https from "node:https";

export type Endpoint = "chat" | "completions";

export interface LlmClientOptions {
  /** Server base URL including the /v1 prefix, e.g. http://127.0.0.1:8000/v1. */
  baseUrl: string;
  model: string;
  /** The key itself (read it from an environment variable; see apiKeyFromEnv). */
  apiKey?: string;
  endpoint?: Endpoint;
  /** Sampling parameters sent with every request (temperature, max_tokens, top_p, seed, ...). */
  params?: Record<string, unknown>;
  /** Requests in flight at once (default 256). */
  maxInFlight?: number;
  /** Deadline of one HTTP attempt, from sending to the last byte of the answer (default 600 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 6). */
  maxRetries?: number;
  /** Backoff before retry i (0-based) is in [d/2, d] with d = min(backoffMaxMs, backoffBaseMs * 2^i). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest Retry-After honoured; longer values are cut to this (default 300 s). */
  maxRetryAfterMs?: number;
  /** Injected for tests: the random source of the jitter and the sleep between attempts. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface LlmAnswer {
  text: string;
  finishReason: string | null;
  promptTokens: number;
  completionTokens: number;
}

/** Where a request's counters go (a StageStats has this shape). */
export interface CounterSink {
  count(name: string, n?: number): void;
}

export type FailureKind = "connection" | "timeout" | "http_408" | "http_409" | "http_425" | "http_429" | "http_5xx" |
  "http_4xx" | "bad_json" | "bad_response";

/** 4xx that say "not now" rather than "never": Request Timeout, Conflict, Too Early, Too Many Requests. */
const TRANSIENT_4XX = new Set([408, 409, 425, 429]);
/** 5xx that give the same answer however often asked: Not Implemented, HTTP Version Not Supported. */
const PERMANENT_5XX = new Set([501, 505]);

/** Whether an HTTP status is worth another attempt (after a backoff, or the server's Retry-After). */
export function isRetryableStatus(status: number): boolean {
  return TRANSIENT_4XX.has(status) || (status >= 500 && !PERMANENT_5XX.has(status));
}

/** A request that got no usable answer: a non-retryable 4xx, or all retries used up. */
export class LlmRequestError extends Error {
  constructor(message: string, readonly kind: FailureKind, readonly attempts: number, readonly status?: number) {
    super(message);
    this.name = "LlmRequestError";
  }
}

/** One failed attempt, with whether it is worth retrying and how long the server asked us to wait. */
class AttemptError extends Error {
  constructor(message: string, readonly kind: FailureKind, readonly status?: number, readonly retryAfterMs?: number) {
    super(message);
  }
  get retryable(): boolean {
    return this.status === undefined || isRetryableStatus(this.status);
  }
}

/** Read an API key from the named environment variable ("" when unset: local servers need none). */
export function apiKeyFromEnv(name: string): string | undefined {
  const v = process.env[name];
  return v ? v : undefined;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class LlmClient {
  readonly model: string;
  readonly endpoint: Endpoint;
  readonly params: Readonly<Record<string, unknown>>;
  readonly maxInFlight: number;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly headers: Record<string, string>;
  private readonly o: Required<Pick<LlmClientOptions, "timeoutMs" | "maxRetries" | "backoffBaseMs" | "backoffMaxMs" |
    "maxRetryAfterMs" | "random" | "sleep">>;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: LlmClientOptions) {
    this.model = opts.model;
    this.endpoint = opts.endpoint ?? "chat";
    this.params = { ...(opts.params ?? {}) };
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 256);
    const base = opts.baseUrl.replace(/\/+$/, "");
    this.url = new URL(base + (this.endpoint === "chat" ? "/chat/completions" : "/completions"));
    if (this.url.protocol !== "http:" && this.url.protocol !== "https:") {
      throw new Error(`LLM base URL must be http(s), got ${this.url.protocol}`);
    }
    this.transport = this.url.protocol === "https:" ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: this.maxInFlight, maxFreeSockets: this.maxInFlight });
    this.headers = { "content-type": "application/json", accept: "application/json" };
    if (opts.apiKey) this.headers.authorization = `Bearer ${opts.apiKey}`;
    this.o = {
      timeoutMs: opts.timeoutMs ?? 600_000,
      maxRetries: opts.maxRetries ?? 6,
      backoffBaseMs: opts.backoffBaseMs ?? 1000,
      backoffMaxMs: opts.backoffMaxMs ?? 60_000,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 300_000,
      random: opts.random ?? Math.random,
      sleep: opts.sleep ?? realSleep,
    };
  }

  /** The endpoint URL without credentials (safe to log). */
  get endpointUrl(): string {
    return `${this.url.origin}${this.url.pathname}`;
  }

  /** The JSON body sent for a prompt. Also what the request cache key is computed from. */
  requestBody(prompt: string): Record<string, unknown> {
    const body: Record<string, unknown> = { model: this.model };
    if (this.endpoint === "chat") body.messages = [{ role: "user", content: prompt }];
    else body.prompt = prompt;
    for (const [k, v] of Object.entries(this.params)) body[k] = v;
    body.stream = false;
    return body;
  }

  /** Send one prompt; resolves with the first choice, or rejects with LlmRequestError after the retry policy. */
  async complete(prompt: string, sink?: CounterSink): Promise<LlmAnswer> {
    const payload = JSON.stringify(this.requestBody(prompt));
    await this.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        sink?.count("llm_requests");
        const t0 = performance.now();
        try {
          const answer = await this.attempt(payload);
          sink?.count("llm_latency_ms", Math.round(performance.now() - t0));
          sink?.count("llm_prompt_tokens", answer.promptTokens);
          sink?.count("llm_completion_tokens", answer.completionTokens);
          return answer;
        } catch (e) {
          const err = e as AttemptError;
          sink?.count(`llm_error_${err.kind}`);
          if (!err.retryable) {
            throw new LlmRequestError(`${err.message} (not retried)`, err.kind, attempt + 1, err.status);
          }
          if (attempt >= this.o.maxRetries) {
            throw new LlmRequestError(`${err.message} (gave up after ${attempt + 1} attempts)`, err.kind, attempt + 1,
              err.status);
          }
          sink?.count("llm_retries");
          await this.o.sleep(this.delayFor(attempt, err.retryAfterMs));
        }
      }
    } finally {
      this.release();
    }
  }

  /** Backoff before retry `attempt`: Retry-After when the server sent one, else exponential with equal jitter. */
  delayFor(attempt: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.o.maxRetryAfterMs);
    const d = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** attempt);
    return Math.round(d / 2 + this.o.random() * (d / 2));
  }

  close(): void {
    this.agent.destroy();
  }

  private acquire(): Promise<void> {
    if (this.active < this.maxInFlight) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.active--;
  }

  private attempt(payload: string): Promise<LlmAnswer> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: AttemptError | null, answer?: LlmAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(answer!);
      };
      const req = this.transport.request(this.url, {
        method: "POST", agent: this.agent,
        headers: { ...this.headers, "content-length": Buffer.byteLength(payload) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => finish(new AttemptError(`connection error while reading the answer: ${codeOf(e)}`, "connection")));
        res.on("aborted", () => finish(new AttemptError("connection closed while reading the answer", "connection")));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString("utf8");
          if (status < 200 || status >= 300) {
            const kind: FailureKind = TRANSIENT_4XX.has(status) ? `http_${status}` as FailureKind : status >= 500 ? "http_5xx" : "http_4xx";
            finish(new AttemptError(`HTTP ${status} from ${this.endpointUrl}: ${snippet(body)}${hintFor(status)}`, kind, status,
              parseRetryAfter(res.headers["retry-after"])));
          } else {
            try {
              finish(null, this.parseAnswer(body));
            } catch (e) {
              finish(e as AttemptError);
            }
          }
        });
      });
      const timer = setTimeout(() => {
        finish(new AttemptError(`no complete answer within ${this.o.timeoutMs} ms`, "timeout"));
        req.destroy();
      }, this.o.timeoutMs);
      req.on("error", (e) => finish(new AttemptError(`connection error: ${codeOf(e)}`, "connection")));
      req.end(payload);
    });
  }

  private parseAnswer(body: string): LlmAnswer {
    let j: unknown;
    try {
      j = JSON.parse(body);
    } catch {
      throw new AttemptError(`answer is not valid JSON (${body.length} bytes): ${snippet(body)}`, "bad_json");
    }
    const choice = (j as { choices?: unknown[] })?.choices?.[0] as
      { message?: { content?: unknown }; text?: unknown; finish_reason?: unknown } | undefined;
    const text = this.endpoint === "chat" ? choice?.message?.content : choice?.text;
    if (!choice || (typeof text !== "string" && text !== null)) {
      throw new AttemptError(`answer has no choices[0].${this.endpoint === "chat" ? "message.content" : "text"}: ${snippet(body)}`,
        "bad_response");
    }
    const usage = (j as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
    return {
      text: text ?? "",
      finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
      promptTokens: typeof usage?.prompt_tokens === "number" ? usage.prompt_tokens : 0,
      completionTokens: typeof usage?.completion_tokens === "number" ? usage.completion_tokens : 0,
    };
  }
}

/** Retry-After as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | undefined {
  if (Array.isArray(v)) v = v[0];
  if (v === undefined || v.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** What to check for the statuses that usually mean a setup mistake rather than a bad document. */
function hintFor(status: number): string {
  if (status === 401 || status === 403) return " (check the API key: --api-key-env names the environment variable holding it)";
  if (status === 404) return " (check that --base-url ends in /v1, that the server serves --model, and --endpoint chat|completions)";
  return "";
}

function codeOf(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? err.message ?? String(e);
}

function snippet(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 200 ? one.slice(0, 200) + "…" : one || "(empty body)";
}
