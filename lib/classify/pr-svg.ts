// A small standalone SVG of a precision-recall curve (no scripts, fonts or external references), with the
// operating points of chosen thresholds marked, for a quick look at a trained classifier.
import type { ThresholdMetrics } from "./metrics.js";

export interface PrSvgOptions {
  title?: string;
  /** Thresholds to mark on the curve (e.g. 0.4 and 0.5). */
  marks?: ThresholdMetrics[];
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

export function prCurveSvg(curve: ThresholdMetrics[], opts: PrSvgOptions = {}): string {
  const W = opts.width ?? 480, H = opts.height ?? 360;
  const left = 56, right = 16, top = 36, bottom = 48;
  const pw = W - left - right, ph = H - top - bottom;
  const x = (recall: number) => left + recall * pw;
  const y = (precision: number) => top + (1 - precision) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  if (opts.title) parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">${esc(opts.title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    parts.push(`<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${top + ph}" stroke="#ddd"/>`);
    parts.push(`<line x1="${left}" y1="${y(v)}" x2="${left + pw}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(v)}" y="${top + ph + 14}" text-anchor="middle">${fmt(v)}</text>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${left + pw / 2}" y="${H - 10}" text-anchor="middle">recall</text>`);
  parts.push(`<text x="14" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + ph / 2})">precision</text>`);
  const pts = [...curve].sort((a, b) => a.recall - b.recall || b.precision - a.precision)
    .map((m) => `${x(m.recall).toFixed(1)},${y(m.precision).toFixed(1)}`).join(" ");
  parts.push(`<polyline points="${pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  for (const m of opts.marks ?? []) {
    const cx = x(m.recall), cy = y(m.precision);
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="4" fill="#d62728"/>`);
    const label = `t=${m.threshold}: P=${m.precision.toFixed(3)} R=${m.recall.toFixed(3)} F1=${m.f1.toFixed(3)}`;
    const anchor = cx > left + pw * 0.6 ? "end" : "start";
    parts.push(`<text x="${(cx + (anchor === "end" ? -8 : 8)).toFixed(1)}" y="${(cy + 14).toFixed(1)}" text-anchor="${anchor}" fill="#d62728">${esc(label)}</text>`);
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
