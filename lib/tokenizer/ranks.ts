// Byte-level BPE vocabularies in the form tiktoken's WASM core wants: "base64(token bytes) rank" lines, where the
// rank is both the merge priority and the token id. A Hugging Face tokenizer.json (byte-level BPE such as Llama-3)
// converts exactly when merge priority follows id order; that is checked, not assumed.
import { GPT2_PATTERN } from "./pattern.js";

/** What tiktoken needs, plus the facts we record next to token files. */
export interface BpeDefinition {
  /** tiktoken ranks text: one "base64 rank" line per mergeable token. */
  ranks: string;
  /** Special tokens (never produced from text by encodeOrdinary; used for BOS/EOS and decode). */
  specials: Record<string, number>;
  /** Pre-tokenization regex in Rust/Oniguruma syntax. */
  pattern: string;
  /** Largest id + 1 over ranks and specials. */
  vocabSize: number;
}

// GPT-2's reversible byte <-> printable-unicode table used by every HF ByteLevel tokenizer.
function unicodeToByteTable(): Map<string, number> {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const kept = new Set(keep);
  const table = new Map<string, number>();
  for (const b of keep) table.set(String.fromCodePoint(b), b);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!kept.has(b)) table.set(String.fromCodePoint(256 + extra++), b);
  }
  return table;
}

function tokenBytes(token: string, table: Map<string, number>, where: string): Uint8Array {
  const out: number[] = [];
  for (const ch of token) {
    const b = table.get(ch);
    if (b === undefined) throw new Error(`${where}: vocabulary entry ${JSON.stringify(token)} is not byte-level (character ${JSON.stringify(ch)})`);
    out.push(b);
  }
  return Uint8Array.from(out);
}

interface HfTokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean };
  pre_tokenizer?: HfPreTokenizer | null;
  added_tokens?: { id: number; content: string; special?: boolean }[];
}
interface HfPreTokenizer {
  type: string;
  pattern?: { Regex?: string; String?: string };
  pretokenizers?: HfPreTokenizer[];
  use_regex?: boolean;
  add_prefix_space?: boolean;
}

/** The split regex of a byte-level pre-tokenizer: a Split(Regex) followed by ByteLevel(use_regex=false), or a plain
 * ByteLevel(use_regex=true), which means GPT-2's pattern. Anything else is not a tiktoken-compatible tokenizer. */
function splitPatternOf(pre: HfPreTokenizer | null | undefined, where: string): string {
  if (!pre) throw new Error(`${where}: no pre_tokenizer; only byte-level BPE tokenizers (Llama-3, GPT-2 style) are supported`);
  const list = pre.type === "Sequence" ? pre.pretokenizers ?? [] : [pre];
  let pattern: string | undefined;
  let byteLevel = false;
  for (const p of list) {
    if (p.type === "Split" && p.pattern?.Regex !== undefined && pattern === undefined) pattern = p.pattern.Regex;
    else if (p.type === "ByteLevel") {
      byteLevel = true;
      if (p.add_prefix_space) throw new Error(`${where}: ByteLevel add_prefix_space=true is not supported`);
      if (p.use_regex) {
        if (pattern !== undefined) throw new Error(`${where}: both a Split regex and ByteLevel use_regex; not supported`);
        pattern = GPT2_PATTERN;
      }
    } else {
      throw new Error(`${where}: pre-tokenizer "${p.type}" is not supported (only Split(Regex) + ByteLevel)`);
    }
  }
  if (!byteLevel || pattern === undefined) {
    throw new Error(`${where}: not a byte-level BPE pre-tokenizer (need Split(Regex)+ByteLevel or ByteLevel(use_regex))`);
  }
  return pattern;
}

/** Convert a parsed HF tokenizer.json (byte-level BPE) to a tiktoken definition. `where` names the file in errors. */
export function bpeFromTokenizerJson(json: HfTokenizerJson, where: string): BpeDefinition {
  const model = json.model;
  if (!model || model.type !== "BPE" || !model.vocab || !model.merges) {
    throw new Error(`${where}: model type "${model?.type ?? "missing"}" is not supported; need a byte-level BPE model with vocab and merges`);
  }
  if (model.byte_fallback) throw new Error(`${where}: byte_fallback BPE (SentencePiece style) is not supported`);
  const pattern = splitPatternOf(json.pre_tokenizer, where);
  const table = unicodeToByteTable();
  const vocab = model.vocab;
  const entries = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
  const lines: string[] = new Array(entries.length);
  let maxId = -1;
  const singleBytes = new Set<number>();
  for (let i = 0; i < entries.length; i++) {
    const [tok, id] = entries[i];
    const bytes = tokenBytes(tok, table, where);
    if (bytes.length === 1) singleBytes.add(bytes[0]);
    lines[i] = `${Buffer.from(bytes).toString("base64")} ${id}`;
    if (id > maxId) maxId = id;
  }
  if (singleBytes.size !== 256) throw new Error(`${where}: vocabulary lacks ${256 - singleBytes.size} of the 256 single-byte tokens`);
  // tiktoken merges by the rank (= id) of the merged token; HF merges by position in the merge list. They agree when
  // the merged token's id never decreases along the merge list.
  let last = -1;
  for (let i = 0; i < model.merges.length; i++) {
    const m = model.merges[i];
    const [a, b] = typeof m === "string" ? splitMerge(m) : m;
    const id = vocab[a + b];
    if (id === undefined) throw new Error(`${where}: merge ${i} ("${a}" + "${b}") makes a token not in the vocabulary`);
    if (id < last) {
      throw new Error(`${where}: merge order differs from id order at merge ${i}; this BPE cannot run on tiktoken ranks`);
    }
    last = id;
  }
  const specials: Record<string, number> = {};
  for (const t of json.added_tokens ?? []) {
    if (vocab[t.content] === t.id) continue; // an added token that is also a normal BPE entry
    specials[t.content] = t.id;
    if (t.id > maxId) maxId = t.id;
  }
  return { ranks: lines.join("\n") + "\n", specials, pattern, vocabSize: maxId + 1 };
}

function splitMerge(m: string): [string, string] {
  const k = m.indexOf(" ", 1);
  if (k < 0) throw new Error(`bad merge entry ${JSON.stringify(m)}`);
  return [m.slice(0, k), m.slice(k + 1)];
}

/** Parse a tiktoken `.tiktoken` / Meta `tokenizer.model` ranks file, validating every line. */
export function parseTiktokenRanks(text: string, where: string): { ranks: string; count: number; maxRank: number } {
  const lines = text.split("\n");
  let count = 0;
  let maxRank = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const m = /^([A-Za-z0-9+/=]+) (\d+)$/.exec(line);
    if (!m) throw new Error(`${where}: line ${i + 1} is not "base64 rank": ${JSON.stringify(line.slice(0, 60))}`);
    const r = Number(m[2]);
    if (r > maxRank) maxRank = r;
    count++;
  }
  if (count < 256) throw new Error(`${where}: only ${count} ranks; not a tiktoken ranks file`);
  return { ranks: text.endsWith("\n") ? text : text + "\n", count, maxRank };
}
