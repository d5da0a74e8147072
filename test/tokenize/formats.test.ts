// Token files: Megatron .bin/.idx round-trip through our reader and an independent Python+numpy reader, the .ds
// sidecars agree, shuffling is deterministic and independent of the worker count, bad input fails cleanly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { sharedData, tmpDir, repoRoot } from "../helpers.js";
import { needs, pythonWith } from "../oracles.js";
import { MegatronReader, MegatronWriter, readMegatronIndex, encodeIndex } from "../../lib/formats/megatron.js";
import { TokenFileWriter } from "../../lib/formats/token-file.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import { loadTokenizer } from "../../lib/tokenizer/load.js";
import { describeTokenFile, formatTokenDescription } from "../../lib/tokens/inspect.js";

const info = { name: "llama3", hf_name: "meta-llama/Meta-Llama-3-8B", vocab_size: 128256, fingerprint: "x", bos_id: 128000, eos_id: 128001 };

test("Megatron .idx header and arrays follow the documented layout", () => {
  const idx = encodeIndex(Int32Array.from([3, 0, 5]), "int32");
  const dv = new DataView(idx.buffer);
  assert.equal(Buffer.from(idx.subarray(0, 9)).toString("latin1"), "MMIDIDX\0\0");
  assert.equal(dv.getBigUint64(9, true), 1n);
  assert.equal(dv.getUint8(17), 4);
  assert.equal(dv.getBigUint64(18, true), 3n);
  assert.equal(dv.getBigUint64(26, true), 4n);
  assert.deepEqual([dv.getInt32(34, true), dv.getInt32(38, true), dv.getInt32(42, true)], [3, 0, 5]);
  assert.deepEqual([46, 54, 62].map((o) => dv.getBigInt64(o, true)), [0n, 12n, 12n]);
  assert.deepEqual([70, 78, 86, 94].map((o) => dv.getBigInt64(o, true)), [0n, 1n, 2n, 3n]);
  assert.equal(idx.length, 34 + 12 + 24 + 32);
});

test("tokenize real documents; our reader, the Python reader and the .ds sidecars all agree", async (t) => {
  const out = tmpDir();
  const res = await tokenizeFiles({ inputs: [sharedData("web-nonmath/c4_demo.jsonl.gz")], outDir: out, workers: 0, seed: 7 });
  assert.equal(res.shards.length, 1);
  const m = res.shards[0];
  assert.equal(m.documents, 300);
  assert.equal(res.stats.docsIn, 300);
  assert.equal(res.stats.check(), null);
  const prefix = join(out, "c4_demo");
  const r = new MegatronReader(prefix);
  const ours = Array.from({ length: r.documents }, (_, i) => Array.from(r.document(i)));
  r.close();
  for (const d of ours) {
    assert.equal(d[0], 128000);
    assert.equal(d[d.length - 1], 128001);
    assert.ok(!d.slice(1, -1).some((x) => x >= 128000));
  }
  await t.test("an independent Python+numpy reader reads the same documents", { skip: needs("numpy") }, () => {
    const py = execFileSync(pythonWith("numpy"), [join(repoRoot, "test/tokenize/read_megatron.py"), prefix], { maxBuffer: 1 << 28 })
      .toString().trim().split("\n").map((l) => JSON.parse(l) as number[]);
    assert.deepEqual(py, ours);
  });
  assert.equal(readlinkSync(prefix + ".ds"), "c4_demo.bin");
  assert.deepEqual(readFileSync(prefix + ".ds.metadata", "utf8").split("\n").slice(0, 2), ["meta-llama/Meta-Llama-3-8B|4", String(m.tokens)]);
  const manifest = JSON.parse(readFileSync(prefix + ".manifest.json", "utf8"));
  assert.equal(manifest.bos_eos.bos_id, 128000);
  assert.equal(manifest.bos_eos.eos_id, 128001);
  assert.equal(manifest.dtype_code, 4);
  // Decoding documents gives back source texts (as a set, since documents are shuffled).
  const tok = loadTokenizer("llama3");
  const texts = new Set(gunzipSync(readFileSync(sharedData("web-nonmath/c4_demo.jsonl.gz"))).toString("utf8")
    .split("\n").filter(Boolean).map((l) => JSON.parse(l).text as string));
  for (const doc of ours.slice(0, 20)) assert.ok(texts.has(tok.decode(doc.slice(1, -1))));
  tok.free();
  const d = await describeTokenFile(prefix + ".bin", { samples: 2 });
  assert.equal(d.documents, 300);
  assert.equal(d.tokens, m.tokens);
  assert.deepEqual(d.framed, { bos: 300, eos: 300 });
  assert.equal(d.histogram.reduce((a, h) => a + h.documents, 0), 300);
  assert.ok(d.samples[0].text!.startsWith("<|begin_of_text|>"));
  assert.match(formatTokenDescription(d), /documents 300/);
  const dds = await describeTokenFile(prefix + ".ds", { samples: 1 });
  assert.equal(dds.tokens, m.tokens);
});

test("same seed gives byte-identical files whatever the worker count; another seed reorders", async () => {
  const input = [sharedData("math-qa/se_cstheory_10votes.jsonl.gz")];
  const tmpl = { name: "qa" as const, columns: { question: "input", answer: "output" } };
  const a = tmpDir(), b = tmpDir(), c = tmpDir();
  await tokenizeFiles({ inputs: input, outDir: a, workers: 0, seed: 3, template: tmpl, batchSize: 50 });
  await tokenizeFiles({ inputs: input, outDir: b, workers: 2, seed: 3, template: tmpl, batchSize: 37 });
  await tokenizeFiles({ inputs: input, outDir: c, workers: 0, seed: 4, template: tmpl });
  for (const ext of [".bin", ".idx", ".ds.index", ".manifest.json"]) {
    assert.ok(readFileSync(join(a, "se_cstheory_10votes" + ext)).equals(readFileSync(join(b, "se_cstheory_10votes" + ext))), ext);
  }
  assert.ok(!readFileSync(join(a, "se_cstheory_10votes.bin")).equals(readFileSync(join(c, "se_cstheory_10votes.bin"))));
  // Same multiset of documents.
  const docs = (dir: string) => {
    const r = new MegatronReader(join(dir, "se_cstheory_10votes"));
    const out = Array.from({ length: r.documents }, (_, i) => r.document(i).join(",")).sort();
    r.close();
    return out;
  };
  assert.deepEqual(docs(a), docs(c));
});

test("a token id that does not fit the dtype fails clearly and leaves nothing behind", async () => {
  const out = tmpDir();
  const w = await MegatronWriter.create(join(out, "small"), "uint16");
  await w.add([1, 2, 3]);
  await assert.rejects(w.add([5, 128000], "doc-7"), /doc-7: token id 128000 does not fit dtype uint16/);
  await w.abort();
  assert.deepEqual(readdirSync(out), []);
  const tf = await TokenFileWriter.create(join(out, "t"), { tokenizer: info, seed: 0 });
  await tf.add([1, 2]);
  await assert.rejects(tf.add([-1]), /does not fit dtype int32/);
  await tf.abort();
  assert.deepEqual(readdirSync(out), []);
  // And through tokenize: llama3 ids into uint16.
  await assert.rejects(tokenizeFiles({ inputs: [sharedData("web-nonmath/dolma_cc_en_head-0174.jsonl.gz")], outDir: out, dtype: "uint16", workers: 0 }),
    /does not fit dtype uint16/);
  // Only the task loop's marker folder: no token file, no temp file, no completion marker (the slot's claim stays,
  // as after any failed task, so the next attempt may clear what this one left).
  assert.deepEqual(readdirSync(out).filter((n) => n !== "manifest.json" && n !== ".done"), []);
  assert.deepEqual(readdirSync(join(out, ".done")).filter((n) => !n.endsWith(".claim")), []);
});

test("unknown tokenizer and unreadable tokenizer files are clear errors", () => {
  assert.throws(() => loadTokenizer("llama9"), /unknown tokenizer "llama9": use one of llama3, gpt2/);
  assert.throws(() => loadTokenizer("/nonexistent/tokenizer.json"), /cannot read tokenizer file \/nonexistent\/tokenizer.json: ENOENT/);
  const dir = tmpDir();
  const bad = join(dir, "tokenizer.json");
  execFileSync("sh", ["-c", `printf '{"model": {"type": "Unigram"}}' > ${bad}`]);
  assert.throws(() => loadTokenizer(bad, { noCache: true }), /model type "Unigram" is not supported/);
  const garbage = join(dir, "x.tiktoken");
  execFileSync("sh", ["-c", `printf 'hello world\\n' > ${garbage}`]);
  assert.throws(() => loadTokenizer(garbage), /x.tiktoken: line 1 is not "base64 rank"/);
  assert.throws(() => loadTokenizer("llama3", { bosId: 999999 }), /BOS id 999999 is outside the vocabulary/);
});

test("a user tokenizer.json (the Llama-3 file itself) gives the same ids as the built-in", async () => {
  const { llama3TokenizerJsonPath } = await import("../../lib/tokenizer/load.js");
  const a = loadTokenizer("llama3");
  const b = loadTokenizer(llama3TokenizerJsonPath());
  const s = "Prove that $\\sqrt{2}$ is irrational. Suppose it's rational: p/q in lowest terms.";
  assert.deepEqual(b.encode(s), a.encode(s));
  assert.equal(b.bosId, 128000);
  assert.equal(b.eosId, 128001);
  assert.equal(b.fingerprint, a.fingerprint);
  a.free();
  b.free();
});

test("bad rows are failures with reasons under skip, and errors naming file and row under fail", async () => {
  const out = tmpDir();
  const src = join(tmpDir(), "qa.jsonl");
  execFileSync("sh", ["-c", `printf '%s\\n' '{"id":"a","question":"1+1?","answer":"2"}' '{"id":"b","question":"","answer":"x"}' '{"id":"c","question":"q","answer":"a"}' > ${src}`]);
  const res = await tokenizeFiles({ inputs: [src], outDir: out, workers: 0, onError: "skip", template: { name: "qa" } });
  assert.equal(res.stats.docsIn, 3);
  assert.equal(res.stats.docsOut, 2);
  assert.deepEqual(res.stats.failed, { template_missing_question: 1 });
  assert.equal(res.stats.check(), null);
  const out2 = tmpDir();
  await assert.rejects(tokenizeFiles({ inputs: [src], outDir: out2, workers: 0, template: { name: "qa" } }),
    /qa.jsonl row id b: template_missing_question/);
  assert.ok(!existsSync(join(out2, "qa.bin")));
});

test("a datatrove-only .ds file (no .idx) is read through its .ds.index", async () => {
  const out = tmpDir();
  const w = await TokenFileWriter.create(join(out, "m"), { tokenizer: info, seed: 0, shuffle: false });
  await w.add([128000, 791, 128001]);
  await w.add([128000, 22691, 1917, 128001]);
  await w.finish();
  const idx = readMegatronIndex(join(out, "m"));
  assert.deepEqual(Array.from(idx.lengths), [3, 4]);
  const ends = new BigUint64Array(Uint8Array.from(readFileSync(join(out, "m.ds.index"))).buffer);
  assert.deepEqual(Array.from(ends), [3n, 7n]);
  rmSync(join(out, "m.idx"));
  const d = await describeTokenFile(join(out, "m.ds"), { samples: 2, tokenizer: "llama3" });
  assert.equal(d.format, "datatrove");
  assert.equal(d.dtype, "uint32");
  assert.deepEqual(d.samples.map((x) => x.text), ["<|begin_of_text|>The<|end_of_text|>", "<|begin_of_text|> Hello world<|end_of_text|>"]);
});

test("a .ds file whose size does not match its .ds.index is a clear error naming both sizes", async () => {
  const { truncateSync } = await import("node:fs");
  const out = tmpDir();
  const w = await TokenFileWriter.create(join(out, "m"), { tokenizer: info, seed: 0, shuffle: false });
  await w.add([128000, 791, 128001]);
  await w.finish();
  rmSync(join(out, "m.idx"));
  truncateSync(join(out, "m.bin"), 8); // the .ds symlink points here
  await assert.rejects(describeTokenFile(join(out, "m.ds")), /m\.ds: 8 bytes, the index describes 12/);
});

test("a .idx whose sequence pointers lie outside the .bin is refused when opened (no endless read)", async () => {
  const { writeFileSync } = await import("node:fs");
  const out = tmpDir();
  const w = await MegatronWriter.create(join(out, "p"), "int32");
  await w.add([1, 2]);
  await w.add([3, 4]);
  await w.finish();
  const idx = Buffer.from(readFileSync(join(out, "p.idx")));
  idx.writeBigInt64LE(100n, 34 + 4 * 2 + 8); // pointer of sequence 1: byte 100 of a 16-byte .bin
  writeFileSync(join(out, "p.idx"), idx);
  assert.throws(() => new MegatronReader(join(out, "p")), /sequence 1 \(byte offset 100, 2 tokens\) lies outside/);
});

test("MegatronReader.documentView gives document()'s ids in a reused buffer; a writer's growing buffer writes the same file", async () => {
  const dir = tmpDir("megamath-docview-");
  for (const dtype of ["int32", "uint16"] as const) {
    const prefix = join(dir, dtype);
    const w = await MegatronWriter.create(prefix, dtype);
    // Documents from empty to 300k tokens: the writer's buffer starts at 64 KiB and grows to 8 MiB, so the file is
    // written in flushes of several sizes (and one document larger than the whole buffer).
    const docs: number[][] = [];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (const n of [0, 1, 5000, 17000, 40000, 300000, 3, 70000, 2]) docs.push(Array.from({ length: n }, () => next() % 65536));
    for (const d of docs) await w.add(d);
    await w.finish();
    const r = new MegatronReader(prefix);
    try {
      assert.equal(r.documents, docs.length);
      let shared: ArrayBufferLike | undefined;
      for (const i of [5, 0, 1, 8, 2, 3, 4, 6, 7]) {
        const fresh = r.document(i);
        assert.deepEqual(Array.from(fresh), docs[i], `${dtype} document ${i}`);
        const view = r.documentView(i);
        assert.deepEqual(view, fresh, `${dtype} documentView ${i}`);
        if (i !== 5) assert.equal(view.buffer, shared, "documentView allocated a new buffer for a shorter document");
        shared = view.buffer;
      }
    } finally {
      r.close();
    }
    // The same bytes as one large write of everything.
    const all = Buffer.concat(docs.map((d) => dtype === "int32" ? Buffer.from(new Int32Array(d).buffer) : Buffer.from(new Uint16Array(d).buffer)));
    assert.ok(readFileSync(prefix + ".bin").equals(all), `${dtype}: .bin differs from the concatenated documents`);
  }
});
