// Driving the native fastText CLI (Debian package `fasttext`, the reference; tests gate on needs("fasttext") from
// ../oracles.ts) and comparing its output to ours.
import { execFileSync } from "node:child_process";
import type { FastTextModel } from "../../classifiers/fasttext/model.js";

/** `fasttext supervised` with the given flags; returns the .bin path. */
export function nativeTrain(input: string, output: string, flags: Record<string, string | number>): string {
  const args = ["supervised", "-input", input, "-output", output, "-verbose", "0"];
  for (const [k, v] of Object.entries(flags)) args.push(`-${k}`, String(v));
  execFileSync("fasttext", args, { stdio: ["ignore", "ignore", "pipe"] });
  return `${output}.bin`;
}

/** `fasttext predict-prob model file k`, parsed: one Map label -> printed probability per input line. */
export function nativePredict(model: string, file: string, k = -1): Map<string, number>[] {
  const out = execFileSync("fasttext", ["predict-prob", model, file, String(k)], { maxBuffer: 1 << 30 }).toString("utf8");
  const lines = out.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => {
    const m = new Map<string, number>();
    const parts = l.split(" ").filter((x) => x !== "");
    for (let i = 0; i + 1 < parts.length; i += 2) m.set(parts[i]!, Number(parts[i + 1]));
    return m;
  });
}

/** The largest error the CLI's printing can hide: it prints 6 significant digits (std::cout default). */
export function printTolerance(v: number): number {
  if (v === 0) return 0;
  return 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(v))) - 5);
}

export interface Comparison {
  docs: number;
  maxAbsDiff: number;
  /** documents where |ours - native| exceeded print rounding + 1e-7 */
  beyondPrint: number;
  labelSetMismatches: number;
  top1Mismatches: number;
}

/** Compare our predict(k) on each line with the native output for the same lines. */
export function compareWithNative(model: FastTextModel, lines: string[], native: Map<string, number>[], k = -1): Comparison {
  if (lines.length !== native.length) throw new Error(`native printed ${native.length} lines for ${lines.length} inputs`);
  const c: Comparison = { docs: lines.length, maxAbsDiff: 0, beyondPrint: 0, labelSetMismatches: 0, top1Mismatches: 0 };
  lines.forEach((line, i) => {
    const ours = model.predict(line, k);
    const theirs = native[i]!;
    if (ours.length !== theirs.size || ours.some((p) => !theirs.has(p.label))) {
      c.labelSetMismatches++;
      return;
    }
    let bad = false;
    for (const p of ours) {
      const t = theirs.get(p.label)!;
      const d = Math.abs(p.prob - t);
      c.maxAbsDiff = Math.max(c.maxAbsDiff, d);
      if (d > printTolerance(t) + 1e-7) bad = true;
    }
    if (bad) c.beyondPrint++;
    // The top label must agree unless the two best are equal within print precision.
    const first = [...theirs.entries()][0];
    if (first && ours[0]!.label !== first[0] && Math.abs(ours[0]!.prob - first[1]) > printTolerance(first[1]) + 1e-7) c.top1Mismatches++;
  });
  return c;
}
