import { test } from "node:test";
import assert from "node:assert/strict";
import { metricsAt, prCurve, averagePrecision, bestF1, thresholdGrid } from "../../lib/classify/metrics.js";
import { prCurveSvg } from "../../lib/classify/pr-svg.js";

const scores = [0.95, 0.8, 0.6, 0.45, 0.4, 0.3, 0.1, 0.05];
const labels = [1, 1, 0, 1, 0, 1, 0, 0];

test("metricsAt: confusion counts, precision, recall, F1 (>= threshold is positive)", () => {
  const m = metricsAt(scores, labels, 0.4);
  assert.deepEqual([m.tp, m.fp, m.fn, m.tn], [3, 2, 1, 2]);
  assert.equal(m.precision, 3 / 5);
  assert.equal(m.recall, 3 / 4);
  assert.ok(Math.abs(m.f1 - (2 * 0.6 * 0.75) / 1.35) < 1e-12);
  assert.equal(m.accuracy, 5 / 8);
  const none = metricsAt(scores, labels, 1.01);
  assert.equal(none.precision, 1); // documented convention: nothing predicted positive
  assert.equal(none.recall, 0);
  assert.equal(none.f1, 0);
  assert.throws(() => metricsAt([0.1], [1, 0], 0.5), /1 scores but 2 labels/);
  assert.throws(() => metricsAt([NaN], [1], 0.5), /NaN/);
});

test("prCurve equals metricsAt at every grid threshold", () => {
  const grid = thresholdGrid(20);
  const curve = prCurve(scores, labels, grid);
  assert.equal(curve.length, 21);
  for (const point of curve) assert.deepEqual(point, metricsAt(scores, labels, point.threshold));
  assert.equal(curve[0].recall, 1); // threshold 0 takes everything
  assert.equal(bestF1(curve).f1, Math.max(...curve.map((c) => c.f1)));
});

test("averagePrecision: perfect ranking is 1, known value otherwise", () => {
  assert.equal(averagePrecision([0.9, 0.8, 0.2], [1, 1, 0]), 1);
  // ranks of positives: 1,2,4,6 -> precisions 1, 1, 3/4, 4/6
  assert.ok(Math.abs(averagePrecision(scores, labels) - (1 + 1 + 3 / 4 + 4 / 6) / 4) < 1e-12);
});

test("prCurveSvg is a standalone SVG with the curve and the marked thresholds", () => {
  const curve = prCurve(scores, labels);
  const svg = prCurveSvg(curve, { title: "math <classifier>", marks: [metricsAt(scores, labels, 0.4), metricsAt(scores, labels, 0.5)] });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<polyline points="[\d., ]+"/);
  assert.equal((svg.match(/<circle /g) ?? []).length, 2);
  assert.match(svg, /t=0\.4: P=0\.600 R=0\.750/);
  assert.match(svg, /math &lt;classifier&gt;/);
  assert.doesNotMatch(svg, /<script|href=/);
});
