// JSONL reading and writing CPU, this checkout against another one, in one process with the runs alternated (so
// machine load hits both alike): readDocuments over a JSONL file, and turning its batches into JSONL bytes
// (before: batchToJsonLines + join + encode, what the writer did; here: batchToJsonBytes when it exists).
//   node --import tsx bench/jsonl-bytes.ts --file CORPUS/megamath-web-00000.jsonl --before OLD_CHECKOUT [--runs 3]
// (CORPUS: `bench/dedup.ts --size 233MB --doc-kb 4.45 --format jsonl` makes it under bench/out/.)
import { parseArgs } from "node:util";
import { resolve, join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { RecordBatch } from "apache-arrow";

const { values } = parseArgs({ options: { file: { type: "string" }, before: { type: "string" }, runs: { type: "string", default: "3" } } });
if (!values.file || !values.before) throw new Error("usage: --file FILE.jsonl --before OLD_CHECKOUT [--runs 3]");
const here = resolve(dirname(fileURLToPath(import.meta.url)), "..");
type Io = { readDocuments(f: string): AsyncIterable<RecordBatch> };
type W = { batchToJsonLines(b: RecordBatch): string[]; batchToJsonBytes?(b: RecordBatch): { bytes: Uint8Array } };
const load = async (root: string) => ({
  io: (await import(join(root, "lib/io/index.ts"))) as Io,
  w: (await import(join(root, "lib/io/jsonl-write.ts"))) as W,
});
const sides = { before: await load(resolve(values.before)), after: await load(here) };
const cpu = async (f: () => unknown) => {
  const c = process.cpuUsage();
  await f();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1e6;
};
const batches: RecordBatch[] = [];
for await (const b of sides.after.io.readDocuments(values.file)) batches.push(b);
const serialise = (w: W) => () => {
  for (const b of batches) {
    if (w.batchToJsonBytes) w.batchToJsonBytes(b);
    else Buffer.from(w.batchToJsonLines(b).join(""));
  }
};
const res: Record<string, number[]> = {};
for (let r = 0; r < Number(values.runs); r++) {
  for (const [name, s] of Object.entries(sides)) {
    (res[`read ${name}`] ??= []).push(await cpu(async () => { for await (const b of s.io.readDocuments(values.file!)) void b; }));
    (res[`serialise ${name}`] ??= []).push(await cpu(serialise(s.w)));
  }
}
const med = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
for (const [k, v] of Object.entries(res)) {
  process.stdout.write(`${k.padEnd(18)} median ${med(v).toFixed(2)} CPU-s  (${v.map((x) => x.toFixed(2)).join(" ")})\n`);
}
