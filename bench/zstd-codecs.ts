// The zstd compressors the Parquet writer can use, alone, on Parquet-page-sized chunks of real text: the WASM build
// of the reference C library (@bokuweb/zstd-wasm), the native addon @toondepauw/node-zstd (where it loads) and
// node:zlib's built-in zstd (Node >= 22.15) called with its defaults and as lib/io/zstd.ts calls it (output buffer
// of the result's size, input size pledged), at levels 1, 2 and 3, alternated, MB of input per CPU-second and the
// compression ratio. (The whole write, with the rest of the Parquet path: bench/parquet-write.ts.) Run it with each Node:
//   node --import tsx bench/zstd-codecs.ts --file /tmp/corpus/megamath-web-00000.jsonl [--mb 40] [--page-kb 1024]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import * as zlib from "node:zlib";

const { values: opt } = parseArgs({ options: { file: { type: "string" }, mb: { type: "string", default: "40" }, "page-kb": { type: "string", default: "1024" }, runs: { type: "string", default: "3" } } });
if (!opt.file) throw new Error("--file FILE (any large real text file, e.g. a make-corpus JSONL shard) is required");
const text = readFileSync(opt.file).subarray(0, Number(opt.mb) * 1e6);
const page = Number(opt["page-kb"]) * 1024;
const pages: Uint8Array[] = [];
for (let i = 0; i < text.length; i += page) pages.push(text.subarray(i, i + page));
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const wasm = createRequire(import.meta.url)("@bokuweb/zstd-wasm") as { init(): Promise<void>; compress(b: Uint8Array, l: number): Uint8Array };
await wasm.init();
const z = zlib as unknown as { zstdCompressSync?: (b: Uint8Array, o: object) => Uint8Array; constants: Record<string, number> };
const impls: [string, (b: Uint8Array, l: number) => Uint8Array][] = [["zstd-wasm", (b, l) => wasm.compress(b, l)]];
try {
  const { Encoder } = createRequire(import.meta.url)("@toondepauw/node-zstd") as { Encoder: new (l: number) => { encodeSync(b: Uint8Array): Uint8Array } };
  const encoders = new Map<number, { encodeSync(b: Uint8Array): Uint8Array }>();
  impls.push(["native", (b, l) => (encoders.get(l) ?? encoders.set(l, new Encoder(l)).get(l)!).encodeSync(b)]);
} catch (e) {
  console.log(`native addon not loadable: ${(e as Error).message.split("\n")[0]}`);
}
if (z.zstdCompressSync) {
  impls.push(["zlib-default", (b, l) => z.zstdCompressSync!(b, { params: { [z.constants.ZSTD_c_compressionLevel!]: l } })]);
  impls.push(["zlib-sized", (b, l) => z.zstdCompressSync!(b, {
    chunkSize: b.length + (b.length >> 7) + 1024, pledgedSrcSize: b.length, params: { [z.constants.ZSTD_c_compressionLevel!]: l },
  })]);
}
console.log(`node ${process.version}: ${(text.length / 1e6).toFixed(0)} MB in ${pages.length} pages of ${opt["page-kb"]} KiB`);
for (const level of [1, 2, 3]) {
  const secs = new Map<string, number[]>();
  const ratio = new Map<string, number>();
  for (let r = 0; r < Number(opt.runs); r++)
    for (const [name, f] of impls) {
      const t = cpu();
      let out = 0;
      for (const p of pages) out += f(p, level).length;
      (secs.get(name) ?? secs.set(name, []).get(name)!).push(cpu() - t);
      ratio.set(name, text.length / out);
    }
  for (const [name, s] of secs) {
    const med = [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)]!;
    console.log(`level ${level} ${name.padEnd(12)} ${(text.length / 1e6 / med).toFixed(0).padStart(5)} MB per CPU-s  ratio ${ratio.get(name)!.toFixed(2)}`);
  }
}
