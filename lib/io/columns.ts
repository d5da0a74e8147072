// Build Arrow column Data from decoded values, one copy, no per-value string decoding for text.
// Readers decode a row group (Parquet) or a block of lines (JSONL) into plain arrays, then cut them into batches
// with these builders. Column kinds and the Arrow type each becomes:
//   utf8-bytes  Uint8Array values (Parquet strings, kept as bytes)   -> Utf8
//   utf8        JS strings                                        -> Utf8
//   as-string   anything else (dates, decimals as text, nested values) -> Utf8 holding JSON / ISO text
//   float64 / float32 / int32 / int64 (bigint) / bool / binary      -> the matching Arrow type
import {
  makeData, Data, Utf8, Float64, Float32, Int32, Int64, Bool, Binary, DataType, Field, Schema, Struct, RecordBatch,
} from "apache-arrow";

export type ColumnKind = "utf8-bytes" | "utf8" | "as-string" | "float64" | "float32" | "int32" | "int64" | "bool" | "binary";

export type Values = ArrayLike<unknown>;

const decoder = new TextDecoder();

function nullBitmap(values: Values, start: number, end: number): { bitmap?: Uint8Array; nulls: number } {
  let bitmap: Uint8Array | undefined;
  let nulls = 0;
  const n = end - start;
  for (let i = 0; i < n; i++) {
    if (values[start + i] == null) {
      bitmap ??= new Uint8Array((n + 7) >> 3).fill(0xff);
      bitmap[i >> 3] &= ~(1 << (i & 7));
      nulls++;
    }
  }
  return { bitmap, nulls };
}

/** Turn a non-string value into display text: Date → ISO, bigint → digits, objects/arrays → JSON. */
export function valueAsString(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return decoder.decode(v);
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x));
}

/** Utf8 from byte views (the fast path for Parquet strings): copies the bytes once into one buffer. */
export function utf8FromBytes(values: Values, start: number, end: number, binary = false): Data<Utf8 | Binary> {
  const n = end - start;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[start + i] as Uint8Array | null | undefined;
    if (v != null) total += v.length;
    if (total > 0x7fffffff) throw new RangeError("over 2 GiB of strings in one batch; lower batchBytes");
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    const v = values[start + i] as Uint8Array | null | undefined;
    if (v != null && v.length) data.set(v, offsets[i]);
  }
  const { bitmap, nulls } = nullBitmap(values, start, end);
  const type = binary ? new Binary() : new Utf8();
  return makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsets, data } as never) as unknown as Data<Utf8 | Binary>;
}

/** Utf8 from JS values; non-strings are turned into text with valueAsString. */
export function utf8FromValues(values: Values, start: number, end: number): Data<Utf8> {
  // Encoded straight into one buffer (exact lengths first): no array per value to allocate, copy and collect.
  // Buffer's UTF-8 gives TextEncoder's bytes, lone surrogates included (U+FFFD).
  const n = end - start;
  const strings: (string | null)[] = new Array(n);
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[start + i];
    const s = v == null ? null : valueAsString(v);
    strings[i] = s;
    if (s) total += s.length < 64 && isAscii(s) ? s.length : Buffer.byteLength(s, "utf8");
    if (total > 0x7fffffff) throw new RangeError("over 2 GiB of strings in one batch; lower batchBytes");
    offsets[i + 1] = total;
  }
  const data = Buffer.allocUnsafeSlow(total);
  for (let i = 0; i < n; i++) {
    const s = strings[i];
    if (s) data.write(s, offsets[i], offsets[i + 1] - offsets[i], "utf8");
  }
  const { bitmap, nulls } = nullBitmap(values, start, end);
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsets,
    data: new Uint8Array(data.buffer, data.byteOffset, total) });
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function fixed<T extends DataType>(type: T, Arr: { new (n: number): { [i: number]: unknown } }, values: Values,
  start: number, end: number, conv: (v: unknown) => unknown): Data<T> {
  const n = end - start;
  const out = new Arr(n);
  for (let i = 0; i < n; i++) {
    const v = values[start + i];
    if (v != null) out[i] = conv(v);
  }
  const { bitmap, nulls } = nullBitmap(values, start, end);
  return makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data: out } as never) as Data<T>;
}

function boolData(values: Values, start: number, end: number): Data<Bool> {
  const n = end - start;
  const bits = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (values[start + i]) bits[i >> 3] |= 1 << (i & 7);
  const { bitmap, nulls } = nullBitmap(values, start, end);
  return makeData({ type: new Bool(), length: n, nullCount: nulls, nullBitmap: bitmap, data: bits });
}

/** Rows [start, end) of a decoded column as Arrow Data of the kind's type. */
export function buildColumn(kind: ColumnKind, values: Values, start: number, end: number): Data {
  switch (kind) {
    case "utf8-bytes": return utf8FromBytes(values, start, end);
    case "binary": return utf8FromBytes(values, start, end, true);
    case "utf8":
    case "as-string": return utf8FromValues(values, start, end);
    case "float64": return fixed(new Float64(), Float64Array, values, start, end, Number);
    case "float32": return fixed(new Float32(), Float32Array, values, start, end, Number);
    case "int32": return fixed(new Int32(), Int32Array, values, start, end, Number);
    case "int64": return fixed(new Int64(), BigInt64Array, values, start, end, (v) => BigInt(v as number));
    case "bool": return boolData(values, start, end);
  }
}

/** Total UTF-8 bytes of rows [start, end) of a column (for bounding batches by bytes). */
export function valueBytes(kind: ColumnKind, v: unknown): number {
  if (v == null) return 0;
  if (kind === "utf8-bytes" || kind === "binary") return (v as Uint8Array).length;
  if (typeof v === "string") return v.length; // UTF-16 length: a cheap lower bound of the UTF-8 size
  return 8;
}

/** Assemble named columns into a RecordBatch. */
export function batchFromColumns(cols: { name: string; data: Data }[], length: number): RecordBatch {
  const fields = cols.map((c) => new Field(c.name, c.data.type, true));
  const schema = new Schema(fields);
  const data = makeData({ type: new Struct(fields), length, nullCount: 0, children: cols.map((c) => c.data) });
  return new RecordBatch(schema, data);
}

/** Split `n` rows into consecutive ranges of at most `maxRows` rows and (except single rows) `maxBytes` bytes. */
export function* boundedRanges(n: number, maxRows: number, maxBytes: number, rowBytes: (i: number) => number):
  Generator<[number, number]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const b = rowBytes(i);
    if (i > start && (i - start >= maxRows || bytes + b > maxBytes)) {
      yield [start, i];
      start = i;
      bytes = 0;
    }
    bytes += b;
  }
  if (start < n) yield [start, n];
}
