// Byte columns (Arrow Utf8/Binary → Parquet BYTE_ARRAY, PLAIN) written page by page straight from the Arrow
// offsets and data buffers: each page's values (4-byte length + bytes) are copied into one reused buffer and
// compressed in one call. Through hyparquet-writer the same page cost a Uint8Array view per value, a per-value
// append into a buffer that doubles from 1 KiB, a copy of the non-null values and, for columns that might repeat
// values, a full hash of 1000 sampled texts: together about a third of the write next to zstd level 1 (profile
// in README "Parquet write"). The bytes written are exactly hyparquet-writer's (data page v2, same page cuts,
// same header fields, same levels; test/io/parquet-pages.test.ts compares whole files), so page headers and
// level runs are still made by hyparquet-writer's own functions.
import type { Data } from "apache-arrow";
import type { ColumnChunk, CompressionCodec, OffsetIndex } from "hyparquet";
import type { Writer } from "hyparquet-writer/src/types.js";
import { ByteWriter } from "hyparquet-writer";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { writeRleBitPackedHybrid } from "hyparquet-writer/src/encoding.js";

/** Rows from..to of one Arrow Utf8 or Binary chunk (32-bit offsets). */
export interface ByteRun {
  data: Data;
  from: number;
  to: number;
}

const offsetsOf = (d: Data) => d.valueOffsets as Int32Array;
const valuesOf = (d: Data) => d.values as Uint8Array;
const isNull = (d: Data, i: number) => d.nullCount > 0 && !d.getValid(i);

/** True when hyparquet-writer would certainly write these values PLAIN (no dictionary), so they can take the
 * direct path. Its rule: a dictionary is kept only if dictionary values + indexes take at most half the PLAIN
 * bytes (lengths included), after a sampling step that can only say no. Values whose length and 32 edge bytes
 * (start, end; see edgeHash) appear once in the column are certainly distinct, so they all go into any dictionary: when
 * they alone make more than half the PLAIN bytes, the dictionary cannot win. A hash collision only makes this
 * answer false more often (the column then goes through hyparquet-writer, which decides itself), never wrongly
 * true. Reads at most 32 bytes per value; a column of distinct ids or texts passes, one of a few labels does not. */
export function plainIsCertain(runs: ByteRun[]): boolean {
  let rows = 0;
  for (const r of runs) rows += r.to - r.from;
  // An open-addressing table of edge keys and their counts (a Map per value cost more than the hashing).
  let cap = 16;
  while (cap < 2 * rows) cap *= 2;
  const mask = cap - 1;
  const keys = new Int32Array(cap);
  const counts = new Int32Array(cap);
  const slotOf = new Int32Array(rows);
  const sizes = new Int32Array(rows);
  let plainBytes = 0;
  let k = 0;
  for (const { data, from, to } of runs) {
    const offs = offsetsOf(data);
    const bytes = valuesOf(data);
    const nulls = data.nullCount > 0;
    for (let i = from; i < to; i++, k++) {
      if (nulls && !data.getValid(i)) { slotOf[k] = -1; continue; }
      const a = offs[i]!;
      const b = offs[i + 1]!;
      const key = edgeHash(bytes, a, b);
      let slot = key & mask;
      while (counts[slot] && keys[slot] !== key) slot = (slot + 1) & mask;
      keys[slot] = key;
      counts[slot]!++;
      slotOf[k] = slot;
      sizes[k] = b - a + 4;
      plainBytes += b - a + 4;
    }
  }
  let distinct = 0;
  for (let j = 0; j < rows; j++) if (slotOf[j]! >= 0 && counts[slotOf[j]!] === 1) distinct += sizes[j]!;
  return 2 * distinct > plainBytes;
}

/** True when the values average 1 KiB or more: then plainIsCertain (32 bytes read per value) is cheaper than
 * hyparquet-writer's own first step, which hashes 1000 sampled values whole (4.5 MB per row group of web pages);
 * for short values that sample is the cheaper way to the same answer. */
export function longValues(runs: ByteRun[]): boolean {
  let rows = 0;
  let bytes = 0;
  for (const { data, from, to } of runs) {
    rows += to - from;
    bytes += offsetsOf(data)[to]! - offsetsOf(data)[from]!;
  }
  return rows > 0 && bytes >= rows * 1024;
}

/** A key for v[a..b): its length and, for values of 32 bytes or more, their first and last 16 bytes read as 4-byte
 * words; shorter values whole. Values lie end to start in the Arrow buffer, so one value's end and the next one's
 * start share cache lines; a middle sample added a miss per value (7.3 vs 4.9 CPU-ms for 12,288 web pages).
 * Equal values get equal keys, which is all plainIsCertain relies on. The last steps mix high bits into the low
 * ones the table indexes by. */
function edgeHash(v: Uint8Array, a: number, b: number): number {
  const n = b - a;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  if (n < 32) {
    for (let i = a; i < b; i++) h = Math.imul(h ^ v[i]!, 0x01000193);
  } else {
    for (let i = a; i < a + 16; i += 4) h = Math.imul(h ^ (v[i]! | (v[i + 1]! << 8) | (v[i + 2]! << 16) | (v[i + 3]! << 24)), 0x01000193);
    for (let i = b - 16; i < b; i += 4) h = Math.imul(h ^ (v[i]! | (v[i + 1]! << 8) | (v[i + 2]! << 16) | (v[i + 3]! << 24)), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

export interface ByteColumnTarget {
  writer: Writer;
  /** The column's name (a top-level, OPTIONAL BYTE_ARRAY column). */
  name: string;
  codec: CompressionCodec;
  /** The compressor hyparquet-writer would use for `codec` (none for UNCOMPRESSED). */
  compress?: (page: Uint8Array) => Uint8Array;
  /** Page size before compression; 0: one page. */
  pageSize: number;
}

/** One column chunk, PLAIN, as hyparquet-writer's writeColumn writes it for an OPTIONAL BYTE_ARRAY column without
 * statistics: data page v2 pages cut where the value bytes of the page reach pageSize, an offset index when there
 * is more than one page. Returns what writeColumn returns (the footer and offset index are written from it). */
export function writeByteColumn(t: ByteColumnTarget, runs: ByteRun[], scratch: PageScratch): { chunk: ColumnChunk; offsetIndex?: OffsetIndex } {
  const { writer } = t;
  const offsetStart = writer.offset;
  let rows = 0;
  for (const r of runs) rows += r.to - r.from;
  const pages = pageCuts(runs, rows, t.pageSize);
  const locations: OffsetIndex["page_locations"] = [];
  let uncompressedSize = 0;
  let run = 0;
  let at = runs[0]?.from ?? 0; // next row of runs[run]
  for (let p = 0; p < pages.length - 1; p++) {
    const n = pages[p + 1]! - pages[p]!;
    const pageOffset = writer.offset;
    // Definition levels (1 = value, 0 = null) and the PLAIN values of the page's rows.
    const levels = new Uint8Array(n);
    let nulls = 0;
    let size = 0;
    let r = run;
    let i = at;
    for (let j = 0; j < n; j++, i++) {
      while (i >= runs[r]!.to) i = runs[++r]!.from;
      const d = runs[r]!.data;
      if (isNull(d, i)) nulls++;
      else { levels[j] = 1; size += 4 + offsetsOf(d)[i + 1]! - offsetsOf(d)[i]!; }
    }
    const page = scratch.take(size, !t.compress);
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    let o = 0;
    for (let j = 0; j < n; j++, at++) {
      while (at >= runs[run]!.to) at = runs[++run]!.from;
      if (!levels[j]) continue;
      const d = runs[run]!.data;
      const a = offsetsOf(d)[at]!;
      const b = offsetsOf(d)[at + 1]!;
      view.setUint32(o, b - a, true);
      page.set(valuesOf(d).subarray(a, b), o + 4);
      o += 4 + b - a;
    }
    const levelWriter = new ByteWriter(64);
    const levelBytes = writeRleBitPackedHybrid(levelWriter, levels as unknown as number[], 1);
    const compressed = t.compress ? t.compress(page) : page;
    const headerStart = writer.offset;
    writePageHeader(writer, {
      type: "DATA_PAGE_V2",
      uncompressed_page_size: levelBytes + size,
      compressed_page_size: levelBytes + compressed.length,
      data_page_header_v2: {
        num_values: n, num_nulls: nulls, num_rows: n, encoding: "PLAIN",
        definition_levels_byte_length: levelBytes, repetition_levels_byte_length: 0, is_compressed: true,
      },
    });
    uncompressedSize += writer.offset - headerStart + levelBytes + size;
    writer.appendBytes(levelWriter.getBytes());
    writer.appendBytes(compressed);
    locations.push({ offset: BigInt(pageOffset), compressed_page_size: writer.offset - pageOffset, first_row_index: BigInt(pages[p]!) });
  }
  return byteColumnChunk(t, { rows, start: offsetStart, end: writer.offset, uncompressedSize, locations });
}

/** First row of each page and, last, the row count: hyparquet-writer's cut (a page ends before the value that
 * brings its value bytes to pageSize or more, nulls counting 0 bytes, and holds at least one row; no rows, no
 * page). */
/** A written byte column's metadata as hyparquet-writer records it: PLAIN pages, or (with `dataStart`) a
 * dictionary page at `start` followed by RLE_DICTIONARY data pages; an offset index only for more than one page. */
export function byteColumnChunk(t: ByteColumnTarget, w: { rows: number; start: number; end: number; uncompressedSize: number; locations: OffsetIndex["page_locations"]; dataStart?: number }): { chunk: ColumnChunk; offsetIndex?: OffsetIndex } {
  const dictionary = w.dataStart !== undefined;
  const chunk: ColumnChunk = {
    meta_data: {
      type: "BYTE_ARRAY",
      encodings: dictionary ? ["PLAIN", "RLE_DICTIONARY"] : ["PLAIN"],
      path_in_schema: [t.name],
      codec: t.codec,
      num_values: BigInt(w.rows),
      total_compressed_size: BigInt(w.end - w.start),
      total_uncompressed_size: BigInt(w.uncompressedSize),
      data_page_offset: BigInt(w.dataStart ?? w.start),
      ...(dictionary ? { dictionary_page_offset: BigInt(w.start) } : {}),
    },
    file_offset: BigInt(w.start),
  };
  return { chunk, offsetIndex: w.locations.length > 1 ? { page_locations: w.locations } : undefined };
}

function pageCuts(runs: ByteRun[], rows: number, pageSize: number): number[] {
  const cuts = [0];
  if (pageSize) {
    let acc = 0;
    let start = 0;
    let k = 0;
    for (const { data, from, to } of runs) {
      const offs = offsetsOf(data);
      for (let i = from; i < to; i++, k++) {
        const len = isNull(data, i) ? 0 : offs[i + 1]! - offs[i]!;
        acc += len;
        if (acc >= pageSize && k > start) {
          cuts.push(k);
          start = k;
          acc = len;
        }
      }
    }
  }
  if (rows > cuts[cuts.length - 1]!) cuts.push(rows);
  return cuts;
}

/** One buffer for the uncompressed page, grown as needed and reused page after page (the compressor returns
 * a new array). Uncompressed pages are kept by the file sink until the row group is flushed, so they get a fresh
 * array each. */
export class PageScratch {
  private buf = new Uint8Array(0);
  take(size: number, fresh: boolean): Uint8Array {
    if (fresh) return new Uint8Array(size);
    if (this.buf.length < size) this.buf = new Uint8Array(Math.max(size, this.buf.length * 2));
    return this.buf.subarray(0, size);
  }
}
