// Document ids, so that every removed document can name its survivor by the survivor's own id (removed/'s
// dup_of_id), not only by (file, row): stage 1 stores each input's id column (as the reader gives it to every
// stage: the --id-key value, or FILE/ROW), stage 3 looks up the ids of the survivors that removed documents name,
// and writes them beside each input's provenance records; stage 4 adds them to removed/.
//
//   signatures/ids/fFFFFFF.ids       stage 1: the id of every row, in blocks (one per batch)
//   clusters/fFFFFFF.survivor-ids    stage 3: the survivor's id of each provenance record, one block
//
// A block is uint32 words: n, byteLength, n + 1 offsets into its bytes, then the UTF-8 bytes padded to 4.
// Stage 1 copies the bytes of the Arrow id column as they are (no string decoding); stage 3 keeps only the ids of
// named survivors, one input file at a time.
import { DataType } from "apache-arrow";
import { type Batch, getStrings } from "../arrow/batch.js";
import { readRecordChunks, writeRecordFile } from "./recordfile.js";
import { DEDUP_FORMAT_VERSION } from "./params.js";

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8");

/** A block of `rows` ids given as UTF-8 bytes and offsets (offsets[0] may be > 0). */
function block(rows: number, values: Uint8Array, offs: ArrayLike<number>): Uint32Array {
  const base = offs[0], len = offs[rows] - base;
  const out = new Uint32Array(2 + rows + 1 + ((len + 3) >> 2));
  out[0] = rows;
  out[1] = len;
  for (let i = 0; i <= rows; i++) out[2 + i] = offs[i] - base;
  new Uint8Array(out.buffer, (3 + rows) * 4, len).set(values.subarray(base, base + len));
  return out;
}

/** The id column of a batch as blocks (one per Utf8 chunk; other layouts through strings). Null ids are "". */
export function idBlocks(batch: Batch): Uint32Array[] {
  const col = batch.getChild("id");
  if (col && col.data.every((d) => DataType.isUtf8(d.type))) {
    return col.data.map((d) => block(d.length, d.values as Uint8Array, (d.valueOffsets as Int32Array).subarray(0, d.length + 1)));
  }
  const ids = col ? getStrings(batch, "id") : new Array<string | null>(batch.numRows).fill(null);
  return [fromStrings(ids)];
}

export function fromStrings(ids: readonly (string | null)[]): Uint32Array {
  const parts = ids.map((s) => enc.encode(s ?? ""));
  const offs = new Uint32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offs[i + 1] = offs[i] + parts[i].length;
  const bytes = new Uint8Array(offs[parts.length]);
  parts.forEach((p, i) => bytes.set(p, offs[i]));
  return block(parts.length, bytes, offs);
}

/** The ids at `rows` (ascending) of an ids file, by row. Reads the file once, block by block. */
export async function readIdsAt(path: string, rows: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (!rows.length) return out;
  let want = 0, base = 0; // next wanted row; first row of the current block
  // Blocks may span read chunks: gather words until a whole block is there.
  let pend = new Uint32Array(0);
  for await (const chunk of readRecordChunks(path, "ids", 1 << 18)) {
    let words = pend.length ? concat(pend, chunk) : chunk;
    let at = 0;
    while (words.length - at >= 2) {
      const n = words[at], len = words[at + 1], size = 3 + n + ((len + 3) >> 2);
      if (words.length - at < size) break;
      const bytes = new Uint8Array(words.buffer, words.byteOffset + (at + 3 + n) * 4, len);
      while (want < rows.length && rows[want] < base + n) {
        const i = rows[want] - base;
        out.set(rows[want], dec.decode(bytes.subarray(words[at + 2 + i], words[at + 3 + i])));
        want++;
      }
      base += n;
      at += size;
    }
    pend = words.slice(at);
    words = pend;
    if (want === rows.length) break;
  }
  if (want < rows.length) throw new Error(`${path}: no id for row ${rows[want]} (the file has ${base} rows)`);
  return out;
}

function concat(a: Uint32Array, b: Uint32Array): Uint32Array {
  const c = new Uint32Array(a.length + b.length);
  c.set(a);
  c.set(b, a.length);
  return c;
}

export async function writeSurvivorIds(path: string, file: number, inputDigest: string, ids: readonly string[]) {
  return writeRecordFile(path, { kind: "survivor-ids", width: 1, version: DEDUP_FORMAT_VERSION, file, inputDigest }, fromStrings(ids));
}

/** The survivor ids stage 3 wrote for one input (aligned with its provenance records). */
export async function readSurvivorIds(path: string): Promise<string[]> {
  const words: Uint32Array[] = [];
  for await (const c of readRecordChunks(path, "survivor-ids", 1 << 20)) words.push(c);
  const all = words.length === 1 ? words[0] : words.reduce(concat, new Uint32Array(0));
  if (all.length < 2) return [];
  const n = all[0], len = all[1];
  const bytes = new Uint8Array(all.buffer, all.byteOffset + (3 + n) * 4, len);
  return Array.from({ length: n }, (_, i) => dec.decode(bytes.subarray(all[2 + i], all[3 + i])));
}
