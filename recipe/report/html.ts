// report.html: one static file that opens offline. Numbers are rendered into the page with data-key attributes
// (so a test can compare them to report.json), charts are inline SVG, and a Content-Security-Policy forbids every
// request. A tiny inline script records how many resources the page loaded (must be 0) for the browser test.
import type { Report } from "./collect.js";

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const num = (x: number) => (Number.isInteger(x) ? x.toLocaleString("en-US") : x.toFixed(4).replace(/0+$/, "").replace(/\.$/, ""));
const cell = (key: string, v: number) => `<td class="n" data-key="${esc(key)}" data-value="${v}">${num(v)}</td>`;

function bars(values: number[], labels: string[], opts: { width?: number; height?: number; title: string }): string {
  const w = opts.width ?? 640;
  const h = opts.height ?? 180;
  const max = Math.max(1, ...values);
  const bw = w / Math.max(1, values.length);
  const rects = values.map((v, i) => {
    const bh = (v / max) * (h - 30);
    return `<rect x="${(i * bw + 1).toFixed(1)}" y="${(h - 20 - bh).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${bh.toFixed(1)}"><title>${esc(labels[i])}: ${v}</title></rect>`;
  }).join("");
  const ticks = labels.map((l, i) => (i % Math.ceil(labels.length / 10) === 0 ? `<text x="${(i * bw + bw / 2).toFixed(1)}" y="${h - 5}" text-anchor="middle">${esc(l)}</text>` : "")).join("");
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(opts.title)}">${rects}${ticks}</svg>`;
}

export function renderReport(r: Report): string {
  const funnelRows = r.funnel.map((f) => `<tr><td>${esc(f.step)}</td><td>${esc(f.command)}${f.note ? ` <small>(${esc(f.note)})</small>` : ""}</td>
${cell(`funnel.${f.step}.docsIn`, f.docsIn)}${cell(`funnel.${f.step}.docsOut`, f.docsOut)}
<td>${Object.entries(f.removed).map(([k, v]) => `<span data-key="funnel.${esc(f.step)}.removed.${esc(k)}" data-value="${v}">${esc(k)}: ${num(v)}</span>`).join("<br>") || "—"}</td>
<td>${Object.entries(f.failed).map(([k, v]) => `<span data-key="funnel.${esc(f.step)}.failed.${esc(k)}" data-value="${v}">${esc(k)}: ${num(v)}</span>`).join("<br>") || "—"}</td>
${f.tokensOut === undefined ? "<td>—</td>" : cell(`funnel.${f.step}.tokensOut`, f.tokensOut).replace("</td>", f.tokensExact ? "</td>" : "<sup>est.</sup></td>")}
${cell(`funnel.${f.step}.seconds`, f.seconds)}${cell(`funnel.${f.step}.mbPerSec`, f.mbPerSec)}${cell(`funnel.${f.step}.docsPerSec`, f.docsPerSec)}</tr>`).join("\n");
  const others = r.otherSteps.map((o) => `<tr><td>${esc(o.step)}</td><td>${esc(o.command)}</td><td>${esc(o.status)}</td>${cell(`other.${o.step}.seconds`, o.seconds)}</tr>`).join("");
  const steps = r.steps.map((s) => `<li><b>${esc(s.step)}</b> (${esc(s.command)}): <span data-key="steps.${esc(s.step)}.status">${esc(s.status)}</span>${s.note ? ` — ${esc(s.note)}` : ""}${s.about ? `<br><small>${esc(s.about)}</small>` : ""}</li>`).join("\n");
  const hist = r.scoreHistogram
    ? bars(r.scoreHistogram.counts, r.scoreHistogram.counts.map((_, i) => r.scoreHistogram!.edges[i].toFixed(2)), { title: "math_score histogram" })
    : "<p>No score step ran.</p>";
  const curve = (r.thresholdCurve ?? []).map((t) => `<tr><td>${t.threshold}</td>${cell(`threshold.${t.threshold}.kept`, t.kept)}${cell(`threshold.${t.threshold}.share`, t.share)}</tr>`).join("");
  const years = (r.keptByYear ?? []).map((y) => `<tr><td>${esc(y.year)}</td>${cell(`year.${y.year}.scored`, y.scored)}${cell(`year.${y.year}.final`, y.final)}${cell(`year.${y.year}.share`, y.share)}</tr>`).join("");
  const clusters = (r.dedupClusters ?? []).map((c) => `<tr><td>${c.size}</td>${cell(`clusters.${c.size}`, c.clusters)}</tr>`).join("");
  const dd = r.dedup;
  const dedupFigures = dd ? `<p>Clustering <b>${esc(dd.clustering)}</b>: <span data-key="dedup.retained" data-value="${dd.retained ?? ""}">${dd.retained === null ? "—" : num(dd.retained)}</span> of ${dd.docs === null ? "—" : num(dd.docs)} documents retained, ${num(dd.removed)} removed; largest cluster <span data-key="dedup.largestCluster" data-value="${dd.largestCluster ?? ""}">${dd.largestCluster ?? "—"}</span>${dd.greedyBoundRatio !== null ? `; upper bound on retained ${num(dd.upperBound!)}, greedy/bound <span data-key="dedup.greedyBoundRatio" data-value="${dd.greedyBoundRatio}">${dd.greedyBoundRatio.toFixed(4)}</span>` : ""}.</p>
<table><tr><th>cluster size (bin)</th><th>clusters</th></tr>${Object.entries(dd.clusterSizes ?? {}).map(([k, v]) => `<tr><td>${esc(k)}</td>${cell(`dedup.sizes.${k}`, v)}</tr>`).join("")}</table>` : "";
  const decont = (r.decontamination ?? []).map((d) => `<tr><td>${esc(d.benchmark)}</td>${cell(`decont.${d.benchmark}`, d.documents)}</tr>`).join("");
  const mixes = r.mixtures.map((m) => `<h3>${esc(m.name)} — <span data-key="mix.${esc(m.name)}.totalTokens" data-value="${m.totalTokens}">${num(m.totalTokens)}</span> tokens</h3>
<table><tr><th>source</th><th>target</th><th>tokens</th><th>share</th></tr>${m.sources.map((s) => `<tr><td>${esc(s.name)}</td>${cell(`mix.${m.name}.${s.name}.weight`, s.weight)}${cell(`mix.${m.name}.${s.name}.tokens`, s.tokens)}${cell(`mix.${m.name}.${s.name}.share`, s.share)}</tr>`).join("")}</table>`).join("\n");
  const bounds = r.bounds.map((b) => `<tr><td>${esc(b.step)}</td><td>${b.allowEmpty ? "may be empty" : "non-empty"}${b.minKeptShare !== undefined ? `, keeps ≥ <span data-key="bound.${esc(b.step)}.minKeptShare" data-value="${b.minKeptShare}">${num(b.minKeptShare)}</span>` : ""}</td>
${cell(`bound.${b.step}.docsIn`, b.docsIn)}${cell(`bound.${b.step}.docsOut`, b.docsOut)}${cell(`bound.${b.step}.keptShare`, b.keptShare)}<td data-key="bound.${esc(b.step)}.ok">${b.ok ? "within" : "<b>BROKEN</b>"}</td></tr>`).join("\n");
  const diffs = Object.entries(r.differencesFromPaper).map(([k, v]) => `<li><b>${esc(k)}</b>: ${esc(v)}</li>`).join("");
  const fc = r.finalCorpus;
  const final = fc ? `<p>Final corpus: <span data-key="final.docs" data-value="${fc.docs}">${num(fc.docs)}</span> documents, <span data-key="final.bytes" data-value="${fc.bytes}">${num(fc.bytes)}</span> bytes of text${fc.tokens !== undefined ? `, <span data-key="final.tokens" data-value="${fc.tokens}">${num(fc.tokens)}</span> Llama-3 tokens` : ""} in <code>${esc(fc.folder)}</code>.</p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>megamath build report — ${esc(r.recipe)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}svg rect{fill:#3a6ea5}svg text{font-size:10px;fill:#444}
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}small{color:#666}
</style></head><body>
<h1>megamath build report: ${esc(r.recipe)}</h1>
${final}
<h2>Steps</h2><ul>${steps}</ul>
<h2>Document funnel</h2>
<table><tr><th>step</th><th>command</th><th>docs in</th><th>docs out</th><th>removed (reason)</th><th>failed (reason)</th><th>tokens out</th><th>seconds</th><th>MB/s</th><th>docs/s</th></tr>
${funnelRows}</table>
<p><small>Tokens: exact (Llama-3, counted by the tokenize step) for the final corpus; <sup>est.</sup> = bytes × the ${r.tokensPerByte ?? "—"} tokens/byte measured there.</small></p>
<h3>Bounds</h3><p><small>What each step must keep (the recipe's <code>allow-empty</code> and <code>min-kept-share</code>); a step outside its bounds stops the build with its figures.</small></p>
<table><tr><th>step</th><th>expects</th><th>docs in</th><th>docs out</th><th>kept share</th><th>run</th></tr>${bounds || "<tr><td colspan=6>none</td></tr>"}</table>
<h3>Other steps</h3><table><tr><th>step</th><th>command</th><th>status</th><th>seconds</th></tr>${others}</table>
<h2>math_score</h2>${hist}
<table><tr><th>threshold</th><th>kept</th><th>share</th></tr>${curve}</table>
<h2>Kept share per year</h2><table><tr><th>year</th><th>scored</th><th>in final corpus</th><th>share</th></tr>${years}</table>
<h2>Near-duplicate clusters</h2>${dedupFigures}<table><tr><th>cluster size</th><th>clusters</th></tr>${clusters}</table>
<h2>Decontamination hits</h2><table><tr><th>benchmark</th><th>documents removed</th></tr>${decont || "<tr><td colspan=2>none</td></tr>"}</table>
<h2>Mixtures</h2>${mixes || "<p>No mixture step ran.</p>"}
<h2>Where this run differs from the paper</h2><ul>${diffs}</ul>
<p id="resources" data-key="page.resources">pending</p>
<script type="application/json" id="report-data">${JSON.stringify(r).replace(/</g, "\\u003c")}</script>
<script>
// Counts resources the page loaded after it settles (the CSP allows none); the browser test reads this.
window.addEventListener("load", function () {
  document.getElementById("resources").textContent = String(performance.getEntriesByType("resource").length);
});
</script>
</body></html>
`;
}
