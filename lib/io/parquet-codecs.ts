// Page decompressors handed to hyparquet: hysnappy (WASM snappy, the fastest measured), Node's native zlib for
// gzip and brotli, zstd from ./zstd.ts (native on Node 22, WASM on Node 20).
import * as zlib from "node:zlib";
import { decompressSnappy, decompressLz4, decompressLz4Raw } from "hyparquet-compressors";
import type { Compressors } from "hyparquet";
import { zstdDecompress } from "./zstd.js";

export const parquetDecompressors: Compressors = {
  SNAPPY: decompressSnappy,
  GZIP: (input: Uint8Array) => zlib.gunzipSync(input),
  BROTLI: (input: Uint8Array) => zlib.brotliDecompressSync(input),
  ZSTD: (input: Uint8Array, outputLength: number) => zstdDecompress(input, outputLength),
  LZ4: decompressLz4,
  LZ4_RAW: decompressLz4Raw,
};
