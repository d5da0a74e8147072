// Describe a token file for `megamath inspect`: counts, a document-length histogram, and sample documents decoded
// back to text. Accepts a Megatron .bin/.idx (or its prefix) and a datatrove .ds (with .ds.index / .ds.metadata).
import { existsSync, readFileSync, openSync, readSync, closeSync, fstatSync } from "node:fs";
import { MegatronReader } from "../formats/megatron.js";
import { manifestPath, type TokenFileManifest } from "../formats/token-file.js";
import { loadTokenizer, type Tokenizer } from "../tokenizer/load.js";

export interface TokenFileDescription {
  path: string;
  format: "megatron" | "datatrove";
  dtype: string;
  documents: number;
  tokens: number;
  lengths: { min: number; mean: number; median: number; p99: number; max: number };
  /** Power-of-two buckets: documents with length in [lo, hi). */
  histogram: { lo: number; hi: number; documents: number }[];
  tokenizer: string | null;
  bos_eos: string | null;
  /** Documents that start with the recorded BOS / end with the recorded EOS. */
  framed: { bos: number; eos: number } | null;
  samples: { index: number; tokens: number; ids: number[]; text: string | null }[];
  manifest: TokenFileManifest | null;
}

export interface DescribeOptions {
  /** Sample documents to decode (default 3). */
  samples?: number;
  /** Tokenizer for decoding when the file has no manifest. */
  tokenizer?: string;
  /** Characters of decoded text per sample (default 400). */
  maxChars?: number;
}

export function tokenFilePrefix(path: string): string {
  return path.replace(/\.(bin|idx|ds|ds\.index|ds\.metadata|manifest\.json)$/, "");
}

export function isTokenFilePath(path: string): boolean {
  return /\.(bin|idx|ds)$/.test(path);
}

interface Source {
  format: "megatron" | "datatrove";
  dtype: string;
  lengths: Int32Array;
  doc(i: number): Uint32Array;
  close(): void;
}

function openDatatrove(prefix: string): Source {
  const where = `${prefix}.ds`;
  let tokenSize = 4;
  if (existsSync(prefix + ".ds.metadata")) {
    const first = readFileSync(prefix + ".ds.metadata", "utf8").split("\n")[0];
    const ts = Number(first.split("|").pop());
    if (ts === 2 || ts === 4) tokenSize = ts;
  }
  const idx = readFileSync(prefix + ".ds.index");
  if (idx.length % 8 !== 0) throw new Error(`${where}.index: size ${idx.length} is not a multiple of 8`);
  const ends = new BigUint64Array(idx.buffer.slice(idx.byteOffset, idx.byteOffset + idx.length));
  const lengths = new Int32Array(ends.length);
  const starts = new Float64Array(ends.length);
  let prev = 0;
  for (let i = 0; i < ends.length; i++) {
    const e = Number(ends[i]);
    if (e < prev) throw new Error(`${where}.index: offsets decrease at document ${i}`);
    starts[i] = prev;
    lengths[i] = e - prev;
    prev = e;
  }
  const fd = openSync(where, "r");
  const size = fstatSync(fd).size;
  if (size !== prev * tokenSize) {
    closeSync(fd);
    throw new Error(`${where}: ${size} bytes, the index describes ${prev * tokenSize}`);
  }
  return {
    format: "datatrove", dtype: tokenSize === 4 ? "uint32" : "uint16", lengths,
    doc(i) {
      const b = Buffer.alloc(lengths[i] * tokenSize);
      readSync(fd, b, 0, b.length, starts[i] * tokenSize);
      const out = new Uint32Array(lengths[i]);
      for (let k = 0; k < out.length; k++) out[k] = tokenSize === 4 ? b.readUInt32LE(k * 4) : b.readUInt16LE(k * 2);
      return out;
    },
    close: () => closeSync(fd),
  };
}

export async function describeTokenFile(path: string, opts: DescribeOptions = {}): Promise<TokenFileDescription> {
  const prefix = tokenFilePrefix(path);
  let src: Source;
  if (existsSync(prefix + ".idx")) {
    const r = new MegatronReader(prefix);
    src = { format: "megatron", dtype: r.index.dtype, lengths: r.index.lengths, doc: (i) => r.document(i), close: () => r.close() };
  } else if (existsSync(prefix + ".ds.index")) {
    src = openDatatrove(prefix);
  } else {
    throw new Error(`${path}: no ${prefix}.idx (Megatron) or ${prefix}.ds.index (datatrove) next to it`);
  }
  try {
    const manifest = existsSync(manifestPath(prefix))
      ? (JSON.parse(readFileSync(manifestPath(prefix), "utf8")) as TokenFileManifest)
      : null;
    const lengths = src.lengths;
    const n = lengths.length;
    const sorted = Float64Array.from(lengths).sort();
    let tokens = 0;
    for (const l of lengths) tokens += l;
    const histogram: TokenFileDescription["histogram"] = [];
    const buckets = new Map<number, number>();
    for (const l of lengths) {
      const b = l <= 0 ? 0 : Math.floor(Math.log2(l));
      buckets.set(b, (buckets.get(b) ?? 0) + 1);
    }
    for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
      histogram.push({ lo: b === 0 ? 0 : 2 ** b, hi: 2 ** (b + 1), documents: buckets.get(b)! });
    }
    const tokName = opts.tokenizer ?? manifest?.tokenizer.name ?? null;
    let tok: Tokenizer | null = null;
    if (tokName) tok = loadTokenizer(tokName);
    const bos = manifest?.bos_eos.bos_id ?? null;
    const eos = manifest?.bos_eos.eos_id ?? null;
    let framed: TokenFileDescription["framed"] = null;
    if (manifest && n <= 200_000) {
      framed = { bos: 0, eos: 0 };
      for (let i = 0; i < n; i++) {
        const d = src.doc(i);
        if (bos !== null && d[0] === bos) framed.bos++;
        if (eos !== null && d[d.length - 1] === eos) framed.eos++;
      }
    }
    const maxChars = opts.maxChars ?? 400;
    const samples: TokenFileDescription["samples"] = [];
    for (let i = 0; i < Math.min(opts.samples ?? 3, n); i++) {
      const ids = src.doc(i);
      let text: string | null = null;
      if (tok) {
        const t = tok.decode(ids);
        text = t.length > maxChars ? t.slice(0, maxChars) + "…" : t;
      }
      samples.push({ index: i, tokens: ids.length, ids: Array.from(ids.subarray(0, 16)), text });
    }
    tok?.free();
    const q = (p: number) => (n ? sorted[Math.min(n - 1, Math.floor(p * (n - 1)))] : 0);
    return {
      path, format: src.format, dtype: src.dtype, documents: n, tokens,
      lengths: { min: n ? sorted[0] : 0, mean: n ? tokens / n : 0, median: q(0.5), p99: q(0.99), max: n ? sorted[n - 1] : 0 },
      histogram, tokenizer: tokName, bos_eos: manifest?.bos_eos.rule ?? null, framed, samples, manifest,
    };
  } finally {
    src.close();
  }
}

export function formatTokenDescription(d: TokenFileDescription): string {
  const L = d.lengths;
  const lines = [
    `${d.path}  (${d.format}, ${d.dtype})`,
    `documents ${d.documents}   tokens ${d.tokens}   tokenizer ${d.tokenizer ?? "unknown (no manifest; pass a tokenizer to decode)"}`,
    `length: min ${L.min}  median ${L.median}  mean ${L.mean.toFixed(1)}  p99 ${L.p99}  max ${L.max}`,
  ];
  if (d.bos_eos) lines.push(`framing: ${d.bos_eos}` + (d.framed ? ` (BOS on ${d.framed.bos}/${d.documents}, EOS on ${d.framed.eos}/${d.documents})` : ""));
  lines.push("length histogram (tokens):");
  const max = Math.max(1, ...d.histogram.map((h) => h.documents));
  for (const h of d.histogram) {
    const bar = "#".repeat(Math.max(1, Math.round((h.documents / max) * 40)));
    lines.push(`  ${`[${h.lo}, ${h.hi})`.padEnd(18)} ${String(h.documents).padStart(8)}  ${bar}`);
  }
  for (const s of d.samples) {
    lines.push(`--- document ${s.index} (${s.tokens} tokens) ids ${s.ids.join(" ")}${s.tokens > s.ids.length ? " …" : ""}`);
    if (s.text !== null) lines.push(s.text);
  }
  return lines.join("\n");
}
