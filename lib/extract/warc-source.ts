// A WARC file as record batches for the runner: one row per `response` record, with the raw HTTP payload in a
// binary `html` column (decoded and turned into text by the extract stage, in worker threads when there are
// several) and the metadata columns every later stage keeps: id (WARC-Record-ID), url, warc_date, dump, status,
// content type and the charset the HTTP header declares.
import { makeVector } from "apache-arrow";
import { Int32 } from "apache-arrow";
import type { Batch } from "../arrow/batch.js";
import { makeBatch } from "../arrow/batch.js";
import { utf8FromBytes } from "../io/columns.js";
import { InputError } from "../io/errors.js";
import type { ReadOptions } from "../io/documents.js";
import { readWarc, isProblem, type WarcProblem } from "./warc.js";
import { parseHttpResponse } from "./http.js";

export interface WarcSourceOptions {
  /** Common Crawl dump name (CC-MAIN-2020-34); default: from the file path, else the warcinfo record's isPartOf. */
  dump?: string;
  /** Payloads larger than this are kept only up to it (the extract stage skips them). Default 64 MiB. */
  maxRecordBytes?: number;
}

const DUMP = /CC-MAIN-\d{4}-\d{2}(?!\d)/;
const TYPES = new Set(["response", "warcinfo"]);
// Problems that lose a record are failed documents; the others are counted but lose nothing.
const LOSES_RECORD = new Set<WarcProblem["reason"]>(["truncated_record", "record_too_large", "bad_header"]);

export function dumpFromPath(path: string): string | null {
  return DUMP.exec(path)?.[0] ?? null;
}

/** A reader with the runner's signature (file, ReadOptions) → batches. */
export function warcReader(o: WarcSourceOptions = {}) {
  return (file: string, ro: ReadOptions): AsyncIterable<Batch> => readWarcDocuments(file, o, ro);
}

export async function* readWarcDocuments(file: string, o: WarcSourceOptions, ro: ReadOptions): AsyncGenerator<Batch> {
  const maxRows = ro.batchSize ?? 1024;
  const maxBytes = ro.batchBytes ?? 32 * 1024 * 1024;
  let dump = o.dump ?? dumpFromPath(file) ?? "";
  const cols = newCols();
  let bytes = 0;
  let seen = 0;
  for await (const r of readWarc(file, { maxRecordBytes: o.maxRecordBytes, types: TYPES })) {
    if (isProblem(r)) {
      ro.stats?.count(`warc_${r.reason}`);
      if (LOSES_RECORD.has(r.reason)) {
        const err = new InputError(file, `${file}#record ${seen}`, r.reason, r.message);
        if ((ro.onError ?? "fail") === "fail") throw err;
        ro.stats?.fail(err.reason, 1, err.where, err.message);
      }
      continue;
    }
    seen++;
    if (r.type === "warcinfo") {
      if (!dump) dump = DUMP.exec(Buffer.from(r.block).toString("latin1"))?.[0] ?? "";
      continue;
    }
    const http = parseHttpResponse(r.block, o.maxRecordBytes);
    cols.id.push(r.headers.get("warc-record-id")?.replace(/^<|>$/g, "") ?? `${file}#${seen}`);
    cols.url.push(r.headers.get("warc-target-uri")?.replace(/^<|>$/g, "") ?? "");
    cols.warc_date.push(r.headers.get("warc-date") ?? "");
    cols.dump.push(dump);
    cols.http_status.push(http ? http.status : 0);
    cols.content_type.push(http ? http.contentType : "");
    cols.charset_http.push(http ? http.charset : "");
    cols.payload_problem.push(http ? http.problem ?? "" : "no HTTP status line");
    const payload = http ? http.payload : r.block;
    cols.html.push(payload);
    bytes += payload.length;
    if (cols.id.length >= maxRows || bytes >= maxBytes) {
      yield toBatch(cols);
      Object.assign(cols, newCols());
      bytes = 0;
    }
  }
  if (cols.id.length) yield toBatch(cols);
}

function newCols() {
  return {
    id: [] as string[], url: [] as string[], warc_date: [] as string[], dump: [] as string[], http_status: [] as number[],
    content_type: [] as string[], charset_http: [] as string[], payload_problem: [] as string[], html: [] as Uint8Array[],
  };
}

function toBatch(c: ReturnType<typeof newCols>): Batch {
  const html = makeVector(utf8FromBytes(c.html, 0, c.html.length, true) as never);
  return makeBatch({
    id: c.id, url: c.url, warc_date: c.warc_date, dump: c.dump, http_status: Int32Array.from(c.http_status),
    content_type: c.content_type, charset_http: c.charset_http, payload_problem: c.payload_problem, html,
  }, { http_status: new Int32() });
}
