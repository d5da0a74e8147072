// Parquet files shaped like Hugging Face chat / reasoning datasets, written with hyparquet-writer from real records
// of ../shared/data (no pyarrow here). The schemas follow what pyarrow writes for a `datasets` feature
// `list: [{content: string, role: string}]`: an OPTIONAL LIST group > REPEATED `list` > OPTIONAL `element` struct.
import { writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { SchemaElement } from "hyparquet";
import { sharedData, sharedJsonl } from "../helpers.js";

const str = (name: string): SchemaElement => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" });

/** A list<struct<fields…>> column's schema elements (3-level list, pyarrow's names). */
export function listOfStruct(name: string, fields: string[]): SchemaElement[] {
  return [
    { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", repetition_type: "OPTIONAL", num_children: fields.length },
    ...fields.map(str),
  ] as SchemaElement[];
}

function structOf(name: string, fields: string[]): SchemaElement[] {
  return [{ name, repetition_type: "OPTIONAL", num_children: fields.length }, ...fields.map(str)] as SchemaElement[];
}

/** Write columns with an explicit schema (top-level elements in column order). */
export function writeParquet(path: string, columns: { name: string; schema: SchemaElement[]; data: unknown[] }[]): void {
  const schema = [{ name: "root", num_children: columns.length }, ...columns.flatMap((c) => c.schema)] as SchemaElement[];
  const buf = parquetWriteBuffer({ schema, columnData: columns.map((c) => ({ name: c.name, data: c.data })) as never, rowGroupSize: 64 });
  writeFileSync(path, new Uint8Array(buf));
}

export type Sharegpt = { from: string; value: string };
export interface DpoRecord { conversations: Sharegpt[]; chosen: Sharegpt; rejected: Sharegpt }

/** LLaMA-Factory's dpo_en_demo (ShareGPT preference pairs, see shared/data/instruct-general/PROVENANCE.md). */
export function dpoRecords(n: number): DpoRecord[] {
  const all = JSON.parse(gunzipSync(readFileSync(sharedData("instruct-general", "dpo_en_demo.json.gz"))).toString("utf8")) as DpoRecord[];
  return all.slice(0, n);
}

/** A chat dataset: `messages` list<struct<from, value>> (the conversation plus the chosen reply), `chosen` and
 * `rejected` struct<from, value>, from real DPO records. */
export function writeDpoChatParquet(path: string, records: DpoRecord[]): void {
  writeParquet(path, [
    { name: "messages", schema: listOfStruct("messages", ["from", "value"]), data: records.map((r) => [...r.conversations, r.chosen]) },
    { name: "chosen", schema: structOf("chosen", ["from", "value"]), data: records.map((r) => r.chosen) },
    { name: "rejected", schema: structOf("rejected", ["from", "value"]), data: records.map((r) => r.rejected) },
  ]);
}

export interface QaRecord { input: string; output: string }

/** Real math.stackexchange questions and answers (shared/data/math-qa/se_math_33votes). */
export function seMathRecords(n: number): QaRecord[] {
  return sharedJsonl("math-qa", "se_math_33votes.jsonl.gz").slice(0, n).map((r) => ({ input: String(r.input), output: String(r.output) }));
}

/** OpenR1-Math-220k's layout: `problem`, `answer` strings and `messages` list<struct<content, role>> whose
 * assistant turn is the reasoning in <think> tags; `generations` list<string>. */
export function writeOpenR1Parquet(path: string, records: QaRecord[]): void {
  const think = (r: QaRecord) => `<think>\n${r.output}\n</think>`;
  writeParquet(path, [
    { name: "problem", schema: [str("problem")], data: records.map((r) => r.input) },
    { name: "answer", schema: [str("answer")], data: records.map(() => null) },
    {
      name: "generations", data: records.map((r) => [think(r)]),
      schema: [
        { name: "generations", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        str("element"),
      ] as SchemaElement[],
    },
    {
      name: "messages", schema: listOfStruct("messages", ["content", "role"]),
      data: records.map((r) => [{ content: r.input, role: "user" }, { content: think(r), role: "assistant" }]),
    },
  ]);
}
