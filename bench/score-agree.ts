// How far the default (projected-rows) math scores are from fastText's, on a whole corpus:
//   node --import tsx bench/score-agree.ts --model M.bin --input '/tmp/corpus/*.jsonl' [--label __label__MATH]
//     [--native] [--max-docs N]
// Every document is MegaMath-preprocessed as the score stage does it (cut to 1,000,000 UTF-16 units first), then
// scored three ways: `--exact-rows` (fastText's float32 row sums: the same bits as `fasttext predict-prob`, see
// test/classifiers/score-golden.test.ts), the default path (projection.ts; documents over PROJECTED_MAX_IDS ids are
// summed exactly), and a float64 forward pass (float64 row sums and dots: how far each side is from the real
// number). Prints the largest |difference| overall and per document length (input ids), how many exceed 1e-5, and
// the decisions at 0.4 that differ. With --native, also against the native tool's printed probabilities (6 digits,
// so up to 5e-6 apart from its own float near 1).
import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { mkdtempSync, openSync, writeSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expandInputs, readDocuments } from "../lib/io/index.js";
import { FastTextModel } from "../classifiers/fasttext/model.js";
import { OutputLayer } from "../classifiers/fasttext/output.js";
import { IntBuffer } from "../classifiers/fasttext/int-buffer.js";
import type { DenseData } from "../classifiers/fasttext/matrix.js";
import { preprocessToBytes } from "../lib/classify/preprocess.js";
import { truncateText } from "../lib/classify/truncate.js";
import { DEFAULT_MAX_CHARS } from "../lib/classify/training-data.js";

const { values: args } = parseArgs({
  options: {
    model: { type: "string" }, input: { type: "string" }, label: { type: "string", default: "__label__MATH" },
    native: { type: "boolean", default: false }, "max-docs": { type: "string" },
  },
});
if (!args.model || !args.input) throw new Error("give --model M.bin and --input GLOB");
const maxDocs = args["max-docs"] ? Number(args["max-docs"]) : Infinity;

const exact = await FastTextModel.load(args.model);
const handle = exact.shareable();
const projected = FastTextModel.fromShared(handle);
if (!projected.useProjection()) throw new Error(`${args.model}: the score stage would not project this model (exact rows only)`);
if (handle.input.kind !== "dense" || handle.output.kind !== "dense") throw new Error("dense models only");
const input = handle.input as DenseData, wo = (handle.output as DenseData).data;
const dim = input.cols, osz = handle.output.rows;
const label = exact.labelIndex(args.label!);
const output = new OutputLayer(handle.args.loss, handle.output, exact.dictionary.labelCounts());

const dir = mkdtempSync(join(tmpdir(), "megamath-score-agree-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const prepFile = join(dir, "prep.txt");
const fd = args.native ? openSync(prepFile, "w") : -1;

interface Doc { ids: number; exact: number; projected: number; f64: number }
const docs: Doc[] = [];
const words = new IntBuffer(1 << 16);
const h64 = new Float64Array(dim), dots = new Float32Array(osz), unused = new Float32Array(dim);
for (const file of await expandInputs([args.input!])) {
  for await (const b of readDocuments(file)) {
    const col = b.getChild("text")!;
    for (let i = 0; i < b.numRows && docs.length < maxDocs; i++) {
      let text = String(col.get(i) ?? "");
      if (text.length > DEFAULT_MAX_CHARS) text = truncateText(text, DEFAULT_MAX_CHARS);
      const bytes = preprocessToBytes(text).slice();
      if (fd >= 0) writeSync(fd, Buffer.concat([bytes, Buffer.from("\n")]));
      words.clear();
      exact.dictionary.getLine(bytes, 0, bytes.length, true, words, null);
      const n = words.length;
      // float64 forward pass: row sums and dots in float64, then the output layer as fastText computes it
      h64.fill(0);
      for (let k = 0; k < n; k++) {
        const o = words.data[k]! * dim;
        for (let j = 0; j < dim; j++) h64[j] += input.data[o + j]!;
      }
      for (let r = 0; r < osz; r++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += h64[j]! * wo[r * dim + j]!;
        dots[r] = s / n;
      }
      docs.push({
        ids: n,
        exact: exact.labelProbabilityBytes(bytes, 0, bytes.length, label),
        projected: projected.labelProbabilityBytes(bytes, 0, bytes.length, label),
        f64: n ? Math.fround(Math.exp(output.labelScore(unused, label, dots))) : 0,
      });
    }
  }
}
if (fd >= 0) closeSync(fd);

function report(name: string, get: (d: Doc) => number, ref: (d: Doc, i: number) => number): void {
  let max = 0, at = 0, over = 0, flips = 0;
  docs.forEach((d, i) => {
    const diff = Math.abs(get(d) - ref(d, i));
    if (diff > max) { max = diff; at = i; }
    if (diff > 1e-5) over++;
    if ((get(d) >= 0.4) !== (ref(d, i) >= 0.4)) flips++;
  });
  console.log(`${name.padEnd(38)} max |diff| ${max.toExponential(2)} (doc ${at}: ${docs[at]?.ids} ids, p ${ref(docs[at]!, at).toFixed(6)}), ` +
    `${over} over 1e-5, ${flips} decisions at 0.4 differ`);
}
const sorted = docs.map((d) => d.ids).sort((a, b) => a - b);
console.log(`${args.model} (${handle.args.loss}, dim ${dim}, ${osz} output rows) on ${docs.length} documents, ` +
  `input ids per document: median ${sorted[sorted.length >> 1]}, max ${sorted[sorted.length - 1]}`);
report("default (projected) vs --exact-rows", (d) => d.projected, (d) => d.exact);
report("default vs float64 forward pass", (d) => d.projected, (d) => d.f64);
report("--exact-rows vs float64 forward pass", (d) => d.exact, (d) => d.f64);
if (args.native) {
  const native = execFileSync("fasttext", ["predict-prob", args.model, prepFile, "-1"], { maxBuffer: 1 << 30 }).toString()
    .trimEnd().split("\n").map((l) => { const t = l.split(" "); const k = t.indexOf(args.label!); return k < 0 ? 0 : Number(t[k + 1]); });
  if (native.length !== docs.length) throw new Error(`native printed ${native.length} lines for ${docs.length} documents`);
  report("--exact-rows vs native (6 digits)", (d) => d.exact, (_, i) => native[i]!);
  report("default vs native (6 digits)", (d) => d.projected, (_, i) => native[i]!);
}
console.log("by input ids per document (default vs --exact-rows | --exact-rows vs float64):");
for (const [lo, hi] of [[0, 4096], [4096, 16384], [16384, 65536], [65536, 262144], [262144, Infinity]]) {
  const part = docs.filter((d) => d.ids >= lo && d.ids < hi);
  if (!part.length) continue;
  const max = (f: (d: Doc) => number) => part.reduce((m, d) => Math.max(m, f(d)), 0);
  console.log(`  [${lo}, ${hi}): ${String(part.length).padStart(6)} docs, ${max((d) => Math.abs(d.projected - d.exact)).toExponential(2)} | ` +
    `${max((d) => Math.abs(d.exact - d.f64)).toExponential(2)}`);
}
