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
import { DecompressError, errorMessage } from "./errors.js";

let snappy: ((input: Uint8Array, outputLength: number) => Uint8Array) | undefined;

type Decompress = (input: Uint8Array, outputLength: number) => Uint8Array;
const codecs: Record<string, Decompress> = {
  SNAPPY: (input, outputLength) => (snappy ??= snappyUncompressor())(input, outputLength),
  // zlib stops at the page's stated size instead of inflating a bomb to the end.
  GZIP: (input, outputLength) => zlib.gunzipSync(input, { maxOutputLength: Math.max(1, outputLength) }),
  BROTLI: (input, outputLength) => zlib.brotliDecompressSync(input, { maxOutputLength: Math.max(1, outputLength) }),
  ZSTD: (input, outputLength) => zstdDecompress(input, outputLength),
  LZ4: decompressLz4,
  LZ4_RAW: decompressLz4Raw,
};

/** Default largest decompressed page: 256 MiB. Writers cut pages at ~1 MB (parquet-mr, pyarrow) or one row group
 * of one column (hyparquet-writer, ours at 10k documents); a page header claiming more is corrupt or hostile, and
 * would otherwise be allocated as claimed. */
export const DEFAULT_MAX_PAGE_BYTES = 256 * 1024 * 1024;

/** The page decompressors, each refusing a page whose header claims more than `maxPageBytes` decompressed and
 * wording every failure as a DecompressError naming the codec. */
export function parquetDecompressorsWithin(maxPageBytes: number): Compressors {
  const out: Compressors = {};
  for (const [codec, fn] of Object.entries(codecs)) {
    out[codec as keyof Compressors] = (input: Uint8Array, outputLength: number) => {
      if (outputLength > maxPageBytes) {
        throw new DecompressError(`${codec} page claims ${outputLength} bytes decompressed, over the ${maxPageBytes >> 20} MiB page bound (corrupt?)`);
      }
      try {
        return fn(input, outputLength);
      } catch (e) {
        throw new DecompressError(`${codec} page: ${errorMessage(e)}`);
      }
    };
  }
  return out;
}

export const parquetDecompressors: Compressors = parquetDecompressorsWithin(DEFAULT_MAX_PAGE_BYTES);
