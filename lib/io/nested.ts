// Nested columns (Parquet LIST and group columns, e.g. a chat `messages` list<struct<role, content>>) as Arrow List /
// Struct columns, and the way back for the Parquet writer. hyparquet assembles a nested column into plain JS values
// (arrays, objects); these are typed with the Arrow type read off the Parquet schema, so the column travels through
// the stages as a real List<Struct<…>> and is written back with the same shape.
// A MAP (string or integer keys) becomes an Arrow Map_ and is written back as a MAP. Shapes we do not map (VARIANT,
// maps with other keys, repeated fields outside a LIST/MAP annotation) return null: the reader then keeps its old
// behaviour for them, one JSON text per row.
import {
  DataType, Field, List, Map_, Struct, Utf8, Binary, Float64, Float32, Int32, Int64, Bool, vectorFromArray, type Data,
} from "apache-arrow";
import type { SchemaElement, SchemaTree } from "hyparquet";
import { leafKind } from "./parquet-file.js";
import { valueAsString, type ColumnKind, type Values } from "./columns.js";

const LEAF_TYPES: Record<ColumnKind, () => DataType> = {
  "utf8-bytes": () => new Utf8(), utf8: () => new Utf8(), "as-string": () => new Utf8(), binary: () => new Binary(),
  float64: () => new Float64(), float32: () => new Float32(), int32: () => new Int32(), int64: () => new Int64(),
  bool: () => new Bool(),
};

// The same test hyparquet uses to assemble a list (so our type always matches the values it produces).
function isList(t: SchemaTree): boolean {
  const e = t.element;
  return e.converted_type === "LIST" && t.children.length === 1 && t.children[0].children.length <= 1 &&
    t.children[0].element.repetition_type === "REPEATED";
}

// hyparquet's test for a map it assembles (into a plain object keyed by the keys' text).
function isMap(t: SchemaTree): boolean {
  const kv = t.children[0];
  return t.element.converted_type === "MAP" && t.children.length === 1 && kv.children.length === 2 &&
    kv.element.repetition_type === "REPEATED" && kv.children.some((c) => c.element.name === "key") &&
    kv.children.every((c) => c.element.repetition_type !== "REPEATED");
}

/** The Arrow type of a Parquet schema subtree, or null when we do not map its shape. */
export function arrowTypeOf(t: SchemaTree): DataType | null {
  const e = t.element;
  if (isMap(t)) {
    const kv = t.children[0];
    const k = kv.children.find((c) => c.element.name === "key")!;
    const v = kv.children.find((c) => c.element.name === "value");
    const key = leafType(k);
    // hyparquet hands keys back as object keys (text): only text and integer keys convert back exactly.
    if (!key || !(DataType.isUtf8(key) || DataType.isInt(key)) || !v) return null;
    const value = arrowTypeOf(v);
    if (!value) return null;
    const entries = new Struct([new Field("key", key, false), new Field("value", value, true)] as Field[]);
    return new Map_(new Field("entries", entries, false) as never);
  }
  if (isList(t)) {
    const rep = t.children[0];
    const item = rep.children.length === 1 ? rep.children[0] : rep; // 3-level list, or legacy 2-level of primitives
    const child = item === rep ? leafType(rep) : arrowTypeOf(item);
    return child ? new List(new Field("element", child, true)) : null;
  }
  if (e.repetition_type === "REPEATED" || e.converted_type === "MAP" || e.converted_type === "MAP_KEY_VALUE" ||
    e.logical_type?.type === "MAP" || e.logical_type?.type === "VARIANT" || e.logical_type?.type === "LIST") return null;
  if (t.children.length === 0) return leafType(t);
  const fields: Field[] = [];
  for (const c of t.children) {
    const ct = arrowTypeOf(c);
    if (!ct) return null;
    fields.push(new Field(c.element.name, ct, true));
  }
  return new Struct(fields);
}

function leafType(t: SchemaTree): DataType | null {
  return t.children.length ? null : LEAF_TYPES[leafKind(t)]();
}

/** Parquet stores signed integers of up to 32 bits as INT32; wider or unsigned 32-bit ones need INT64. */
function storedAsInt32(type: DataType): boolean {
  return DataType.isInt(type) && (type.bitWidth < 32 || (type.bitWidth === 32 && type.isSigned));
}

/** Whether an Arrow type is one this module builds and writes (a List or Struct, at any depth). */
export function isNestedType(t: DataType): boolean {
  return DataType.isList(t) || DataType.isStruct(t) || DataType.isMap(t);
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A decoded JS value in the exact form apache-arrow's builders take for `type`. */
function forBuilder(v: unknown, type: DataType): unknown {
  if (v == null) return null;
  if (DataType.isList(type)) {
    if (!Array.isArray(v)) return null;
    const child = type.children[0].type;
    return v.map((x) => forBuilder(x, child));
  }
  if (DataType.isMap(type)) {
    if (typeof v !== "object") return null;
    const [kf, vf] = type.children[0].type.children;
    const entries = v instanceof Map ? [...v] : Object.entries(v as object);
    return new Map(entries.map(([k, x]) => [forBuilder(k, kf.type), forBuilder(x, vf.type)]));
  }
  if (DataType.isStruct(type)) {
    if (typeof v !== "object") return null;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of type.children) out[f.name] = forBuilder(o[f.name], f.type);
    return out;
  }
  if (DataType.isUtf8(type)) return typeof v === "string" ? v : v instanceof Uint8Array ? decoder.decode(v) : valueAsString(v);
  if (DataType.isBinary(type)) return v instanceof Uint8Array ? v : encoder.encode(valueAsString(v));
  if (DataType.isBool(type)) return Boolean(v);
  if (DataType.isInt(type) && type.bitWidth === 64) {
    if (typeof v === "bigint") return v;
    return typeof v === "string" && /^-?\d+$/.test(v) ? BigInt(v) : BigInt(Math.trunc(Number(v))); // map keys come as text
  }
  return typeof v === "bigint" ? Number(v) : Number(v);
}

/** Rows [start, end) of assembled nested values as Arrow Data of `type`. */
export function nestedData(type: DataType, values: Values, start: number, end: number): Data {
  const rows = new Array(end - start);
  for (let i = start; i < end; i++) rows[i - start] = forBuilder(values[i], type);
  const vec = (vectorFromArray as unknown as (v: unknown[], t: DataType) => { data: readonly Data[] })(rows, type);
  if (vec.data.length !== 1) throw new Error(`nested column built into ${vec.data.length} chunks, expected 1`);
  return vec.data[0];
}

// ---- writing back to Parquet ----

/** Parquet schema elements (the column's own, then its subtree in depth-first order) for a List/Struct Arrow
 * field: lists use the standard 3-level layout (`name` LIST > repeated `list` > `element`). */
export function parquetElements(name: string, type: DataType): SchemaElement[] {
  const opt = { name, repetition_type: "OPTIONAL" as const };
  if (DataType.isList(type)) {
    return [
      { ...opt, converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1 },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      ...parquetElements("element", type.children[0].type),
    ] as SchemaElement[];
  }
  if (DataType.isMap(type)) {
    const [kf, vf] = type.children[0].type.children;
    const [key, ...keyChildren] = parquetElements("key", kf.type);
    return [
      { ...opt, converted_type: "MAP", logical_type: { type: "MAP" }, num_children: 1 },
      { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
      { ...key, repetition_type: "REQUIRED" }, ...keyChildren,
      ...parquetElements("value", vf.type),
    ] as SchemaElement[];
  }
  if (DataType.isStruct(type)) {
    return [{ ...opt, num_children: type.children.length }, ...type.children.flatMap((f) => parquetElements(f.name, f.type))];
  }
  if (DataType.isBinary(type)) return [{ ...opt, type: "BYTE_ARRAY" }];
  if (DataType.isFloat(type)) return [{ ...opt, type: type.precision === 2 ? "DOUBLE" : "FLOAT" }];
  if (DataType.isInt(type)) return [{ ...opt, type: storedAsInt32(type) ? "INT32" : "INT64" }];
  if (DataType.isBool(type)) return [{ ...opt, type: "BOOLEAN" }];
  // Utf8, and anything else (timestamps, maps, …) as its text.
  return [{ ...opt, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } }];
}

/** An Arrow value of a List/Struct column (Vector, StructRow) as the plain arrays/objects hyparquet-writer
 * encodes, with leaves converted to match parquetElements. */
export function plainNested(v: unknown, type: DataType): unknown {
  if (v == null) return null;
  if (DataType.isList(type)) {
    const child = type.children[0].type;
    const items = Array.isArray(v) ? v : [...(v as Iterable<unknown>)];
    return items.map((x) => plainNested(x, child));
  }
  if (DataType.isMap(type)) {
    // Entries as {key, value} (hyparquet-writer's MAP input), keeping the keys' type.
    const [kf, vf] = type.children[0].type.children;
    const entries = v instanceof Map ? [...v] : [...(v as Iterable<[unknown, unknown]>)];
    return entries.map(([k, x]) => ({ key: plainNested(k, kf.type), value: plainNested(x, vf.type) }));
  }
  if (DataType.isStruct(type)) {
    const out: Record<string, unknown> = {};
    for (const f of type.children) out[f.name] = plainNested((v as Record<string, unknown>)[f.name], f.type);
    return out;
  }
  if (DataType.isBinary(type)) return v;
  if (DataType.isFloat(type)) return Number(v);
  if (DataType.isInt(type)) return storedAsInt32(type) ? Number(v) : BigInt(v as number | bigint);
  if (DataType.isBool(type)) return Boolean(v);
  return typeof v === "string" ? v : valueAsString(typeof v === "object" && "toJSON" in (v as object) ? (v as { toJSON(): unknown }).toJSON() : v);
}
