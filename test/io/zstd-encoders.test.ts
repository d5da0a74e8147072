// The zstd encoders behind Parquet pages (lib/io/zstd.ts): the native addon, Node 22's zlib and the WASM build.
// Each one's frames decode with the zstd CLI (the reference decoder) to the input; each writes Parquet files that
// our reader reads back document for document and that are byte-identical when written twice; zlib and WASM write
// the same bytes; and where the addon does not load, the writer falls back on its own (checked in a child process
// in which loading the addon fails, as on a platform without a prebuilt binary).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import * as zlib from "node:zlib";
import { openWriter, readDocuments } from "../../lib/io/index.js";
import { DEFAULT_ZSTD_LEVEL } from "../../lib/io/writer.js";
import { ensureZstd, useZstdEncoder, zstdCompress, zstdEncoder, zstdEncoders, type ZstdEncoderName } from "../../lib/io/zstd.js";
import { openParquet } from "../../lib/io/parquet-file.js";
import { getTexts, makeBatch } from "../../lib/arrow/batch.js";
import { tmpDir, sharedJsonl, repoRoot } from "../helpers.js";
import { needs } from "../oracles.js";

const noCli = needs("zstd");
const requireNative = process.env.MEGAMATH_REQUIRE_ORACLES === "1";
const hasZlib = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === "function";

/** Real documents: C4 pages (long, distinct texts) with a short repeated column beside them. */
function realBatch() {
  const rows = sharedJsonl("web-nonmath", "c4_demo.jsonl.gz").slice(0, 400);
  return makeBatch({
    text: rows.map((r) => String(r.text)),
    id: rows.map((_, i) => `c4-${i}`),
    source: rows.map((_, i) => (i % 3 ? "c4" : "c4-en")),
  });
}

async function writeWith(encoder: ZstdEncoderName, level: number, path: string): Promise<string> {
  useZstdEncoder(encoder);
  await ensureZstd();
  const w = openWriter(path, { level, rowGroupSize: 150, pageBytes: 64 * 1024 });
  await w.write(realBatch());
  return (await w.close())[0]!;
}

test("the native addon loads here (its linux-x64/arm64 binary ships in an npm package)", { skip: !requireNative && !zstdEncoders().includes("native") ? "the @toondepauw/node-zstd binary is not installed for this platform" : false }, () => {
  assert.ok(zstdEncoders().includes("native"), "the native zstd addon should load (npm installs its per-platform binary package)");
  // Without MEGAMATH_ZSTD_ENCODER: zlib where Node has zstd, else the addon.
  if (!process.env.MEGAMATH_ZSTD_ENCODER) assert.equal(zstdEncoder(), hasZlib ? "node-zlib" : "native");
});

test("every encoder's frames decode with the zstd CLI to the input, at levels 1 and 3", { skip: noCli }, async () => {
  const text = Buffer.from(getTexts(realBatch()).join("\n")).subarray(0, 300_000);
  for (const e of zstdEncoders()) {
    useZstdEncoder(e);
    await ensureZstd();
    for (const level of [1, 3]) {
      const frame = zstdCompress(text, level);
      assert.ok(frame.length < text.length / 2, `${e} level ${level}: ${frame.length} bytes from ${text.length}`);
      const back = execFileSync("zstd", ["-q", "-d", "-c"], { input: frame, maxBuffer: 1 << 24 });
      assert.ok(back.equals(text), `${e} level ${level}: the zstd CLI decodes the frame to the input`);
    }
  }
});

test("every encoder writes Parquet that reads back document for document, and the same bytes twice", async () => {
  const dir = tmpDir("zstd-encoders-");
  const want = realBatch();
  const bytes = new Map<string, Buffer>();
  for (const e of zstdEncoders()) {
    const a = readFileSync(await writeWith(e, 1, join(dir, `${e}-a`)));
    const b = readFileSync(await writeWith(e, 1, join(dir, `${e}-b`)));
    assert.ok(a.equals(b), `${e}: two writes of the same batch give the same bytes`);
    bytes.set(e, a);
    const docs = [];
    for await (const batch of readDocuments(join(dir, `${e}-a.parquet`))) docs.push(...getTexts(batch));
    assert.deepEqual(docs, getTexts(want), `${e}: documents read back`);
  }
  if (bytes.has("node-zlib")) assert.ok(bytes.get("node-zlib")!.equals(bytes.get("zstd-wasm")!), "zlib and WASM write identical files");
});

test("the writer's default zstd level is 1 (pyarrow's default): same bytes as level 1, smaller ones at level 3", async () => {
  const dir = tmpDir("zstd-level-");
  useZstdEncoder(zstdEncoders()[0]!);
  await ensureZstd();
  const write = async (name: string, level?: number) => {
    const w = openWriter(join(dir, name), { level });
    await w.write(realBatch());
    return readFileSync((await w.close())[0]!);
  };
  const [byDefault, one, three] = [await write("default"), await write("one", 1), await write("three", 3)];
  assert.equal(DEFAULT_ZSTD_LEVEL, 1);
  assert.ok(byDefault.equals(one));
  assert.ok(three.length < one.length, `level 3 ${three.length} bytes, level 1 ${one.length}`);
});

test("long distinct texts are written PLAIN; short repeated values keep the dictionary", async () => {
  const file = await writeWith(zstdEncoders().at(-1)!, 3, join(tmpDir("zstd-plain-"), "x"));
  const pq = await openParquet(file);
  try {
    const enc = (name: string) => pq.metadata.row_groups[0]!.columns.find((c) => c.meta_data!.path_in_schema[0] === name)!.meta_data!.encodings;
    assert.deepEqual(enc("text"), ["PLAIN"]);
    assert.ok(enc("source").includes("RLE_DICTIONARY"), `source: ${enc("source")}`);
  } finally {
    await pq.close();
  }
});

test("where the native addon does not load, the writer falls back on zlib (Node 22.15+) or WASM and its files read back", async () => {
  const dir = tmpDir("zstd-fallback-");
  // A process in which requiring the addon fails, as where npm installed no binary for the platform.
  const preload = join(dir, "no-addon.cjs");
  writeFileSync(preload, `const M = require("module"); const load = M._load;
M._load = function (req, ...rest) { if (req === "@toondepauw/node-zstd") throw new Error("no binary for this platform"); return load.call(this, req, ...rest); };`);
  const script = `
    const { openWriter, readDocuments } = await import(${JSON.stringify(join(repoRoot, "lib/io/index.ts"))});
    const { zstdEncoder, zstdEncoders } = await import(${JSON.stringify(join(repoRoot, "lib/io/zstd.ts"))});
    const { makeBatch } = await import(${JSON.stringify(join(repoRoot, "lib/arrow/batch.ts"))});
    const w = openWriter(${JSON.stringify(join(dir, "out"))});
    await w.write(makeBatch({ text: ["a page of text ".repeat(200), "another"], id: ["1", "2"] }));
    const [f] = await w.close();
    let n = 0;
    for await (const b of readDocuments(f)) n += b.numRows;
    console.log(JSON.stringify({ encoder: zstdEncoder(), encoders: zstdEncoders(), docs: n }));`;
  const env = { ...process.env, MEGAMATH_ZSTD_ENCODER: "" };
  const out = JSON.parse(execFileSync(process.execPath, ["--require", preload, "--import", "tsx", "--input-type=module", "-e", script],
    { cwd: repoRoot, env, encoding: "utf8" }).trim().split("\n").at(-1)!);
  assert.deepEqual(out, { encoder: hasZlib ? "node-zlib" : "zstd-wasm", encoders: hasZlib ? ["node-zlib", "zstd-wasm"] : ["zstd-wasm"], docs: 2 });
});

test("MEGAMATH_ZSTD_ENCODER with an unknown name is a clear error", () => {
  const r = (() => {
    try {
      execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e",
        `const m = await import(${JSON.stringify(join(repoRoot, "lib/io/zstd.ts"))}); m.zstdEncoder();`],
      { cwd: repoRoot, env: { ...process.env, MEGAMATH_ZSTD_ENCODER: "lz4" }, encoding: "utf8", stdio: "pipe" });
      return "";
    } catch (e) {
      return String((e as { stderr: string }).stderr);
    }
  })();
  assert.match(r, /MEGAMATH_ZSTD_ENCODER must be node-zlib, native or zstd-wasm, got "lz4"/);
});
