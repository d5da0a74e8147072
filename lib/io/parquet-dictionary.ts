// hyparquet-writer's dictionary choice for a byte column, made from the Arrow buffers, and the dictionary-encoded
// column chunk it then writes. Short columns that repeat (domain, source, labels) went through hyparquet-writer
// as one Uint8Array view per value plus a Map entry per value: with the text columns written directly, they were
// the largest part of the write left beside zstd. Same decision, same bytes (test/io/parquet-pages.test.ts):
//  - a sample of up to 1000 values spread over the chunk says no when the distinct values (told apart by a 32-bit
//    FNV-1a hash of the whole value, so two values with one hash count once) hold over 90% of its bytes;
//  - otherwise the dictionary is built (exact comparison, first occurrence order) and kept only if dictionary
//    values + bit-packed indexes take at most half the PLAIN bytes (4-byte lengths counted on both sides).
import type { ColumnChunk, OffsetIndex } from "hyparquet";
import { ByteWriter } from "hyparquet-writer";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { writeRleBitPackedHybrid } from "hyparquet-writer/src/encoding.js";
import type { Data } from "apache-arrow";
import { byteColumnChunk, type ByteRun, type ByteColumnTarget } from "./parquet-pages.js";

/** A column's dictionary: its values (as offsets into their Arrow chunk) and each row's index (-1: null). */
export interface ByteDictionary {
  data: Data[];
  start: number[];
  end: number[];
  indexes: Int32Array;
}

/** Full-value FNV-1a, as hyparquet-writer hashes byte values. */
function hashBytes(v: Uint8Array, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (let i = a; i < b; i++) h = Math.imul(h ^ v[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(x: Uint8Array, a: number, b: number, y: Uint8Array, c: number, d: number): boolean {
  if (b - a !== d - c) return false;
  for (let i = 0; i < b - a; i++) if (x[a + i] !== y[c + i]) return false;
  return true;
}

/** The dictionary hyparquet-writer would write for these rows, or undefined where it writes them PLAIN. */
export function byteDictionary(runs: ByteRun[]): ByteDictionary | undefined {
  // Row k → (chunk, index in chunk), once.
  let rows = 0;
  for (const r of runs) rows += r.to - r.from;
  const rowData: Data[] = new Array(rows);
  const rowAt = new Int32Array(rows);
  let k = 0;
  for (const { data, from, to } of runs) for (let i = from; i < to; i++, k++) { rowData[k] = data; rowAt[k] = i; }
  const valid = (j: number) => rowData[j]!.nullCount === 0 || rowData[j]!.getValid(rowAt[j]!);
  const span = (j: number): [Uint8Array, number, number] => {
    const offs = rowData[j]!.valueOffsets as Int32Array;
    return [rowData[j]!.values as Uint8Array, offs[rowAt[j]!]!, offs[rowAt[j]! + 1]!];
  };

  // The sample: keyed by hash (null is its own key, of size 0); a key counts with the size it was first seen with.
  const sampleSize = Math.min(rows, 1000);
  const seen = new Map<number | null, number>();
  let sampleDistinct = 0;
  let sampleTotal = 0;
  for (let i = 0; i < sampleSize; i++) {
    const j = sampleSize === 1 ? 0 : Math.floor((i * (rows - 1)) / (sampleSize - 1));
    let key: number | null = null;
    let size = 0;
    if (valid(j)) {
      const [v, a, b] = span(j);
      key = hashBytes(v, a, b);
      size = b - a + 4;
    }
    const first = seen.get(key);
    if (first === undefined) { seen.set(key, size); sampleDistinct += size; }
    sampleTotal += first ?? size;
  }
  if (!sampleTotal || sampleDistinct / sampleTotal > 0.9) return undefined;

  // The exact dictionary.
  const dict: ByteDictionary = { data: [], start: [], end: [], indexes: new Int32Array(rows).fill(-1) };
  const buckets = new Map<number, number[]>();
  let dictBytes = 0;
  let totalBytes = 0;
  let nonNull = 0;
  for (let j = 0; j < rows; j++) {
    if (!valid(j)) continue;
    nonNull++;
    const [v, a, b] = span(j);
    totalBytes += b - a;
    const hash = hashBytes(v, a, b);
    const bucket = buckets.get(hash);
    let index = -1;
    if (bucket) {
      for (const d of bucket) {
        if (sameBytes(dict.data[d]!.values as Uint8Array, dict.start[d]!, dict.end[d]!, v, a, b)) { index = d; break; }
      }
    }
    if (index < 0) {
      index = dict.data.length;
      dict.data.push(rowData[j]!);
      dict.start.push(a);
      dict.end.push(b);
      dictBytes += b - a;
      if (bucket) bucket.push(index);
      else buckets.set(hash, [index]);
    }
    dict.indexes[j] = index;
  }
  const n = dict.data.length;
  const bitWidth = Math.ceil(Math.log2(n));
  const indexSize = Math.ceil((nonNull * bitWidth) / 8);
  if (2 * (dictBytes + n * 4 + indexSize) > totalBytes + nonNull * 4) return undefined;
  return dict;
}

/** The column chunk as hyparquet-writer writes a dictionary-encoded OPTIONAL BYTE_ARRAY column without statistics:
 * a dictionary page (PLAIN values), then data page v2 pages of RLE/bit-packed indexes, cut every pageSize / 4
 * non-null values; an offset index when there is more than one data page. */
export function writeDictionaryColumn(t: ByteColumnTarget, dict: ByteDictionary): { chunk: ColumnChunk; offsetIndex?: OffsetIndex } {
  const { writer } = t;
  const offsetStart = writer.offset;
  const rows = dict.indexes.length;

  // Dictionary page.
  let size = 0;
  for (let d = 0; d < dict.data.length; d++) size += 4 + dict.end[d]! - dict.start[d]!;
  const plain = new Uint8Array(size);
  const view = new DataView(plain.buffer);
  let o = 0;
  for (let d = 0; d < dict.data.length; d++) {
    const a = dict.start[d]!;
    const b = dict.end[d]!;
    view.setUint32(o, b - a, true);
    plain.set((dict.data[d]!.values as Uint8Array).subarray(a, b), o + 4);
    o += 4 + b - a;
  }
  const packed = t.compress ? t.compress(plain) : plain;
  let headerStart = writer.offset;
  writePageHeader(writer, {
    type: "DICTIONARY_PAGE", uncompressed_page_size: size, compressed_page_size: packed.length,
    dictionary_page_header: { num_values: dict.data.length, encoding: "PLAIN" },
  });
  let uncompressedSize = writer.offset - headerStart + size;
  writer.appendBytes(packed);

  // Data pages: every row's definition level, the non-null rows' indexes.
  const dataStart = writer.offset;
  const cuts = [0];
  if (t.pageSize) {
    let acc = 0;
    let start = 0;
    for (let j = 0; j < rows; j++) {
      const len = dict.indexes[j]! < 0 ? 0 : 4;
      acc += len;
      if (acc >= t.pageSize && j > start) { cuts.push(j); start = j; acc = len; }
    }
  }
  if (rows > cuts[cuts.length - 1]!) cuts.push(rows);
  const locations: OffsetIndex["page_locations"] = [];
  for (let p = 0; p < cuts.length - 1; p++) {
    const pageOffset = writer.offset;
    const from = cuts[p]!;
    const to = cuts[p + 1]!;
    const levels = new Uint8Array(to - from);
    const values: number[] = [];
    let max = 0;
    for (let j = from; j < to; j++) {
      const x = dict.indexes[j]!;
      if (x < 0) continue;
      levels[j - from] = 1;
      values.push(x);
      if (x > max) max = x;
    }
    const levelWriter = new ByteWriter(64);
    const levelBytes = writeRleBitPackedHybrid(levelWriter, levels as unknown as number[], 1);
    const page = new ByteWriter();
    const width = Math.ceil(Math.log2(max + 1));
    page.appendUint8(width);
    writeRleBitPackedHybrid(page, values, width);
    const pageBytes = page.getBytes();
    const compressed = t.compress ? t.compress(pageBytes) : pageBytes;
    headerStart = writer.offset;
    writePageHeader(writer, {
      type: "DATA_PAGE_V2",
      uncompressed_page_size: levelBytes + pageBytes.length,
      compressed_page_size: levelBytes + compressed.length,
      data_page_header_v2: {
        num_values: to - from, num_nulls: to - from - values.length, num_rows: to - from, encoding: "RLE_DICTIONARY",
        definition_levels_byte_length: levelBytes, repetition_levels_byte_length: 0, is_compressed: true,
      },
    });
    uncompressedSize += writer.offset - headerStart + levelBytes + pageBytes.length;
    writer.appendBytes(levelWriter.getBytes());
    writer.appendBytes(compressed);
    locations.push({ offset: BigInt(pageOffset), compressed_page_size: writer.offset - pageOffset, first_row_index: BigInt(from) });
  }
  return byteColumnChunk(t, { rows, start: offsetStart, end: writer.offset, uncompressedSize, locations, dataStart });
}
