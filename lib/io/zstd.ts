// Zstandard for Node 20 and 22. Node >= 22.15 has zstd built into zlib (fast, native): use it when present.
// On Node 20 the fallback is @bokuweb/zstd-wasm (the reference C library compiled to WebAssembly; it compresses
// and decompresses), measured in bench/io.ts against fzstd (pure JS, decompress only). Streams (for .jsonl.zst)
// use zlib's stream on Node 22 and fzstd's streaming decoder on Node 20.
import * as zlib from "node:zlib";
import { Transform } from "node:stream";
import { createRequire } from "node:module";
import { Decompress as FzstdStream, decompress as fzstdDecompress } from "fzstd";

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
  if (z.zstdDecompressSync && !forceFzstd) return z.zstdDecompressSync(input);
  if (wasm && outputLength !== undefined && !forceFzstd) {
    // The wasm build sizes its output from the frame header; pass the page's own size for frames without one.
    return wasm.decompress(input, { defaultHeapSize: Math.max(outputLength, 1) });
  }
  return fzstdDecompress(input, outputLength !== undefined ? new Uint8Array(outputLength) : undefined);
}

/** A Transform that decompresses a zstd stream (possibly many frames), for .jsonl.zst. */
export function createZstdDecompressStream(): Transform {
  if (z.createZstdDecompress) return z.createZstdDecompress();
  const t: Transform = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        dec.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (e) {
        return cb(e as Error);
      }
      cb();
    },
    flush(cb) {
      try {
        dec.push(new Uint8Array(0), true);
      } catch (e) {
        return cb(e as Error);
      }
      cb();
    },
  });
  const dec = new FzstdStream((data) => {
    // fzstd may hand back views into its window buffer, so copy before passing downstream.
    t.push(Buffer.from(data));
  });
  return t;
}
