// JSONL rows from Arrow batches. Strings stay strings (including columns that hold JSON text: they are not
// re-parsed), Int64 becomes a number when it fits in 2^53 and a string otherwise, NaN becomes null.
import { isUtf8 } from "node:buffer";
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

/** One getter per field giving the value JSON.stringify is handed for row i (columns in schema order). */
function jsonGetters(batch: RecordBatch): ((i: number) => unknown)[] {
  return batch.schema.fields.map((f) => {
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
}

/** The batch as JSON lines, one string per row (each ending in "\n"), columns in schema order. */
export function batchToJsonLines(batch: RecordBatch): string[] {
  const fields = batch.schema.fields;
  const n = batch.numRows;
  const getters = jsonGetters(batch);
  const lines = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < fields.length; c++) row[fields[c].name] = getters[c](i);
    lines[i] = JSON.stringify(row, bigints) + "\n";
  }
  return lines;
}

/** The same lines as batchToJsonLines, as UTF-8 bytes: `ends[i]` is where line i ends (after its "\n").
 * Built straight into one buffer: a Utf8 column's valid UTF-8 values are copied byte for byte with JSON's escapes
 * (no decode to a string, no object per row, no re-encode). The bytes equal batchToJsonLines's exactly
 * (test/io/jsonl-bytes.test.ts): field names that an object would reorder or drop (array indexes, duplicates,
 * __proto__) take the string path whole, and a value that is not valid UTF-8 goes through the string path. */
export function batchToJsonBytes(batch: RecordBatch): { bytes: Uint8Array; ends: Int32Array } {
  const fields = batch.schema.fields;
  const n = batch.numRows;
  const ends = new Int32Array(n);
  const names = fields.map((f) => f.name);
  if (new Set(names).size !== names.length || names.some((k) => k === "__proto__" || isArrayIndex(k))) {
    const bufs = batchToJsonLines(batch).map((l) => Buffer.from(l));
    let pos = 0;
    bufs.forEach((b, i) => (ends[i] = pos += b.length));
    return { bytes: Buffer.concat(bufs, pos), ends };
  }
  const sink = new ByteSink(textBytesOf(batch) + n * 64);
  const keys = names.map((k, c) => Buffer.from(`${c ? "," : ""}${JSON.stringify(k)}:`));
  const firstKeys = names.map((k) => Buffer.from(`${JSON.stringify(k)}:`));
  let getters: ((i: number) => unknown)[] | null = null;
  const writers = fields.map((f, c): ((i: number) => boolean) => {
    const col = batch.getChild(f.name)!;
    if (DataType.isUtf8(f.type) && col.data.length === 1) {
      const d = col.data[0];
      const offs = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      return (i) => {
        if (!d.getValid(i)) sink.ascii("null");
        else sink.jsonString(bytes, offs[i], offs[i + 1]);
        return true;
      };
    }
    const get = (getters ??= jsonGetters(batch))[c];
    return (i) => {
      // As inside JSON.stringify(row): a value that stringifies to undefined leaves its key out.
      const s = JSON.stringify(get(i), bigints) as string | undefined;
      if (s === undefined) return false;
      sink.text(s);
      return true;
    };
  });
  for (let i = 0; i < n; i++) {
    sink.byte(0x7b); // {
    let first = true;
    for (let c = 0; c < writers.length; c++) {
      const mark = sink.pos;
      sink.bytes(first ? firstKeys[c] : keys[c]);
      if (writers[c](i)) first = false;
      else sink.pos = mark;
    }
    sink.byte(0x7d); // }
    sink.byte(0x0a);
    ends[i] = sink.pos;
  }
  return { bytes: sink.buf.subarray(0, sink.pos), ends };
}

/** A key JSON.stringify would move to the front of an object (integer-like property names come first). */
function isArrayIndex(k: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < 2 ** 32 - 1;
}

function textBytesOf(batch: RecordBatch): number {
  let n = 0;
  for (const f of batch.schema.fields) {
    if (!DataType.isUtf8(f.type)) continue;
    for (const d of batch.getChild(f.name)!.data) {
      const o = d.valueOffsets as Int32Array;
      n += o[d.length] - o[0];
    }
  }
  return n;
}

const HEX = "0123456789abcdef";
// JSON.stringify's escape for each byte below 0x20 and for '"' and '\\' (0: copied as it is).
const ESCAPES: (Uint8Array | null)[] = Array.from({ length: 256 }, (_, b) => {
  const short: Record<number, string> = { 0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0c: "\\f", 0x0d: "\\r", 0x22: '\\"', 0x5c: "\\\\" };
  if (short[b]) return Buffer.from(short[b]);
  if (b < 0x20) return Buffer.from(`\\u00${HEX[b >> 4]}${HEX[b & 15]}`);
  return null;
});
const NEEDS_ESCAPE = new Uint8Array(256).map((_, b) => (ESCAPES[b] ? 1 : 0));

/** A growing byte buffer. */
class ByteSink {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, size));
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  ascii(s: string): void {
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, "latin1");
  }
  text(s: string): void {
    this.room(3 * s.length);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }
  /** A JSON string literal of the UTF-8 bytes v[a, b); not valid UTF-8: what JSON.stringify of the decoded
   * string (U+FFFD for each bad sequence) gives. */
  jsonString(v: Uint8Array, a: number, b: number): void {
    if (!isUtf8(v.subarray(a, b))) {
      this.text(JSON.stringify(decoder.decode(v.subarray(a, b))));
      return;
    }
    this.room(2 + (b - a));
    let buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    let run = a;
    for (let j = a; j < b; j++) {
      if (NEEDS_ESCAPE[v[j]] === 0) continue;
      if (j > run) {
        buf.set(v.subarray(run, j), p);
        p += j - run;
      }
      const e = ESCAPES[v[j]]!;
      if (p + e.length + (b - j) + 1 > buf.length) {
        this.pos = p;
        this.room(e.length + (b - j) + 1);
        buf = this.buf;
      }
      for (let k = 0; k < e.length; k++) buf[p++] = e[k];
      run = j + 1;
    }
    if (b > run) {
      buf.set(v.subarray(run, b), p);
      p += b - run;
    }
    buf[p++] = 0x22;
    this.pos = p;
  }
}
