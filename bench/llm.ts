// LLM client overhead against a loopback OpenAI-compatible server that answers instantly (a separate process, pinned
// to another core when taskset exists), so what is measured is the client: requests/s on one core, the whole
// annotate stage (prompt rendering, cache key, journal append + fsync, parsing) in docs/s and MB/s, and memory with
// 10,000 requests in flight (the server holds every answer until all 10,000 have arrived).
//   taskset -c 0 node --import tsx bench/llm.ts [--requests 20000] [--runs 5] [--inflight 10000]
import http from "node:http";
import { spawn, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import type { AddressInfo } from "node:net";
import { LlmClient } from "../lib/llm/client.js";
import { annotateStage } from "../lib/llm/annotate-stage.js";
import { makeBatch, type Batch } from "../lib/arrow/batch.js";
import { StageStats } from "../lib/runtime/stats.js";
import { memoryLogger } from "../lib/runtime/log.js";

const args = process.argv.slice(2);
const arg = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};

const ANSWER = JSON.stringify({
  id: "x", object: "chat.completion", model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "The extract shows worked examples.\nFinal score: 3" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 500, completion_tokens: 12, total_tokens: 512 },
});

/** Server mode: answer every request at once, or hold them until `hold` have arrived. */
function serve(hold: number): void {
  let held: http.ServerResponse[] = [];
  const answer = (res: http.ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(ANSWER) });
    res.end(ANSWER);
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (hold <= 0) return answer(res);
      held.push(res);
      if (held.length >= hold) {
        process.send?.({ held: held.length });
        process.once("message", () => {
          for (const r of held) answer(r);
          held = [];
        });
      }
    });
  });
  server.keepAliveTimeout = 120_000;
  server.maxConnections = 20_000;
  server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

async function startServerProcess(hold: number) {
  const self = fileURLToPath(import.meta.url);
  let cmd = process.execPath;
  let argv = [...process.execArgv, self, "--serve", String(hold)];
  try {
    execFileSync("taskset", ["-c", "1", "true"]);
    argv = ["-c", "1", cmd, ...argv];
    cmd = "taskset";
  } catch { /* one core only: share it */ }
  const p = spawn(cmd, argv, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const port = await new Promise<number>((r) => p.once("message", (m: { port: number }) => r(m.port)));
  return { p, url: `http://127.0.0.1:${port}/v1` };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function realTexts(n: number): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const p = resolve(here, "..", "..", "shared", "data", "math-qa", "se_math_33votes.jsonl.gz");
  const base = gunzipSync(readFileSync(p)).toString("utf8").split("\n").filter(Boolean)
    .map((l) => (JSON.parse(l) as { input: string }).input);
  return Array.from({ length: n }, (_, i) => `${base[i % base.length]}\n[copy ${i}]`);
}

async function main() {
  if (args[0] === "--serve") return serve(Number(args[1]));
  const N = arg("requests", 20000);
  const runs = arg("runs", 5);
  const inflight = arg("inflight", 10000);
  const prompt0 = "Evaluate the following text extract ... Final score: <total points>.\n" + "x".repeat(2000);
  console.log(`node ${process.version}; affinity: ${safe(() => execFileSync("taskset", ["-p", String(process.pid)]).toString().trim())}`);

  // 1. Memory with `inflight` requests in flight at once (first, in a fresh process, so the baseline is clean).
  const hold = await startServerProcess(inflight);
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const client = new LlmClient({ baseUrl: hold.url, model: "m", maxInFlight: inflight, timeoutMs: 600_000 });
  const all = Promise.all(Array.from({ length: inflight }, (_, i) => client.complete(`${prompt0} ${i}`)));
  await new Promise<void>((r) => hold.p.once("message", () => r()));
  const rssHeld = process.memoryUsage().rss;
  const heapHeld = process.memoryUsage().heapUsed - heap0;
  hold.p.send("go");
  await all;
  client.close();
  hold.p.kill();
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`${inflight} requests in flight: RSS ${(rss0 / 1e6).toFixed(0)} MB before, ${(rssHeld / 1e6).toFixed(0)} MB while held ` +
    `(${((rssHeld - rss0) / inflight / 1024).toFixed(1)} KiB per request), JS heap +${(heapHeld / 1e6).toFixed(0)} MB; peak RSS so far ${(peak / 1e6).toFixed(0)} MB`);

  // 2. Raw client: N prompts through complete(), 256 in flight.
  const srv = await startServerProcess(0);
  const prompt = prompt0;
  const rps: number[] = [];
  const cpuRps: number[] = [];
  for (let r = 0; r < runs; r++) {
    const client = new LlmClient({ baseUrl: srv.url, model: "m", maxInFlight: 256 });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: N }, () => client.complete(prompt)));
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    rps.push(N / s);
    cpuRps.push(N / ((c.user + c.system) / 1e6));
    client.close();
  }
  console.log(`client.complete: ${N} requests x ${runs} runs, 256 in flight: median ${median(rps).toFixed(0)} req/s wall, ` +
    `${median(cpuRps).toFixed(0)} req per client CPU-second (wall runs: ${rps.map((x) => x.toFixed(0)).join(", ")})`);

  // 3. The annotate stage: real documents, journal to a temp dir, batches of 1024.
  const texts = realTexts(N);
  const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t), 0);
  const stageDocs: number[] = [];
  const stageCpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const out = mkdtempSync(join(tmpdir(), "bench-llm-"));
    const client = new LlmClient({ baseUrl: srv.url, model: "m", maxInFlight: 256 });
    const stage = annotateStage({ client });
    const stats = new StageStats("annotate");
    const batches: Batch[] = [];
    for (let i = 0; i < N; i += 1024) {
      const t = texts.slice(i, i + 1024);
      batches.push(makeBatch({ id: t.map((_, k) => `doc-${i + k}`), text: t }));
    }
    async function* src() { yield* batches; }
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    for await (const b of stage.run(src(), { stats, file: "bench.parquet", shard: { index: 0, count: 1 }, seed: 0,
      onError: "skip", workers: 1, log: memoryLogger(), outDir: out })) n += b.numRows;
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    stageCpu.push(N / ((c.user + c.system) / 1e6));
    if (n !== N) throw new Error(`annotate kept ${n} of ${N}`);
    stageDocs.push(N / s);
    await stage.close?.();
    rmSync(out, { recursive: true, force: true });
  }
  const med = median(stageDocs);
  console.log(`annotate stage: ${N} docs (${(bytes / 1e6).toFixed(1)} MB) x ${runs} runs: median ${med.toFixed(0)} docs/s, ` +
    `${((med * bytes) / N / 1e6).toFixed(1)} MB/s wall; ${median(stageCpu).toFixed(0)} docs per CPU-second (runs: ${stageDocs.map((x) => x.toFixed(0)).join(", ")})`);
  srv.p.kill();
  console.log(`peak RSS of the whole bench: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return "n/a";
  }
}

await main();
