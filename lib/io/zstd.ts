// Zstandard for Node 20, 22 and 24. Decoding: Node >= 22.15 has zstd built into zlib (native); on Node 20 the
// fallback is @bokuweb/zstd-wasm (the reference C library compiled to WebAssembly), measured in bench/io.ts against
// fzstd (pure JS, decompress only). Streams (for .jsonl.zst) use zlib's stream on Node 22 and fzstd's streaming
// decoder on Node 20.
// Encoding (Parquet pages) has three backends, measured on the whole write in bench/parquet-write.ts and alone in
// bench/zstd-codecs.ts: zlib on Node 22.15+ and 24, given an output buffer the size of the result and the input
// size up front (it otherwise grows the output 16 KiB at a time: up to 1.5x slower), which also makes its bytes
// identical to the WASM build's; on Node 20 the optional native addon @toondepauw/node-zstd (reference zstd 1.5.7;
// its binaries ship in per-platform npm packages, so a plain `npm install` brings them: 1.4-1.8x the WASM build's
// whole-write speed there); and the WASM build where the addon did not install (a platform without a binary,
// `npm install --omit=optional`). Each backend is deterministic. The addon streams (no content size in the frame
// header), so its bytes differ from the other two: the documents inside do not.
// MEGAMATH_ZSTD_ENCODER=node-zlib|native|zstd-wasm forces one (benches, tests, and Node 20 files byte-identical
// to Node 22's with zstd-wasm).
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
const req = createRequire(import.meta.url);

/** Which decoder is in use (reported by bench/io.ts and inspect). */
export const zstdBackend: "node-zlib" | "zstd-wasm" = z.zstdDecompressSync ? "node-zlib" : "zstd-wasm";

export type ZstdEncoderName = "node-zlib" | "native" | "zstd-wasm";

interface Wasm {
  init(): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
  decompress(buf: Uint8Array, opts?: { defaultHeapSize: number }): Uint8Array;
}
interface NativeEncoder { encodeSync(data: Uint8Array): Buffer }
type NativeAddon = { Encoder: new (level: number) => NativeEncoder };
let wasm: Wasm | undefined;
let wasmReady: Promise<void> | undefined;
let native: NativeAddon | null | undefined; // null: tried, not loadable here
let nativeError = "";
const nativeEncoders = new Map<number, NativeEncoder>();

/** The native addon, or null where its binary did not install or does not load (the WASM build is used then). */
function loadNative(): NativeAddon | null {
  if (native !== undefined) return native;
  try {
    native = req("@toondepauw/node-zstd") as NativeAddon;
  } catch (e) {
    native = null;
    nativeError = (e as Error).message.split("\n")[0];
  }
  return native;
}

function encoderFromEnv(): ZstdEncoderName | undefined {
  const v = process.env.MEGAMATH_ZSTD_ENCODER;
  if (!v) return undefined;
  if (v !== "node-zlib" && v !== "native" && v !== "zstd-wasm") {
    throw new Error(`MEGAMATH_ZSTD_ENCODER must be node-zlib, native or zstd-wasm, got "${v}"`);
  }
  return v;
}

let encoder: ZstdEncoderName | undefined;

/** The encoder zstdCompress uses: MEGAMATH_ZSTD_ENCODER if set, else zlib where Node has zstd (as fast as the
 * addon or faster, and no dependency), else the native addon where it loads, else WASM. */
export function zstdEncoder(): ZstdEncoderName {
  return (encoder ??= encoderFromEnv() ?? (z.zstdCompressSync ? "node-zlib" : loadNative() ? "native" : "zstd-wasm"));
}

/** The encoders that work in this process (for tests and the bench). */
export function zstdEncoders(): ZstdEncoderName[] {
  const out: ZstdEncoderName[] = [];
  if (z.zstdCompressSync) out.push("node-zlib");
  if (loadNative()) out.push("native");
  out.push("zstd-wasm");
  return out;
}

/** Use `name` for zstdCompress from now on (tests and benches compare backends in one process); throws where it
 * cannot work here. Await ensureZstd() after it. */
export function useZstdEncoder(name: ZstdEncoderName): void {
  if (name === "node-zlib" && !z.zstdCompressSync) throw new Error(`Node ${process.version} has no zstd in zlib (needs 22.15+)`);
  if (name === "native" && !loadNative()) throw new Error(`the native zstd addon @toondepauw/node-zstd does not load here: ${nativeError}`);
  encoder = name;
}

/** Load what the encoder and decoder need: the WebAssembly codec where it decodes (Node 20) or encodes.
 * Idempotent. Call before zstdCompress. */
export function ensureZstd(): Promise<void> {
  if (zstdBackend !== "zstd-wasm" && zstdEncoder() !== "zstd-wasm") return Promise.resolve();
  wasmReady ??= (async () => {
    const m = req("@bokuweb/zstd-wasm") as Wasm;
    await m.init();
    wasm = m;
  })();
  return wasmReady;
}

/** Compress one buffer (a Parquet page) at `level` (default 3, zstd's own default). */
export function zstdCompress(input: Uint8Array, level = 3): Uint8Array {
  const enc = zstdEncoder();
  if (enc === "node-zlib") {
    // The whole result in one output buffer (zstd's bound for this input), and the input size in the frame header.
    return z.zstdCompressSync!(input, {
      chunkSize: Math.max(64, input.length + (input.length >> 7) + 1024),
      pledgedSrcSize: input.length,
      params: { [z.constants.ZSTD_c_compressionLevel]: level },
    });
  }
  if (enc === "native") {
    let e = nativeEncoders.get(level);
    if (!e) nativeEncoders.set(level, (e = new native!.Encoder(level)));
    return e.encodeSync(input);
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
