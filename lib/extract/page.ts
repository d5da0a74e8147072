// One WARC response payload → a document or a removal reason. Pure and synchronous, so the extract stage runs it
// inline or in worker threads with the same result.
import { decodeHtml, looksBinary } from "./charset.js";
import { htmlToText, type HtmlTextOptions } from "./html-text.js";
import { parseContentType } from "./http.js";

export interface PageOptions extends HtmlTextOptions {
  /** Pages with a larger payload are removed as html_too_large. Default 8 MiB. */
  maxHtmlBytes?: number;
  /** Keep non-2xx responses. Default false (removed as http_status). */
  keepAllStatuses?: boolean;
}

export interface PageInput {
  status: number;
  contentType: string;
  charsetHttp: string;
  problem: string;
  payload: Uint8Array;
}

export interface PageResult {
  text: string | null;
  /** Why the page was removed (when text is null). */
  reason?: string;
  charset: string;
  /** Counters for stats: charset source, truncation, formulas by kind. */
  counters: Record<string, number>;
}

const HTML_MIME = new Set(["text/html", "application/xhtml+xml", "application/xml+xhtml", "text/xhtml"]);

export function extractPage(p: PageInput, o: PageOptions = {}): PageResult {
  const counters: Record<string, number> = {};
  const drop = (reason: string): PageResult => ({ text: null, reason, charset: "", counters });
  if (p.status !== 0 && !o.keepAllStatuses && (p.status < 200 || p.status > 299)) return drop("http_status");
  if (p.status === 0) return drop("not_http");
  const { mime } = parseContentType(p.contentType);
  const sniffed = !mime && /^\s*<(!doctype html|html|head|body)/i.test(Buffer.from(p.payload.subarray(0, 256)).toString("latin1"));
  if (!HTML_MIME.has(mime) && !sniffed) return drop("not_html");
  if (p.problem) return drop("bad_payload");
  if (p.payload.length > (o.maxHtmlBytes ?? 8 * 1024 * 1024)) return drop("html_too_large");
  if (p.payload.length === 0) return drop("empty_payload");
  if (looksBinary(p.payload)) return drop("binary_body");
  const d = decodeHtml(p.payload, p.charsetHttp);
  counters[`charset_from_${d.source}`] = 1;
  const r = htmlToText(d.text, o);
  if (r.truncated) counters[`truncated_${r.truncated}`] = 1;
  for (const [k, v] of Object.entries(r.math)) counters[`math_${k}`] = v;
  if (!r.text) return { ...drop("empty_text"), charset: d.charset };
  return { text: r.text, charset: d.charset, counters };
}
