// Arrow IPC reader (file or stream format). Batches are passed through with their own buffers: only the text
// and id columns are renamed/converted and oversized batches are sliced (zero-copy) to the row/byte bounds.
import { createReadStream, type ReadStream } from "node:fs";
import { RecordBatchReader, DataType, type RecordBatch, type Data } from "apache-arrow";
import { batchFromColumns, boundedRanges, utf8FromValues } from "./columns.js";
import { reportBad, idPrefix, DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, type ReadOptions } from "./documents.js";
import { InputError, errorMessage } from "./errors.js";
import { isNestedType } from "./nested.js";
import { closeReadStream } from "./close-stream.js";

function single(batch: RecordBatch, name: string): Data {
  return batch.getChild(name)!.data[0];
}

/** Dictionary-encoded strings (apache-arrow JS's default for string vectors, pyarrow's for categoricals) are
 * decoded to plain Utf8, the type every stage and the Parquet writer take. */
function isDictString(t: DataType): boolean {
  return DataType.isDictionary(t) && (DataType.isUtf8(t.dictionary) || DataType.isLargeUtf8(t.dictionary));
}

function plainStrings(batch: RecordBatch, name: string): Data {
  const col = batch.getChild(name)!;
  return utf8FromValues(Array.from(col as Iterable<string | null>), 0, col.length);
}

export async function* readArrow(path: string, opts: ReadOptions = {}): AsyncGenerator<RecordBatch> {
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    yield* readArrowFrom(src, path, opts);
  } finally {
    await closeReadStream(src); // the Arrow reader leaves it open after a bad header or an early stop
  }
}

async function* readArrowFrom(src: ReadStream, path: string, opts: ReadOptions): AsyncGenerator<RecordBatch> {
  const textKey = opts.textKey ?? "text";
  const idKey = opts.idKey ?? "id";
  const base = idPrefix(path, opts);
  const maxRows = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_ROWS);
  const maxBytes = Math.max(1, opts.batchBytes ?? DEFAULT_BATCH_BYTES);
  let reader;
  try {
    reader = await RecordBatchReader.from(src);
    await reader.open();
  } catch (e) {
    reportBad(opts, new InputError(path, path, "corrupt_arrow", `not a readable Arrow IPC file: ${errorMessage(e)}`), 1);
    return;
  }
  let row = 0;
  try {
    for await (const batch of reader as AsyncIterable<RecordBatch>) {
      const n = batch.numRows;
      const start = row;
      row += n;
      if (n === 0) continue;
      const where = `${path}#${start}`;
      const names = batch.schema.fields.map((f) => f.name);
      const textField = batch.schema.fields.find((f) => f.name === textKey);
      if (!textField) {
        reportBad(opts, new InputError(path, where, "missing_text_column",
          `no text column "${textKey}" (columns: ${names.join(", ") || "none"}); pick one with --text-key`), n);
        continue;
      }
      let text = single(batch, textKey);
      if (isDictString(textField.type)) {
        text = plainStrings(batch, textKey);
      } else if (DataType.isLargeUtf8(textField.type)) {
        text = utf8FromValues(batch.getChild(textKey)!.toArray() as string[], 0, n);
      } else if (isNestedType(textField.type)) {
        // A nested main column (a chat `messages` list) is the document's text as JSON, as the Parquet reader does.
        const col = batch.getChild(textKey)!;
        text = utf8FromValues(Array.from({ length: n }, (_, i) => {
          const v = col.get(i) as { toJSON(): unknown } | null;
          return v == null ? null : v.toJSON();
        }), 0, n);
      } else if (!DataType.isUtf8(textField.type)) {
        reportBad(opts, new InputError(path, where, "text_not_string",
          `text column "${textKey}" has type ${textField.type}, expected Utf8`), n);
        continue;
      }
      const idField = batch.schema.fields.find((f) => f.name === idKey);
      let id: Data;
      if (idField && DataType.isUtf8(idField.type) && single(batch, idKey).nullCount === 0) {
        id = single(batch, idKey);
      } else if (idField && isDictString(idField.type) && single(batch, idKey).nullCount === 0) {
        id = plainStrings(batch, idKey);
      } else {
        const col = idField ? batch.getChild(idKey)! : null;
        const ids = new Array<string>(n);
        for (let i = 0; i < n; i++) {
          const v = col?.get(i);
          ids[i] = v == null ? `${base}/${start + i}` : String(v);
        }
        id = utf8FromValues(ids, 0, n);
      }
      const wanted = opts.columns ? new Set(opts.columns) : null;
      const cols: { name: string; data: Data }[] = [{ name: "text", data: text }, { name: "id", data: id }];
      for (const name of names) {
        if (name === textKey || name === idKey || (wanted && !wanted.has(name))) continue;
        const out = name === "text" || name === "id" ? `${name}_original` : name;
        const field = batch.schema.fields.find((f) => f.name === name)!;
        cols.push({ name: out, data: isDictString(field.type) ? plainStrings(batch, name) : single(batch, name) });
      }
      const offs = text.valueOffsets as Int32Array;
      for (const [a, b] of boundedRanges(n, maxRows, maxBytes, (i) => offs[i + 1] - offs[i])) {
        yield batchFromColumns(cols.map((c) => ({ name: c.name, data: a === 0 && b === n ? c.data : c.data.slice(a, b - a) })), b - a);
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    reportBad(opts, new InputError(path, `${path}#${row}`, "corrupt_arrow", `cannot read past row ${row}: ${errorMessage(e)}`), 1);
  }
}
