// Zstandard for Node 20 and 22. Node >= 22.15 has zstd built into zlib (fast, native): use it when present.
// On Node 20 the fallback is @bokuweb/zstd-wasm (the reference C library compiled to WebAssembly; it compresses
// and decompresses), measured in bench/io.ts against fzstd (pure JS, decompress only). Streams (for .jsonl.zst)
// use zlib's stream on Node 22 and fzstd's streaming decoder on Node 20.
// Node's zlib decoder returns what it decoded so far from a truncated frame instead of failing (nodejs/node#64592)
// and decodes only the first of several frames given at once (nodejs/node#64741): on that path the input is cut
// at frame ends (zstd-frames.ts) and fed one frame at a time, and an input that stops inside a frame is an error.
import * as zlib from "node:zlib";
import { Transform } from "node:stream";
import { createRequire } from "node:module";
import { Decompress as FzstdStream, decompress as fzstdDecompress } from "fzstd";
import { ZstdFrameWalker, zstdFrameEnds } from "./zstd-frames.js";

type Sync = (buf: Uint8Array, opts?: object) => Buffer;
const z = zlib as unknown as {
  zstdCompressSync?: Sync;
  zstdDecompressSync?: Sync;
  createZstdDecompress?: () => Transform;
  constants: Record<string, number>;
};

/** Which implementation is in use (reported by bench/io.ts and inspect). */
export const zstdBackend: "node-zlib" | "zstd-wasm" = z.zstdDecompressSync ? "node-zlib" : "zstd-wasm";

interface Wasm {
  init(): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
  decompress(buf: Uint8Array, opts?: { defaultHeapSize: number }): Uint8Array;
}
let wasm: Wasm | undefined;
let wasmReady: Promise<void> | undefined;

/** Load the WebAssembly codec (Node 20). Idempotent; a no-op on Node 22. Call before zstdCompress. */
export function ensureZstd(): Promise<void> {
  if (zstdBackend === "node-zlib") return Promise.resolve();
  wasmReady ??= (async () => {
    const req = createRequire(import.meta.url);
    const m = req("@bokuweb/zstd-wasm") as Wasm;
    await m.init();
    wasm = m;
  })();
  return wasmReady;
}

/** Compress one buffer (a Parquet page) at `level` (default 3, zstd's own default). */
export function zstdCompress(input: Uint8Array, level = 3): Uint8Array {
  if (z.zstdCompressSync) {
    return z.zstdCompressSync(input, { params: { [z.constants.ZSTD_c_compressionLevel]: level } });
  }
  if (!wasm) throw new Error("zstd codec not loaded: await ensureZstd() first");
  return wasm.compress(input, level);
}

/** Decompress one buffer whose decompressed size is known (Parquet pages carry it in their header). */
// MEGAMATH_ZSTD_DECODER=fzstd forces the pure-JS decoder (bench/io.ts uses it to compare the two on Node 20).
const forceFzstd = process.env.MEGAMATH_ZSTD_DECODER === "fzstd";

export function zstdDecompress(input: Uint8Array, outputLength?: number): Uint8Array {
  if (z.zstdDecompressSync && !forceFzstd) {
    const { ends, whole } = zstdFrameEnds(input);
    if (!whole) throw new Error("unexpected end of zstd data: the last frame is incomplete (truncated)");
    const decode = z.zstdDecompressSync;
    const out = ends.length <= 1 ? decode(input) : Buffer.concat(ends.map((end, i) => decode(input.subarray(i ? ends[i - 1] : 0, end))));
    if (outputLength !== undefined && out.length !== outputLength) {
      throw new Error(`zstd data decompressed to ${out.length} bytes, expected ${outputLength} (corrupt)`);
    }
    return out;
  }
  if (wasm && outputLength !== undefined && !forceFzstd) {
    // The wasm build sizes its output from the frame header; pass the page's own size for frames without one.
    try {
      return wasm.decompress(input, { defaultHeapSize: Math.max(outputLength, 1) });
    } catch (e) {
      // The WASM build words every failure "Failed to compress with code N": keep only the code.
      const code = /code (-?\d+)/.exec((e as Error).message)?.[1];
      throw new Error(`zstd data is corrupt or truncated${code ? ` (zstd error code ${code})` : ""}`);
    }
  }
  return fzstdDecompress(input, outputLength !== undefined ? new Uint8Array(outputLength) : undefined);
}

/** Decompress a zstd stream (possibly many frames), for .jsonl.zst: an async iterable of decompressed chunks that
 * decodes only as fast as it is consumed. Node 22 uses zlib's stream (which follows backpressure); Node 20 uses
 * fzstd, which decodes everything it is handed at once — so it is handed at most BLOCKS_PER_PUSH blocks at a time
 * (a block decodes to at most 128 KiB, RFC 8878 §3.1.1.2.4), and the next blocks wait until the output is taken.
 * Without that, a 270 KB file of repetitive text decoded to GBs in one go. */
export function zstdDecompressChunks(src: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  if (z.createZstdDecompress) {
    const t = checkedZlibStream(z.createZstdDecompress());
    (async () => {
      try {
        for await (const c of src) {
          if (t.destroyed) return; // failed or abandoned by the reader: stop feeding it
          if (!t.write(c)) await new Promise<void>((r) => { t.once("drain", r); t.once("close", r); });
        }
        t.end();
      } catch (e) {
        t.destroy(e as Error);
      }
    })();
    return t;
  }
  return fzstdChunks(src);
}

const BLOCKS_PER_PUSH = 8;

async function* fzstdChunks(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const frames = new ZstdFrameWalker();
  let out: Buffer[] = [];
  // fzstd may hand back views into its window buffer, so copy before passing downstream.
  const dec = new FzstdStream((data) => out.push(Buffer.from(data)));
  for await (const chunk of src) {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const blocks: number[] = [];
    frames.push(bytes, blocks);
    let from = 0;
    for (let k = BLOCKS_PER_PUSH - 1; k < blocks.length; k += BLOCKS_PER_PUSH) {
      dec.push(bytes.subarray(from, blocks[k]));
      from = blocks[k];
      yield* out.splice(0);
    }
    if (from < bytes.length) dec.push(bytes.subarray(from));
    yield* out.splice(0);
  }
  dec.push(new Uint8Array(0), true);
  yield* out.splice(0);
  if (!frames.atFrameBoundary) throw new Error("unexpected end of zstd data: the last frame is incomplete (truncated file?)");
}

/** zlib's zstd decoder behind a Transform that follows the frames it is fed: each write to zlib holds at most
 * one frame end (zlib drops whatever follows a frame's end within a write), and the end of input inside a frame
 * is an error (zlib alone ends the stream as if the data were whole). */
function checkedZlibStream(inner: Transform): Transform {
  const frames = new ZstdFrameWalker();
  let finished: ((e?: Error | null) => void) | undefined;
  const outer: Transform = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let ends: number[];
      try {
        ends = frames.push(chunk);
      } catch (e) {
        return cb(e as Error);
      }
      const cuts = [0, ...ends.filter((e) => e < chunk.length), chunk.length];
      for (let k = 1; k < cuts.length - 1; k++) inner.write(chunk.subarray(cuts[k - 1], cuts[k]));
      // zlib calls back once it has decoded the last piece and pushed the output (into `outer`, by the "data"
      // handler below); calling back only then lets `outer`'s own buffer limit hold back the input.
      inner.write(chunk.subarray(cuts[cuts.length - 2]), (err) => cb(err ?? undefined));
    },
    flush(cb) {
      if (!frames.atFrameBoundary) return cb(new Error("unexpected end of zstd data: the last frame is incomplete (truncated file?)"));
      finished = cb;
      inner.end();
    },
    destroy(err, cb) {
      inner.destroy();
      cb(err);
    },
  });
  inner.on("data", (d: Buffer) => outer.push(d));
  inner.on("end", () => finished?.());
  inner.on("error", (e) => (finished ? finished(e) : outer.destroy(e)));
  return outer;
}
