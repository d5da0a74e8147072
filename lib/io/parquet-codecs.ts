// Page decompressors handed to hyparquet: hysnappy (WASM snappy, the fastest measured), Node's native zlib for
// gzip and brotli, zstd from ./zstd.ts (native on Node 22, WASM on Node 20).
// hysnappy's plain `snappyUncompress` (what hyparquet-compressors exports) compiles and instantiates a new WASM
// module on every page; profiling showed that was ~half of read time. One long-lived instance per thread is
// created lazily here instead (its memory grows to the largest page seen and is reused).
import * as zlib from "node:zlib";
import { decompressLz4, decompressLz4Raw } from "hyparquet-compressors";
import { snappyUncompressor } from "hysnappy";
import type { Compressors } from "hyparquet";
import { zstdDecompress } from "./zstd.js";

let snappy: ((input: Uint8Array, outputLength: number) => Uint8Array) | undefined;

export const parquetDecompressors: Compressors = {
  SNAPPY: (input: Uint8Array, outputLength: number) => (snappy ??= snappyUncompressor())(input, outputLength),
  GZIP: (input: Uint8Array) => zlib.gunzipSync(input),
  BROTLI: (input: Uint8Array) => zlib.brotliDecompressSync(input),
  ZSTD: (input: Uint8Array, outputLength: number) => zstdDecompress(input, outputLength),
  LZ4: decompressLz4,
  LZ4_RAW: decompressLz4Raw,
};
