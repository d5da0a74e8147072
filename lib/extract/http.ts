// The HTTP response inside a WARC response record: status line, headers (content type, charset, encodings) and the
// payload. Common Crawl stores payloads already de-chunked and decompressed (it renames the original headers to
// X-Crawler-*); other crawls may not, so chunked transfer and gzip/deflate/br content encodings are undone here,
// bounded in size.
import { gunzipSync, inflateSync, inflateRawSync, brotliDecompressSync } from "node:zlib";

export interface HttpResponse {
  status: number;
  /** Media type, lower-cased, without parameters ("text/html"); "" when absent. */
  mime: string;
  /** The Content-Type header as sent ("text/html; charset=utf-8"). */
  contentType: string;
  /** The charset parameter of Content-Type, lower-cased; "" when absent. */
  charset: string;
  payload: Uint8Array;
  /** Set when the payload could not be decoded (bad chunking, corrupt gzip, over the size bound). */
  problem?: string;
}

const HEADER_END = Buffer.from("\r\n\r\n");
const HEADER_END_LF = Buffer.from("\n\n");

/** Parse an HTTP response block. Returns null when the block does not start with an HTTP status line. */
export function parseHttpResponse(block: Uint8Array, maxPayloadBytes = 64 * 1024 * 1024): HttpResponse | null {
  const b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  let end = b.indexOf(HEADER_END);
  let sep = 4;
  const lf = b.indexOf(HEADER_END_LF);
  if (lf >= 0 && (end < 0 || lf < end)) {
    end = lf;
    sep = 2;
  }
  if (end < 0) end = b.length, sep = 0;
  const head = b.toString("latin1", 0, Math.min(end, 64 * 1024));
  const lines = head.split(/\r?\n/);
  const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/i.exec(lines[0]);
  if (!m) return null;
  const h = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].indexOf(":");
    if (c > 0) {
      const k = lines[i].slice(0, c).trim().toLowerCase();
      if (!h.has(k)) h.set(k, lines[i].slice(c + 1).trim());
    }
  }
  const contentType = h.get("content-type") ?? "";
  const { mime, charset } = parseContentType(contentType);
  let payload: Uint8Array = block.subarray(Math.min(block.length, end + sep));
  let problem: string | undefined;
  try {
    if (/chunked/i.test(h.get("transfer-encoding") ?? "")) payload = dechunk(payload);
    const enc = (h.get("content-encoding") ?? "").trim().toLowerCase();
    if (enc && enc !== "identity") payload = decompress(payload, enc, maxPayloadBytes);
  } catch (e) {
    problem = (e as Error).message;
  }
  return { status: Number(m[1]), mime, contentType, charset, payload, problem };
}

export function parseContentType(v: string): { mime: string; charset: string } {
  const parts = v.split(";");
  const mime = parts[0].trim().toLowerCase();
  let charset = "";
  for (const p of parts.slice(1)) {
    const m = /^\s*charset\s*=\s*["']?([^"';\s]+)/i.exec(p);
    if (m) charset = m[1].toLowerCase();
  }
  return { mime, charset };
}

function dechunk(p: Uint8Array): Uint8Array {
  const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = b.indexOf("\r\n", pos);
    if (eol < 0) break;
    const size = parseInt(b.toString("latin1", pos, eol).split(";")[0].trim(), 16);
    if (!Number.isFinite(size)) {
      if (parts.length === 0) return p; // not really chunked (a lying header): keep the bytes as they are
      break;
    }
    if (size === 0) break;
    parts.push(b.subarray(eol + 2, Math.min(b.length, eol + 2 + size)));
    pos = eol + 2 + size + 2;
    if (pos >= b.length) break;
  }
  return parts.length ? Buffer.concat(parts) : p;
}

function decompress(p: Uint8Array, enc: string, max: number): Uint8Array {
  const opts = { maxOutputLength: max };
  // Some crawlers store the decoded payload but keep the header: no gzip magic means nothing to undo.
  if (enc === "gzip" || enc === "x-gzip") return p[0] === 0x1f && p[1] === 0x8b ? gunzipSync(p, opts) : p;
  if (enc === "br") return brotliDecompressSync(p, opts);
  if (enc === "deflate") {
    try {
      return inflateSync(p, opts);
    } catch {
      return inflateRawSync(p, opts); // servers that send raw deflate under "deflate"
    }
  }
  throw new Error(`unknown content encoding "${enc}"`);
}
