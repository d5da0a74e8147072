// A MegaMath-Web-like corpus from real documents: Common Crawl dump names and years, URLs, a math/web label, and
// planted exact duplicates, near-duplicates and benchmark leaks at known rates (recorded in a `planted` column so
// dedup and decontamination can be scored against ground truth).
import type { SourceDoc, SourceSet } from "./sources.js";
import { mulberry32 } from "../../lib/random.js";

export interface CorpusRow {
  id: string;
  text: string;
  url: string | null;
  domain: string | null;
  "cc-path": string;
  source: string;
  label: number;
  /** "" for an ordinary document; "exact-dup:<id>", "near-dup:<id>" or "leak:<benchmark>" when planted. */
  planted: string;
}

export interface GenerateOptions {
  seed: number;
  /** "demo": each real document once (plus planted copies); "remix": documents remixed from paragraphs until
   * `targetBytes` of text, with a realistic length distribution. */
  mode: "demo" | "remix";
  targetBytes?: number;
  /** "remix" only: mean document size in KB (1000 bytes). Unset: the default profile (log-normal around 5 KB,
   * paragraphs appended whole, mean ~9.7 KB). Set: log-normal with sigma 0.55 and this mean, clipped to
   * [0.45, 4.5] x the mean, the last paragraph cut at a word boundary so each document lands on its drawn length.
   * 4.45 gives datatrove's peer corpus (peer-baselines.md: mean 4.45 KB, p10 2.1, median 3.7, p90 7.8, 2-20 KB). */
  docKB?: number;
  exactDupRate?: number;
  nearDupRate?: number;
  leakRate?: number;
}

/** The Common Crawl dumps of MegaMath's 2014-2024 range used to date documents (a spread, not all 99). */
export const DUMPS = [
  "CC-MAIN-2014-15", "CC-MAIN-2014-42", "CC-MAIN-2015-14", "CC-MAIN-2015-40", "CC-MAIN-2016-18", "CC-MAIN-2016-44",
  "CC-MAIN-2017-13", "CC-MAIN-2017-47", "CC-MAIN-2018-17", "CC-MAIN-2018-51", "CC-MAIN-2019-18", "CC-MAIN-2019-47",
  "CC-MAIN-2020-16", "CC-MAIN-2020-50", "CC-MAIN-2021-17", "CC-MAIN-2021-49", "CC-MAIN-2022-21", "CC-MAIN-2022-49",
  "CC-MAIN-2023-14", "CC-MAIN-2023-50", "CC-MAIN-2024-18", "CC-MAIN-2024-46",
];

function pick<T>(r: () => number, xs: T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export function* generateCorpus(set: SourceSet, o: GenerateOptions): Generator<CorpusRow> {
  const r = mulberry32(o.seed);
  const exact = o.exactDupRate ?? 0.02;
  const near = o.nearDupRate ?? 0.02;
  const leak = o.leakRate ?? 0.005;
  const base = o.mode === "demo" ? demoDocs(set, r) : remixDocs(set, r, o.targetBytes ?? 1e9, o.docKB);
  const recent: CorpusRow[] = []; // a window of earlier documents to copy from
  let n = 0;
  for (const doc of base) {
    const row = makeRow(doc, n++, o.seed, r);
    yield row;
    recent.push(row);
    if (recent.length > 512) recent.shift();
    const u = r();
    if (u < exact) {
      const src = pick(r, recent);
      yield { ...makeRow({ ...src, label: src.label as 0 | 1 }, n++, o.seed, r), text: src.text, planted: `exact-dup:${src.id}` };
    } else if (u < exact + near) {
      const src = pick(r, recent);
      yield { ...makeRow({ ...src, label: src.label as 0 | 1 }, n++, o.seed, r), text: perturbWords(src.text, r, 0.03), planted: `near-dup:${src.id}` };
    } else if (u < exact + near + leak && set.leaks.length) {
      const item = pick(r, set.leaks);
      const paras = doc.text.split("\n\n");
      paras.splice(Math.floor(r() * (paras.length + 1)), 0, item.text);
      yield { ...makeRow(doc, n++, o.seed, r), text: paras.join("\n\n"), planted: `leak:${item.benchmark}` };
    }
  }
}

function makeRow(doc: SourceDoc, n: number, seed: number, r: () => number): CorpusRow {
  const dump = pick(r, DUMPS);
  const seg = 1000000000000 + Math.floor(r() * 8999999999999);
  const domain = doc.url ? new URL(doc.url).hostname : null;
  return {
    id: `mmw-${seed}-${String(n).padStart(9, "0")}`,
    text: doc.text,
    url: doc.url,
    domain,
    "cc-path": `crawl-data/${dump}/segments/${seg}.${Math.floor(r() * 100)}/warc/${dump}-${String(Math.floor(r() * 1e5)).padStart(5, "0")}.warc.gz`,
    source: doc.source,
    label: doc.label,
    planted: "",
  };
}

function* demoDocs(set: SourceSet, r: () => number): Generator<SourceDoc> {
  const all = [...set.math, ...set.web];
  // Fisher-Yates with the seeded generator: a stable, mixed order.
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  yield* all;
}

/** Documents assembled from paragraphs of real documents of one class, lengths log-normal around 5 KB (or with
 * mean `docKB`, see GenerateOptions.docKB). */
function* remixDocs(set: SourceSet, r: () => number, targetBytes: number, docKB?: number): Generator<SourceDoc> {
  if (docKB !== undefined && !(docKB > 0)) throw new RangeError(`docKB must be a positive number, got ${docKB}`);
  const paras = {
    1: set.math.flatMap((d) => d.text.split(/\n\s*\n/).filter((p) => p.trim().length > 20).map((p) => ({ p, d }))),
    0: set.web.flatMap((d) => d.text.split(/\n\s*\n|\n/).filter((p) => p.trim().length > 20).map((p) => ({ p, d }))),
  };
  // The sized profile: median = mean / e^(sigma^2 / 2) for a log-normal of that mean.
  const sigma = 0.55;
  const median = docKB === undefined ? 0 : (docKB * 1000) / Math.exp((sigma * sigma) / 2);
  let bytes = 0;
  while (bytes < targetBytes) {
    const label: 0 | 1 = r() < 0.55 ? 1 : 0;
    const pool = paras[label];
    const want = docKB === undefined
      ? Math.min(200_000, Math.max(200, Math.exp(Math.log(5000) + 0.9 * gaussian(r))))
      : Math.min(docKB * 4500, Math.max(docKB * 450, median * Math.exp(sigma * gaussian(r))));
    const first = pick(r, pool);
    const parts = [first.p];
    let len = first.p.length;
    while (len < want) {
      const next = pick(r, pool).p;
      parts.push(next);
      len += next.length + 2;
    }
    let text = parts.join("\n\n");
    if (docKB !== undefined) text = cutAtWord(text, Math.round(want));
    bytes += Buffer.byteLength(text);
    yield { text, source: `remix:${first.d.source}`, url: first.d.url, label };
  }
}

/** `text` cut to at most about `len` code units, at the last whitespace at or before len (never mid-word, and
 * never mid surrogate pair); unchanged when it is not longer. */
export function cutAtWord(text: string, len: number): string {
  if (text.length <= len) return text;
  let i = len;
  while (i > 0 && !/\s/.test(text[i])) i--;
  if (i === 0) {
    i = len; // one long "word": cut anyway, but not between the halves of a surrogate pair
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) i--;
  }
  return text.slice(0, i).trimEnd();
}

/** Replace about `rate` of the words with other words of the document: a near-duplicate at Jaccard ~0.7-0.9. */
export function perturbWords(text: string, r: () => number, rate: number): string {
  const words = text.split(/(\s+)/);
  const tokens = words.filter((_, i) => i % 2 === 0);
  for (let i = 0; i < words.length; i += 2) {
    if (r() < rate) words[i] = pick(r, tokens);
  }
  return words.join("");
}
