// A model trained and saved here loads in Python fasttext (Debian package python3-fasttext, in Debian's
// /usr/bin/python3 or $MEGAMATH_PYTHON) and Python's predict gives the same labels and probabilities as ours.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { tmpDir } from "../helpers.js";
import { needs, pythonWith } from "../oracles.js";
import { labelledDocs } from "./corpus.js";

test("Python fasttext loads our .bin and predicts the same", { skip: needs("python3-fasttext") }, async () => {
  const dir = tmpDir("ft-python-");
  const docs = labelledDocs().slice(0, 800).map((d) => ({ ...d, text: d.text.slice(0, 800) }));
  const train = join(dir, "train.txt");
  writeFileSync(train, docs.map((d) => `${d.label} ${d.text}`).join("\n") + "\n");
  const m = await trainSupervised(train, { dim: 16, bucket: 20000, wordNgrams: 2, minn: 2, maxn: 4, epoch: 3, thread: 2, seed: 5 });
  const bin = join(dir, "ours.bin");
  await m.save(bin);
  const lines = docs.slice(0, 100).map((d) => d.text);
  const script = `
import fasttext, json, sys
m = fasttext.load_model(sys.argv[1])
lines = json.load(open(sys.argv[2]))
out = []
for l in lines:
    labels, probs = m.predict(l, k=-1)
    out.append([[a, float(b)] for a, b in zip(labels, probs)])
print(json.dumps({"labels": m.get_labels(), "dim": m.get_dimension(), "preds": out}))
`;
  const linesFile = join(dir, "lines.json");
  writeFileSync(linesFile, JSON.stringify(lines));
  const r = spawnSync(pythonWith("python3-fasttext"), ["-c", script, bin, linesFile], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const py = JSON.parse(r.stdout) as { labels: string[]; dim: number; preds: [string, number][][] };
  assert.deepEqual(py.labels, m.labels);
  assert.equal(py.dim, 16);
  lines.forEach((l, i) => {
    const ours = m.predict(l, -1);
    const theirs = new Map(py.preds[i]);
    assert.equal(ours.length, theirs.size);
    // Python returns the float32 values themselves: no print rounding to allow for.
    for (const p of ours) assert.ok(Math.abs(p.prob - theirs.get(p.label)!) <= 1e-6, `doc ${i} ${p.label}: ${p.prob} vs ${theirs.get(p.label)}`);
  });
});
