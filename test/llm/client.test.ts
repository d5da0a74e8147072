import { test } from "node:test";
import assert from "node:assert/strict";
import { LlmClient, LlmRequestError, parseRetryAfter } from "../../lib/llm/client.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { startServer, type Action } from "./server.js";

function client(url: string, extra: Partial<ConstructorParameters<typeof LlmClient>[0]> = {}) {
  const sleeps: number[] = [];
  const c = new LlmClient({
    // A timeout far above any answer's time on a loaded machine: at 300 ms a starved CI run timed out a plain
    // answer and retried it, breaking exact attempt counts. Tests of timeouts hold the request instead.
    baseUrl: url, model: "m", maxRetries: 2, timeoutMs: 10_000, backoffBaseMs: 100, random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms), ...extra,
  });
  return { c, sleeps };
}

/** Run `fn` against a scripted server and a client, closing both even when an assertion fails (no open handles). */
async function withServer(script: Parameters<typeof startServer>[0], extra: Partial<ConstructorParameters<typeof LlmClient>[0]>,
  fn: (c: LlmClient, sleeps: number[], srv: Awaited<ReturnType<typeof startServer>>) => Promise<void>): Promise<void> {
  const srv = await startServer(script);
  const { c, sleeps } = client(srv.url, extra);
  try {
    await fn(c, sleeps, srv);
  } finally {
    c.close();
    await srv.close();
  }
}

test("429 honours Retry-After (seconds), then succeeds; counters recorded", async () => {
  const srv = await startServer((r) => (r.attempt === 1
    ? { status: 429, headers: { "retry-after": "7" } } : { answer: "ok" }));
  const { c, sleeps } = client(srv.url);
  const s = new StageStats("t");
  const a = await c.complete("hello", s);
  assert.equal(a.text, "ok");
  assert.deepEqual(sleeps, [7000]);
  assert.equal(s.counters.llm_requests, 2);
  assert.equal(s.counters.llm_retries, 1);
  assert.equal(s.counters.llm_error_http_429, 1);
  assert.equal(s.counters.llm_prompt_tokens, 100);
  c.close();
  await srv.close();
});

test("exponential backoff with jitter on 5xx, gives up after maxRetries", async () => {
  const srv = await startServer(() => ({ status: 503 }));
  const { c, sleeps } = client(srv.url, { random: () => 1 });
  await assert.rejects(c.complete("x"), (e: unknown) => e instanceof LlmRequestError && e.kind === "http_5xx" && e.attempts === 3);
  assert.equal(srv.requests.length, 3);
  assert.deepEqual(sleeps, [100, 200]); // d = 100 * 2^i, jitter in [d/2, d], random()=1 gives d
  c.close();
  await srv.close();
});

test("4xx other than 429 is not retried", async () => {
  const srv = await startServer(() => ({ status: 400, body: '{"error":"context too long"}' }));
  const { c } = client(srv.url);
  await assert.rejects(c.complete("x"), (e: unknown) => e instanceof LlmRequestError && e.kind === "http_4xx" && e.status === 400);
  assert.equal(srv.requests.length, 1);
  c.close();
  await srv.close();
});

test("408, 409, 425, 429, 500, 502, 503 and 504 are retried, honouring Retry-After; then the answer is used", async () => {
  for (const status of [408, 409, 425, 429, 500, 502, 503, 504]) {
    const script = (r: { attempt: number }): Action => (r.attempt === 1
      ? { status, headers: { "retry-after": "3" }, body: `{"error":"busy ${status}"}` } : { answer: `ok ${status}` });
    await withServer(script, {}, async (c, sleeps, srv) => {
      const s = new StageStats("t");
      assert.equal((await c.complete("p", s)).text, `ok ${status}`, `HTTP ${status}`);
      assert.equal(srv.requests.length, 2, `HTTP ${status}`);
      assert.deepEqual(sleeps, [3000], `HTTP ${status}`);
      assert.equal(s.counters.llm_retries, 1);
      assert.equal(s.counters[status >= 500 ? "llm_error_http_5xx" : `llm_error_http_${status}`], 1, `HTTP ${status}`);
    });
  }
});

test("without Retry-After a transient status backs off exponentially and gives up naming the status", async () => {
  await withServer(() => ({ status: 408 }), { random: () => 1 }, async (c, sleeps) => {
    await assert.rejects(c.complete("x"), (e: unknown) => e instanceof LlmRequestError && e.kind === "http_408" &&
      e.status === 408 && e.attempts === 3 && /HTTP 408 .*gave up after 3 attempts/.test(e.message));
    assert.deepEqual(sleeps, [100, 200]);
  });
});

test("400, 401, 403, 404, 422, 501 and 505 are not retried; auth and not-found errors say what to check", async () => {
  for (const status of [400, 401, 403, 404, 422, 501, 505]) {
    await withServer(() => ({ status, headers: { "retry-after": "1" } }), { apiKey: "sk-not-in-messages" }, async (c, sleeps, srv) => {
      await assert.rejects(c.complete("x"), (e: unknown) => {
        assert.ok(e instanceof LlmRequestError, String(e));
        assert.equal(e.status, status);
        assert.equal(e.attempts, 1);
        assert.match(e.message, /not retried/);
        assert.doesNotMatch(e.message, /sk-not-in-messages/);
        if (status === 401 || status === 403) assert.match(e.message, /--api-key-env/);
        if (status === 404) assert.match(e.message, /--base-url ends in \/v1/);
        return true;
      });
      assert.equal(srv.requests.length, 1, `HTTP ${status}`);
      assert.deepEqual(sleeps, []);
    });
  }
});

test("connection resets are retried with exponential backoff", async () => {
  await withServer((r) => (r.attempt <= 2 ? { reset: true } : { answer: "third time" }), { random: () => 0 }, async (c, sleeps) => {
    const s = new StageStats("t");
    assert.equal((await c.complete("r", s)).text, "third time");
    assert.deepEqual(sleeps, [50, 100]); // d = 100 * 2^i, random()=0 gives d/2
    assert.equal(s.counters.llm_error_connection, 2);
  });
});

test("timeouts, resets and truncated JSON are retried", async () => {
  const plan: Record<string, Action[]> = {
    slow: [{ hold: true }, { answer: "fast" }],
    reset: [{ reset: true }, { answer: "after reset" }],
    trunc: [{ truncated: true }, { answer: "whole" }],
  };
  const srv = await startServer((r) => plan[r.prompt][r.attempt - 1]);
  const { c } = client(srv.url, { timeoutMs: 3000 });
  const s = new StageStats("t");
  assert.equal((await c.complete("slow", s)).text, "fast");
  assert.equal((await c.complete("reset", s)).text, "after reset");
  assert.equal((await c.complete("trunc", s)).text, "whole");
  assert.equal(s.counters.llm_error_timeout, 1);
  assert.equal(s.counters.llm_error_connection, 1);
  assert.equal(s.counters.llm_error_bad_json, 1);
  assert.equal(s.counters.llm_retries, 3);
  c.close();
  await srv.close();
});

test("completions endpoint, parameters and bearer key are sent", async () => {
  const srv = await startServer(() => ({ answer: " base model text", finish: "length" }));
  const { c } = client(srv.url, { endpoint: "completions", apiKey: "sk-abc", params: { temperature: 0, max_tokens: 9 } });
  const a = await c.complete("P");
  assert.equal(a.text, " base model text");
  assert.equal(a.finishReason, "length");
  assert.equal(srv.requests[0].authorization, "Bearer sk-abc");
  assert.equal(srv.requests[0].body.prompt, "P");
  assert.equal(srv.requests[0].body.max_tokens, 9);
  c.close();
  await srv.close();
});

test("never more than maxInFlight requests at the server", async () => {
  let open = 0;
  let peak = 0;
  const srv = await startServer(() => {
    open++;
    peak = Math.max(peak, open);
    setTimeout(() => open--, 20);
    return { answer: "x", delayMs: 20 };
  });
  const { c } = client(srv.url, { maxInFlight: 5 });
  await Promise.all(Array.from({ length: 40 }, (_, i) => c.complete(`p${i}`)));
  assert.ok(peak <= 5, `peak ${peak}`);
  assert.ok(peak >= 2);
  c.close();
  await srv.close();
});

test("Retry-After as an HTTP date", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now), 5000);
  assert.equal(parseRetryAfter("2", now), 2000);
  assert.equal(parseRetryAfter("soon", now), undefined);
});
