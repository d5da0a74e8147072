// JSONL rows from Arrow batches. Strings stay strings (including columns that hold JSON text: they are not
// re-parsed), Int64 becomes a number when it fits in 2^53 and a string otherwise, NaN becomes null.
import { DataType, TimeUnit, type RecordBatch } from "apache-arrow";
import { decimalText, logicalValues, timestampText } from "./logical-types.js";

const decoder = new TextDecoder();

function jsonValue(v: unknown): unknown {
  if (v == null) return null;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (typeof v === "object" && "toJSON" in (v as object)) return (v as { toJSON(): unknown }).toJSON();
  return v;
}

/** Int64 values inside List/Struct columns reach JSON.stringify as bigints: same rule as top-level ones. */
const bigints = (_k: string, v: unknown) => (typeof v === "bigint" ? jsonValue(v) : v);

/** The batch as JSON lines, one string per row (each ending in "\n"), columns in schema order. */
export function batchToJsonLines(batch: RecordBatch): string[] {
  const fields = batch.schema.fields;
  const n = batch.numRows;
  const getters = fields.map((f) => {
    const col = batch.getChild(f.name)!;
    if (DataType.isUtf8(f.type) && col.data.length === 1) {
      const d = col.data[0];
      const offs = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      return (i: number) => (d.getValid(i) ? decoder.decode(bytes.subarray(offs[i], offs[i + 1])) : null);
    }
    // Exact decimal text (Arrow JS's get gives the unscaled integer), ISO instants and dates.
    if (DataType.isDecimal(f.type)) {
      const scale = f.type.scale;
      return (i: number) => { const v = col.get(i) as Uint32Array | null; return v == null ? null : decimalText(v, scale); };
    }
    if (DataType.isTimestamp(f.type) && f.type.unit !== TimeUnit.SECOND) {
      const raw = logicalValues(col) as (bigint | null)[];
      const { unit, timezone } = f.type;
      return (i: number) => (raw[i] == null ? null : timestampText(raw[i]!, unit, !!timezone));
    }
    if (DataType.isDate(f.type)) {
      return (i: number) => {
        const v = col.get(i) as number | Date | null;
        return v == null ? null : new Date(Number(v)).toISOString().slice(0, 10);
      };
    }
    return (i: number) => jsonValue(col.get(i));
  });
  const lines = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < fields.length; c++) row[fields[c].name] = getters[c](i);
    lines[i] = JSON.stringify(row, bigints) + "\n";
  }
  return lines;
}
