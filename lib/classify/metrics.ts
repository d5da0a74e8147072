// Binary-classifier metrics on a validation split: confusion counts and precision/recall/F1 at a threshold, and
// the precision-recall curve over a grid of thresholds. Conventions (chosen so every point is defined):
// precision is 1 when nothing is predicted positive; recall is 0 when there are no positives; F1 is 0 when
// precision + recall is 0. A document is predicted positive when its score is >= the threshold.

export interface ThresholdMetrics {
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
}

function fromCounts(threshold: number, tp: number, fp: number, fn: number, tn: number): ThresholdMetrics {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const total = tp + fp + fn + tn;
  return { threshold, tp, fp, fn, tn, precision, recall, f1, accuracy: total === 0 ? 0 : (tp + tn) / total };
}

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>): void {
  if (scores.length !== labels.length) {
    throw new Error(`metrics: ${scores.length} scores but ${labels.length} labels`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`metrics: score ${i} is NaN`);
  }
}

/** Confusion counts and P/R/F1 at one threshold. */
export function metricsAt(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>, threshold: number): ThresholdMetrics {
  checkInputs(scores, labels);
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const pred = scores[i] >= threshold;
    if (labels[i]) pred ? tp++ : fn++;
    else pred ? fp++ : tn++;
  }
  return fromCounts(threshold, tp, fp, fn, tn);
}

/** Thresholds 0, 1/steps, ..., 1 (rounded so they print cleanly). */
export function thresholdGrid(steps = 100): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => Math.round((i / steps) * 1e6) / 1e6);
}

/** Metrics at every threshold of `thresholds` (ascending), in one sort of the scores. */
export function prCurve(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>,
  thresholds: number[] = thresholdGrid()): ThresholdMetrics[] {
  checkInputs(scores, labels);
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i]) positives++;
  const desc = [...thresholds].sort((a, b) => b - a);
  const byThreshold = new Map<number, ThresholdMetrics>();
  let k = 0, tp = 0, fp = 0;
  for (const t of desc) {
    while (k < n && scores[order[k]] >= t) {
      if (labels[order[k]]) tp++;
      else fp++;
      k++;
    }
    byThreshold.set(t, fromCounts(t, tp, fp, positives - tp, n - positives - fp));
  }
  return thresholds.map((t) => byThreshold.get(t)!);
}

/** Average precision: sum over positives, ranked by score, of precision at that rank / #positives (ties grouped). */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>): number {
  checkInputs(scores, labels);
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i]) positives++;
  if (positives === 0) return 0;
  let tp = 0, seen = 0, ap = 0, prevRecall = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && scores[order[j]] === scores[order[i]]) {
      if (labels[order[j]]) tp++;
      j++;
    }
    seen = j;
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
    i = j;
  }
  return ap;
}

/** The grid point with the highest F1 (lowest threshold on ties). */
export function bestF1(curve: ThresholdMetrics[]): ThresholdMetrics {
  return curve.reduce((best, m) => (m.f1 > best.f1 ? m : best), curve[0]);
}
