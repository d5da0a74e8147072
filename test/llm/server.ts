// A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and the benchmark, answering per a script.
// The script sees each request (the document pulled out of the prompt, how many times this exact prompt was seen)
// and picks an action: a normal answer, an HTTP error, a delay past the client's timeout, a reset connection, a
// truncated JSON body, or holding the request forever (for kill-and-resume tests).
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Action =
  | { answer: string; finish?: string; delayMs?: number }
  | { status: number; body?: string; headers?: Record<string, string> }
  | { reset: true }
  | { truncated: true }
  | { hold: true };

export interface SeenRequest {
  doc: string;
  prompt: string;
  attempt: number;
  authorization?: string;
  body: Record<string, unknown>;
}

export type Script = (req: SeenRequest) => Action;

export interface ScriptedServer {
  url: string;
  requests: SeenRequest[];
  /** Answers sent with status 200 and a complete body, per document. */
  answered: Map<string, number>;
  close(): Promise<void>;
}

/** The document text between the <document> fence lines (or the whole prompt if unfenced). */
export function docOf(prompt: string): string {
  const m = /\n<document>\n([\s\S]*)\n<\/document>\n/.exec(prompt);
  return m ? m[1] : prompt;
}

export async function startServer(script: Script, opts: { record?: boolean } = {}): Promise<ScriptedServer> {
  const requests: SeenRequest[] = [];
  const answered = new Map<string, number>();
  const attempts = new Map<string, number>();
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      const messages = body.messages as { content: string }[] | undefined;
      const prompt = messages ? messages[messages.length - 1].content : String(body.prompt ?? "");
      const doc = docOf(prompt);
      const attempt = (attempts.get(prompt) ?? 0) + 1;
      attempts.set(prompt, attempt);
      const seen: SeenRequest = { doc, prompt, attempt, authorization: req.headers.authorization, body };
      if (opts.record !== false) requests.push(seen);
      const act = script(seen);
      if ("hold" in act) return; // never answered; the socket is destroyed on close()
      if ("reset" in act) return req.socket.destroy();
      if ("truncated" in act) {
        const full = completionJson(body, "Final score: 3", "stop");
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(full.slice(0, Math.floor(full.length / 2)));
      }
      if ("status" in act) {
        res.writeHead(act.status, { "content-type": "application/json", ...(act.headers ?? {}) });
        return res.end(act.body ?? JSON.stringify({ error: { message: `scripted ${act.status}` } }));
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(completionJson(body, act.answer, act.finish ?? "stop"));
        answered.set(doc, (answered.get(doc) ?? 0) + 1);
      };
      if (act.delayMs) setTimeout(send, act.delayMs);
      else send();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    answered,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

function completionJson(req: Record<string, unknown>, text: string, finish: string): string {
  const chat = Array.isArray(req.messages);
  const choice = chat
    ? { index: 0, message: { role: "assistant", content: text }, finish_reason: finish }
    : { index: 0, text, finish_reason: finish };
  return JSON.stringify({
    id: "cmpl-test", object: chat ? "chat.completion" : "text_completion", model: req.model,
    choices: [choice], usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
  });
}
