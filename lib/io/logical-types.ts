// Parquet logical types that have an Arrow counterpart keep it through the pipeline: TIMESTAMP → Timestamp (unit
// and UTC-ness kept), DATE → DateDay, DECIMAL(p, s) → Decimal128(p, s) holding the exact unscaled integer. Without
// this hyparquet turns them into Date objects and doubles (a DECIMAL(38, 10) loses digits), which then came back
// out as strings and doubles. Reading: the column's schema element is handed to hyparquet stripped of its logical
// annotation, so it decodes the raw stored integers (rawMetadata), which are put straight into Arrow buffers.
// Writing: the Arrow type is mapped back to the same physical and logical Parquet type (parquetLogical).
import { makeData, Timestamp, TimeUnit, DateDay, Decimal, DataType, type Data, type Vector } from "apache-arrow";
import type { FileMetaData, SchemaElement } from "hyparquet";
import type { Values } from "./columns.js";

const UNITS = { MILLIS: TimeUnit.MILLISECOND, MICROS: TimeUnit.MICROSECOND, NANOS: TimeUnit.NANOSECOND } as const;

/** The Arrow type of a flat (leaf, top-level) Parquet column with a logical type we keep, else null. */
export function logicalArrowType(e: SchemaElement): DataType | null {
  const lt = e.logical_type;
  const ct = e.converted_type;
  if (e.type === "INT64" && (lt?.type === "TIMESTAMP" || ct === "TIMESTAMP_MILLIS" || ct === "TIMESTAMP_MICROS")) {
    const unit = lt?.type === "TIMESTAMP" ? UNITS[lt.unit] : ct === "TIMESTAMP_MILLIS" ? TimeUnit.MILLISECOND : TimeUnit.MICROSECOND;
    // Converted types alone (older writers) meant UTC instants.
    const utc = lt?.type === "TIMESTAMP" ? lt.isAdjustedToUTC : true;
    return new Timestamp(unit, utc ? "UTC" : null);
  }
  if (e.type === "INT32" && (lt?.type === "DATE" || ct === "DATE")) return new DateDay();
  if (ct === "DECIMAL" || lt?.type === "DECIMAL") {
    const precision = lt?.type === "DECIMAL" ? lt.precision : e.precision ?? 0;
    const scale = lt?.type === "DECIMAL" ? lt.scale : e.scale ?? 0;
    if (precision >= 1 && precision <= 38 && e.type !== "BOOLEAN") return new Decimal(scale, precision, 128);
  }
  return null;
}

/** A copy of the metadata whose listed top-level columns have no logical annotation, so hyparquet returns the
 * stored integers (or, for decimals in byte arrays, the big-endian bytes). */
export function rawMetadata(m: FileMetaData, names: Set<string>): FileMetaData {
  if (!names.size) return m;
  // Schema elements are depth-first: find the top-level ones by skipping each child's subtree.
  const top = new Set<number>();
  const skip = (i: number): number => {
    let next = i + 1;
    for (let c = 0; c < (m.schema[i].num_children ?? 0); c++) next = skip(next);
    return next;
  };
  for (let i = 1, c = 0; c < (m.schema[0].num_children ?? 0) && i < m.schema.length; c++) {
    top.add(i);
    i = skip(i);
  }
  const schema = m.schema.map((e, i) =>
    top.has(i) && names.has(e.name) ? { ...e, converted_type: undefined, logical_type: undefined } : e);
  return { ...m, schema };
}

function unscaled(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  const b = v as Uint8Array; // big-endian two's complement
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  if (b.length && b[0] & 0x80) x -= 1n << BigInt(8 * b.length);
  return x;
}

/** Rows [a, b) of raw decoded values as Arrow Data of a type from logicalArrowType. */
export function logicalData(type: DataType, values: Values, a: number, b: number): Data {
  const n = b - a;
  let bitmap: Uint8Array | undefined;
  let nulls = 0;
  const isNull = (i: number) => {
    bitmap ??= new Uint8Array((n + 7) >> 3).fill(0xff);
    bitmap[i >> 3] &= ~(1 << (i & 7));
    nulls++;
  };
  let data: BigInt64Array | Int32Array | Uint32Array;
  if (DataType.isTimestamp(type)) {
    data = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[a + i];
      if (v == null) isNull(i);
      else data[i] = BigInt(v as bigint | number);
    }
  } else if (DataType.isDate(type)) {
    data = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[a + i];
      if (v == null) isNull(i);
      else data[i] = Number(v);
    }
  } else {
    data = new Uint32Array(4 * n);
    for (let i = 0; i < n; i++) {
      const v = values[a + i];
      if (v == null) {
        isNull(i);
        continue;
      }
      let x = BigInt.asUintN(128, unscaled(v)); // two's complement, little-endian 32-bit words
      for (let w = 0; w < 4; w++, x >>= 32n) data[4 * i + w] = Number(x & 0xffffffffn);
    }
  }
  return makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data } as never) as Data;
}

/** The Parquet element for an Arrow Timestamp / DateDay / Decimal field, or null for other types. */
export function parquetLogical(name: string, t: DataType): SchemaElement | null {
  const opt = { name, repetition_type: "OPTIONAL" as const };
  if (DataType.isTimestamp(t)) {
    const unit = t.unit === TimeUnit.MILLISECOND ? "MILLIS" : t.unit === TimeUnit.MICROSECOND ? "MICROS" : t.unit === TimeUnit.NANOSECOND ? "NANOS" : null;
    if (!unit) return null; // seconds: no Parquet unit; stays ISO text
    const ct = unit === "MILLIS" ? "TIMESTAMP_MILLIS" as const : unit === "MICROS" ? "TIMESTAMP_MICROS" as const : undefined;
    return { ...opt, type: "INT64", converted_type: t.timezone ? ct : undefined, logical_type: { type: "TIMESTAMP", isAdjustedToUTC: !!t.timezone, unit } };
  }
  if (DataType.isDate(t) && t.unit === 0 /* DateUnit.DAY */) return { ...opt, type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } };
  if (DataType.isDecimal(t) && t.bitWidth === 128) {
    const { precision, scale } = t;
    const physical = precision <= 9 ? { type: "INT32" as const } : precision <= 18 ? { type: "INT64" as const }
      : { type: "FIXED_LEN_BYTE_ARRAY" as const, type_length: 16 };
    return { ...opt, ...physical, converted_type: "DECIMAL", precision, scale, logical_type: { type: "DECIMAL", precision, scale } };
  }
  return null;
}

/** Raw values of a column planned with parquetLogical, in the shape hyparquet-writer takes (bigint for timestamps
 * and decimals — the unscaled integer —, number for dates). */
export function logicalValues(col: Vector): unknown[] {
  const out: unknown[] = new Array(col.length);
  let k = 0;
  for (const d of col.data) {
    const vals = d.values as BigInt64Array | Int32Array | Uint32Array;
    const dec = DataType.isDecimal(d.type);
    for (let i = 0; i < d.length; i++) {
      if (!d.getValid(i)) out[k++] = null;
      else if (dec) {
        const o = 4 * (d.offset + i);
        let x = 0n;
        for (let w = 3; w >= 0; w--) x = (x << 32n) | BigInt(vals[o + w]);
        out[k++] = BigInt.asIntN(128, x);
      } else if (DataType.isTimestamp(d.type)) out[k++] = (vals as BigInt64Array)[d.offset + i];
      else out[k++] = (vals as Int32Array)[d.offset + i];
    }
  }
  return out;
}

/** A Decimal128 value as exact decimal text ("-12.50"), for JSON output. */
export function decimalText(words: Uint32Array, scale: number): string {
  let x = 0n;
  for (let w = 3; w >= 0; w--) x = (x << 32n) | BigInt(words[w]);
  x = BigInt.asIntN(128, x);
  const neg = x < 0n;
  let s = (neg ? -x : x).toString();
  if (scale > 0) {
    s = s.padStart(scale + 1, "0");
    s = `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  }
  return neg ? `-${s}` : s;
}

/** A stored timestamp as ISO 8601 text with all its sub-second digits ("…T22:13:20.123456Z"); no "Z" for a
 * local (not UTC-adjusted) time. */
export function timestampText(raw: bigint, unit: TimeUnit, utc: boolean): string {
  const digits = unit === TimeUnit.MILLISECOND ? 3 : unit === TimeUnit.MICROSECOND ? 6 : 9;
  const perSec = 10n ** BigInt(digits);
  let sec = raw / perSec;
  let frac = raw % perSec;
  if (frac < 0n) {
    frac += perSec;
    sec -= 1n;
  }
  const whole = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return `${whole}.${frac.toString().padStart(digits, "0")}${utc ? "Z" : ""}`;
}
