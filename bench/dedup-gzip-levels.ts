// Deflate alone, per gzip level, as dedup's stage 4 does it (zlib.gzipSync over 4 MiB members of JSONL bytes):
// CPU-seconds and output size of one file, levels alternated in one process, medians.
//   node --import tsx bench/dedup-gzip-levels.ts --file CORPUS/megamath-web-00000.jsonl [--levels 1,4,6,9] [--runs 3]
// (CORPUS: `bench/make-corpus.ts --size 233MB --doc-kb 4.45 --format jsonl --seed 1 --out DIR`, the corpus of
// bench/dedup.ts --datatrove.) What it answers: how much of stage 4's CPU each level costs and buys.
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const { values } = parseArgs({ options: { file: { type: "string" }, levels: { type: "string", default: "1,4,6,9" }, runs: { type: "string", default: "3" } } });
if (!values.file) throw new Error("usage: --file FILE [--levels 1,4,6,9] [--runs 3]");
const levels = values.levels!.split(",").map(Number);
const buf = readFileSync(values.file);
const member = 4 << 20; // the JSONL writer's gzip member (lib/io/writer.ts)
const parts: Uint8Array[] = [];
for (let i = 0; i < buf.length; i += member) parts.push(buf.subarray(i, Math.min(buf.length, i + member)));
const cpu: Record<number, number[]> = {};
const size: Record<number, number> = {};
for (let r = 0; r < Number(values.runs); r++) {
  for (const level of r % 2 ? [...levels].reverse() : levels) {
    const c0 = process.cpuUsage();
    let n = 0;
    for (const p of parts) n += gzipSync(p, { level }).length;
    const c = process.cpuUsage(c0);
    (cpu[level] ??= []).push((c.user + c.system) / 1e6);
    size[level] = n;
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(`${values.file}: ${(buf.length / 1e6).toFixed(1)} MB, ${parts.length} members, Node ${process.version}, medians of ${values.runs}\n`);
for (const l of levels) {
  process.stdout.write(`level ${l}: ${median(cpu[l]).toFixed(2)} CPU-s (${cpu[l].map((x) => x.toFixed(2)).join(" ")}), ` +
    `${(buf.length / 1e6 / median(cpu[l])).toFixed(1)} MB per CPU-s, output ${(size[l] / 1e6).toFixed(2)} MB (${(100 * size[l] / buf.length).toFixed(1)}%)\n`);
}
