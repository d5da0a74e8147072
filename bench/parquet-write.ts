// The whole Parquet write (Arrow batches of real text in → a zstd Parquet file on disk, through openWriter), per
// zstd encoder backend and level, alternated in one process, MB of text per CPU-second (process CPU, all threads),
// medians. Each configuration first writes once unmeasured (JIT, heap and allocator warm-up: a long run writes
// many row groups), then the measured runs go round-robin over the configurations. Every output is read back
// once (our reader: document count and text bytes) so a fast but wrong configuration cannot pass unnoticed.
//   node --import tsx bench/parquet-write.ts --file /tmp/corpus/megamath-web-00000.jsonl [--mb 50] [--runs 3]
//     [--configs native:3,native:1,zstd-wasm:3,zstd-wasm:1,node-zlib:3,node-zlib:1,none] [--page-kb 1024]
//     [--only-write]   (with --cpu-prof: one configuration, no read-back)
//     [--paths direct,hyparquet-writer]   (how text columns are encoded; each config runs with each path, and the
//     two paths' files must be byte-identical)
// Run it under each Node (Node 22: PATH=/path/to/node22/bin:$PATH). Backends not available under a Node are
// skipped with a line saying so.
import { parseArgs } from "node:util";
import { rmSync, statSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { openWriter, readDocuments } from "../lib/io/index.js";
import type { ByteColumnPath } from "../lib/io/parquet-write.js";
import { textBytes } from "../lib/arrow/batch.js";
import { ensureZstd, useZstdEncoder, zstdEncoders, type ZstdEncoderName } from "../lib/io/zstd.js";

const { values: opt } = parseArgs({
  options: {
    file: { type: "string" }, mb: { type: "string", default: "50" }, runs: { type: "string", default: "3" },
    configs: { type: "string", default: "native:3,native:1,zstd-wasm:3,zstd-wasm:1,node-zlib:3,node-zlib:1,none" },
    "page-kb": { type: "string" }, "only-write": { type: "boolean", default: false },
    paths: { type: "string", default: "direct,hyparquet-writer" },
  },
});
if (!opt.file) throw new Error("--file FILE (a make-corpus JSONL or Parquet shard of real text) is required");

const batches: RecordBatch[] = [];
let text = 0;
let docs = 0;
for await (const b of readDocuments(opt.file)) {
  batches.push(b);
  text += textBytes(b);
  docs += b.numRows;
  if (text >= Number(opt.mb) * 1e6) break;
}
const have = zstdEncoders();
type Config = { name: string; encoder?: ZstdEncoderName; level?: number; path: ByteColumnPath; codecName: string };
const configs: Config[] = [];
const paths = opt.paths!.split(",") as ByteColumnPath[];
for (const c of opt.configs!.split(",")) {
  for (const path of paths) {
    const name = paths.length > 1 ? `${c} ${path === "direct" ? "direct" : "hw"}` : c;
    if (c === "none") { configs.push({ name, path, codecName: c }); continue; }
    const [encoder, level] = c.split(":") as [ZstdEncoderName, string];
    if (!have.includes(encoder)) console.log(`${c}: skipped, not available under Node ${process.version}`);
    else configs.push({ name, encoder, level: Number(level), path, codecName: c });
  }
}
const dir = mkdtempSync(join(tmpdir(), "megamath-pqwrite-"));
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };
const pageBytes = opt["page-kb"] ? Number(opt["page-kb"]) * 1024 : undefined;

async function writeOnce(c: Config): Promise<{ cpu: number; wall: number; file: string }> {
  if (c.encoder) {
    useZstdEncoder(c.encoder);
    await ensureZstd();
  }
  const t = cpu();
  const w0 = performance.now();
  const w = openWriter(join(dir, c.name.replace(/[: ]/g, "-")), { codec: c.encoder ? "zstd" : "none", level: c.level, pageBytes, byteColumns: c.path });
  for (const b of batches) await w.write(b);
  const [file] = await w.close();
  return { cpu: cpu() - t, wall: (performance.now() - w0) / 1000, file: file! };
}

console.log(`node ${process.version}: ${(text / 1e6).toFixed(1)} MB of text in ${docs} documents, ${batches.length} batches; ` +
  `encoders here: ${have.join(", ")}; page ${opt["page-kb"] ?? "default"} KiB`);
const secs = new Map<string, number[]>();
const walls = new Map<string, number[]>();
const sizes = new Map<string, number>();
const bytesOf = new Map<string, Buffer>(); // per codec config: the first path's file, which the others must equal
for (const c of configs) {
  const { file } = await writeOnce(c); // warm-up, and the read-back check
  sizes.set(c.name, statSync(file).size);
  const same = bytesOf.get(c.codecName);
  if (!same) bytesOf.set(c.codecName, readFileSync(file));
  else if (!same.equals(readFileSync(file))) throw new Error(`${c.name}: the file differs from the other path's`);
  if (!opt["only-write"]) {
    let n = 0;
    let t = 0;
    for await (const b of readDocuments(file)) { n += b.numRows; t += textBytes(b); }
    if (n !== docs || t !== text) throw new Error(`${c.name}: read back ${n} documents / ${t} bytes, wrote ${docs} / ${text}`);
  }
  rmSync(file);
}
for (let r = 0; r < Number(opt.runs); r++) {
  for (const c of configs) {
    const { cpu: s, wall, file } = await writeOnce(c);
    (secs.get(c.name) ?? secs.set(c.name, []).get(c.name)!).push(s);
    (walls.get(c.name) ?? walls.set(c.name, []).get(c.name)!).push(wall);
    rmSync(file);
  }
}
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const c of configs) {
  const s = secs.get(c.name)!;
  console.log(`${c.name.padEnd(12)} ${(text / 1e6 / median(s)).toFixed(0).padStart(5)} MB text per CPU-s ` +
    `(CPU-s ${s.map((x) => x.toFixed(2)).join(" ")}; wall ${median(walls.get(c.name)!).toFixed(2)} s)  file ${(sizes.get(c.name)! / 1e6).toFixed(1)} MB`);
}
