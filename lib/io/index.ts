// Document I/O: read Parquet / JSONL(.gz/.zst) / Arrow IPC into Arrow record batches with `text` and `id`
// columns, write Parquet (zstd) or JSONL(.gz) atomically. See the files next to this one for each format.
import type { RecordBatch } from "apache-arrow";
import { detectFormat } from "./format.js";
import { readParquet } from "./parquet-read.js";
import { readJsonl } from "./jsonl-read.js";
import { readArrow } from "./arrow-read.js";
import type { ReadOptions } from "./documents.js";

export { detectFormat, isDataFile, type FileFormat, type Compression, type DetectedFormat } from "./format.js";
export { expandInputs, globToRegExp } from "./glob.js";
export { openWriter, writeDocuments, type DocumentWriter, type WriterOptions, type OutputFormat } from "./writer.js";
export type { ParquetCodec } from "./parquet-write.js";
export { InputError, OutputError } from "./errors.js";
export { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, DEFAULT_MAX_DOC_BYTES, type ReadOptions } from "./documents.js";
export { zstdBackend, ensureZstd, zstdCompress, zstdDecompress } from "./zstd.js";
export { writeFileAtomic, tempPathFor, isTempName, commitFile } from "./atomic.js";

/** Stream the documents of one file as record batches (bounded by opts.batchSize rows and opts.batchBytes of text),
 * each with Utf8 `text` and `id` first and every other column after them. Bad input throws an InputError naming the
 * file and row/line, or under onError "skip" is counted in opts.stats and skipped. */
export function readDocuments(file: string, opts: ReadOptions = {}): AsyncIterable<RecordBatch> {
  const { format } = detectFormat(file);
  if (format === "parquet") return readParquet(file, opts);
  if (format === "arrow") return readArrow(file, opts);
  return readJsonl(file, opts);
}
