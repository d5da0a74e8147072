// I/O benchmark: builds a >= 300 MB Parquet corpus from the real documents in ../shared/data (paragraphs remixed
// by bench/corpus/generate.ts, deterministic for a seed) in snappy and zstd, then measures, each in a fresh child
// process so peak RSS is the reader's own:
//   read   readDocuments (all columns → Arrow batches with text/id): MB/s of text, docs/s, peak RSS
//   read-strings   the alternative path: hyparquet's default decode to JS strings, re-encoded into Arrow Utf8
//   write  openWriter from in-memory batches (~100 MB of text) to snappy and zstd Parquet
//   node --import tsx bench/io.ts [--size 300MB] [--seed 1] [--runs 3]
// Pin to one core for per-core figures: taskset -c 0 node --import tsx bench/io.ts
// Wall time is unreliable on a shared machine, so each child also reports the process CPU time (user + system,
// all threads) spent on the measured work; "cpu MB/s" is MB of text per CPU-second, the per-core throughput.
import { parseArgs } from "node:util";
import { existsSync, mkdirSync, statSync, rmSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import type { RecordBatch } from "apache-arrow";
import { parquetRead } from "hyparquet";
import { loadSources } from "./corpus/sources.js";
import { generateCorpus } from "./corpus/generate.js";
import { makeBatch, textBytes, utf8Data } from "../lib/arrow/batch.js";
import { openWriter, readDocuments, zstdBackend, ensureZstd, type ParquetCodec } from "../lib/io/index.js";
import { openParquet } from "../lib/io/parquet-file.js";
import { parquetDecompressors } from "../lib/io/parquet-codecs.js";

const here = dirname(fileURLToPath(import.meta.url));
const MB = 1e6;

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(MB|GB)?$/i.exec(s.trim());
  if (!m) throw new Error(`--size must look like 300MB or 1GB, got "${s}"`);
  return Number(m[1]) * ((m[2] ?? "MB").toUpperCase() === "GB" ? 1e9 : 1e6);
}

async function buildCorpus(dir: string, size: number, seed: number): Promise<Record<string, string>> {
  const files: Record<string, string> = { snappy: join(dir, "corpus-snappy.parquet"), zstd: join(dir, "corpus-zstd.parquet") };
  if (Object.values(files).every(existsSync)) return files;
  mkdirSync(dir, { recursive: true });
  const set = loadSources(resolve(here, "..", "..", "shared", "data"));
  const writers = (["snappy", "zstd"] as ParquetCodec[]).map((codec) =>
    openWriter(join(dir, `corpus-${codec}`), { codec, rowGroupSize: 10_000 }));
  let rows: ReturnType<typeof generateCorpus> extends Generator<infer R> ? R[] : never = [];
  const flush = async () => {
    if (!rows.length) return;
    const b = makeBatch({
      text: rows.map((r) => r.text), id: rows.map((r) => r.id), url: rows.map((r) => r.url), domain: rows.map((r) => r.domain),
      "cc-path": rows.map((r) => r["cc-path"]), source: rows.map((r) => r.source), label: rows.map((r) => r.label),
    });
    for (const w of writers) await w.write(b);
    rows = [];
  };
  for (const row of generateCorpus(set, { seed, mode: "remix", targetBytes: size })) {
    rows.push(row);
    if (rows.length >= 5000) await flush();
  }
  await flush();
  for (const w of writers) await w.close();
  return files;
}

interface Result { seconds: number; cpuSeconds: number; textMB: number; docs: number; rssMB: number }

const cpuSince = (c0: NodeJS.CpuUsage) => { const d = process.cpuUsage(c0); return (d.user + d.system) / 1e6; };

async function childRead(file: string, mode: string): Promise<Result> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  let docs = 0;
  if (mode === "read") {
    for await (const b of readDocuments(file)) {
      bytes += textBytes(b);
      docs += b.numRows;
    }
  } else {
    // Alternative: hyparquet decodes strings to JS strings (its default), we re-encode them into Arrow Utf8.
    await ensureZstd();
    const pq = await openParquet(file);
    let start = 0;
    for (const g of pq.metadata.row_groups) {
      const n = Number(g.num_rows);
      const cols = new Map<string, unknown[]>();
      await parquetRead({
        file: pq.file, metadata: pq.metadata, rowStart: start, rowEnd: start + n, compressors: parquetDecompressors,
        onChunk: (c) => cols.set(c.columnName, [...(cols.get(c.columnName) ?? []), ...(c.columnData as unknown[])]),
      });
      start += n;
      const text = utf8Data(cols.get("text") as string[]);
      bytes += text.values.length;
      docs += n;
    }
    await pq.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, cpuSeconds: cpuSince(c0), textMB: bytes / MB, docs, rssMB: process.resourceUsage().maxRSS / 1024 };
}

async function childWrite(file: string, codec: ParquetCodec, out: string, limitBytes: number): Promise<Result> {
  const batches: RecordBatch[] = [];
  let bytes = 0;
  let docs = 0;
  for await (const b of readDocuments(file)) {
    batches.push(b);
    bytes += textBytes(b);
    docs += b.numRows;
    if (bytes >= limitBytes) break;
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const w = openWriter(out, { codec });
  for (const b of batches) await w.write(b);
  const files = await w.close();
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSince(c0);
  for (const f of files) rmSync(f);
  return { seconds, cpuSeconds, textMB: bytes / MB, docs, rssMB: process.resourceUsage().maxRSS / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "300MB" }, seed: { type: "string", default: "1" }, runs: { type: "string", default: "3" },
      child: { type: "string" }, file: { type: "string" }, codec: { type: "string" }, out: { type: "string" },
      "write-mb": { type: "string", default: "100" }, modes: { type: "string", default: "read,read-strings,write" },
    },
  });
  if (values.child) {
    const r = values.child === "write"
      ? await childWrite(values.file!, values.codec as ParquetCodec, values.out!, Number(values["write-mb"]) * MB)
      : await childRead(values.file!, values.child);
    process.stdout.write(JSON.stringify(r) + "\n");
    return;
  }
  const size = parseSize(values.size!);
  const seed = Number(values.seed);
  const runs = Number(values.runs);
  const dir = resolve(here, "out", `io-corpus-${values.size}-s${seed}`);
  const t0 = performance.now();
  const files = await buildCorpus(dir, size, seed);
  console.log(`corpus: ${dir} (built/found in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  for (const [c, f] of Object.entries(files)) console.log(`  ${c}: ${(statSync(f).size / MB).toFixed(0)} MB on disk`);
  console.log(`node ${process.version}, zstd backend ${process.env.MEGAMATH_ZSTD_DECODER === "fzstd" ? "fzstd (forced)" : zstdBackend}, ${runs} runs, medians`);
  console.log("mode          codec   text MB   docs  wall s  wall MB/s  cpu s  cpu MB/s  docs/cpu-s  peak RSS MB");
  const modes = values.modes!.split(",");
  for (const mode of modes) {
    for (const codec of ["snappy", "zstd"]) {
      const rs: Result[] = [];
      for (let i = 0; i < runs; i++) {
        const args = ["--import", "tsx", fileURLToPath(import.meta.url), "--child", mode, "--file", files[codec],
          "--codec", codec, "--out", join(dir, `write-${codec}`), "--write-mb", values["write-mb"]!];
        rs.push(JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 })));
      }
      const sec = median(rs.map((r) => r.seconds));
      const cpu = median(rs.map((r) => r.cpuSeconds));
      const r = rs[0];
      console.log(`${mode.padEnd(13)} ${codec.padEnd(7)} ${r.textMB.toFixed(0).padStart(7)} ${String(r.docs).padStart(6)} ${sec.toFixed(2).padStart(7)} ${(r.textMB / sec).toFixed(0).padStart(10)} ${cpu.toFixed(2).padStart(6)} ${(r.textMB / cpu).toFixed(0).padStart(9)} ${(r.docs / cpu).toFixed(0).padStart(11)} ${median(rs.map((x) => x.rssMB)).toFixed(0).padStart(12)}`);
    }
  }
}

await main();
