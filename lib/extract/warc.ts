// Streaming WARC record reader (WARC/1.0, 1.1 and the older 0.18 of ClueWeb), plain or gzip-compressed (Common
// Crawl compresses each record as its own gzip member; zlib's gunzip reads the concatenated members in one pass).
// Measured against the `warcio` npm package in bench/extract.ts; this small parser is what we use (README says why).
//
// Robustness, because crawls hold every kind of damage:
// - a record whose Content-Length is too small leaves bytes before the next "WARC/" line: they are skipped (counted);
// - a Content-Length that is too large swallows the next record's header: the block is cut where a record boundary
//   ("\r\n\r\nWARC/1.") appears inside it and reading resumes there (counted as bad_content_length);
// - a record larger than maxRecordBytes is skipped without being buffered (counted);
// - a truncated stream (cut gzip member, short last record) ends the file with a counted truncated_record.
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";

export interface WarcRecord {
  /** WARC/1.0, WARC/1.1, WARC/0.18 … */
  version: string;
  /** Lower-cased header names; the first value of each header. */
  headers: Map<string, string>;
  /** WARC-Type, lower-cased ("response", "request", "warcinfo", …). */
  type: string;
  /** The record block (for a response record: the HTTP status line, headers and payload). */
  block: Uint8Array;
}

export interface WarcProblem {
  reason: "garbage_between_records" | "bad_content_length" | "record_too_large" | "truncated_record" | "bad_header";
  message: string;
}

export interface WarcParserOptions {
  /** Records with a larger block are skipped unbuffered. Default 64 MiB. */
  maxRecordBytes?: number;
  /** Only records of these types are returned (their blocks are still parsed for others). Default all. */
  types?: ReadonlySet<string>;
}

const CRLF2 = Buffer.from("\r\n\r\n");
const WARC_LINE = Buffer.from("WARC/");
const BOUNDARY = Buffer.from("\r\n\r\nWARC/");
const MAX_HEADER = 1 << 20;

/** A push parser: feed chunks, get whole records and problems back. */
export class WarcParser {
  private buf: Buffer = Buffer.alloc(0);
  private skip = 0; // bytes still to drop of an oversized record
  private readonly maxRecord: number;
  private readonly types?: ReadonlySet<string>;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private need = 0;
  private pendingHeader: { version: string; headers: Map<string, string>; length: number } | null = null;

  constructor(o: WarcParserOptions = {}) {
    this.maxRecord = o.maxRecordBytes ?? 64 * 1024 * 1024;
    this.types = o.types;
  }

  push(chunk: Uint8Array, out: WarcRecord[], problems: WarcProblem[]): void {
    let c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.skip > 0) {
      const n = Math.min(this.skip, c.length);
      this.skip -= n;
      c = c.subarray(n);
      if (!c.length) return;
    }
    // While a large block is incomplete, hold chunks and join once (not once per chunk: quadratic on a 50 MB page).
    this.held.push(c);
    this.heldBytes += c.length;
    if (this.buf.length + this.heldBytes < this.need) return;
    this.buf = Buffer.concat(this.buf.length ? [this.buf, ...this.held] : this.held);
    this.held = [];
    this.heldBytes = 0;
    this.need = 0;
    this.drain(out, problems);
  }

  /** End of input: whatever is left is a truncated record (or harmless trailing whitespace). */
  end(problems: WarcProblem[]): void {
    if (this.held.length) this.buf = Buffer.concat([this.buf, ...this.held]);
    this.held = [];
    const rest = this.buf.toString("latin1").trim();
    if (this.pendingHeader || this.skip > 0 || rest.length) {
      problems.push({ reason: "truncated_record", message: `input ends inside a record (${this.buf.length} bytes left)` });
    }
    this.buf = Buffer.alloc(0);
    this.pendingHeader = null;
    this.skip = 0;
  }

  private drain(out: WarcRecord[], problems: WarcProblem[]): void {
    let pos = 0;
    const b = this.buf;
    for (;;) {
      if (!this.pendingHeader) {
        // Skip blank lines between records; anything else before "WARC/" is garbage left by a short Content-Length.
        let start = pos;
        while (start < b.length && (b[start] === 13 || b[start] === 10)) start++;
        if (b.length - start < 5) break;
        if (b.compare(WARC_LINE, 0, 5, start, start + 5) !== 0) {
          const next = findLineStart(b, WARC_LINE, start);
          if (next < 0) {
            // Keep a tail that might hold the start of "WARC/"; drop the rest.
            if (b.length - start > 8) {
              problems.push({ reason: "garbage_between_records", message: `skipped ${b.length - start - 8} bytes not in a record` });
              pos = b.length - 8;
            }
            break;
          }
          problems.push({ reason: "garbage_between_records", message: `skipped ${next - start} bytes before a WARC header` });
          start = next;
        }
        const end = b.indexOf(CRLF2, start);
        if (end < 0) {
          if (b.length - start > MAX_HEADER) {
            problems.push({ reason: "bad_header", message: "WARC header over 1 MiB without an end" });
            pos = start + 5; // resync past this "WARC/"
            continue;
          }
          pos = start;
          break;
        }
        const h = parseHeader(b.toString("latin1", start, end));
        pos = end + 4;
        if (!h) {
          problems.push({ reason: "bad_header", message: "WARC header without a valid Content-Length" });
          continue;
        }
        if (h.length > this.maxRecord) {
          problems.push({ reason: "record_too_large", message: `record of ${h.length} bytes over the ${this.maxRecord}-byte limit: skipped` });
          const have = Math.min(h.length, b.length - pos);
          pos += have;
          this.skip = h.length - have;
          if (this.skip > 0) break;
          continue;
        }
        this.pendingHeader = h;
      }
      const h = this.pendingHeader;
      if (b.length - pos < h.length) {
        this.need = h.length;
        break;
      }
      let blockEnd = pos + h.length;
      // A Content-Length that lies long: a record boundary inside the block means the block ended there.
      const inner = b.indexOf(BOUNDARY, pos);
      if (inner >= 0 && inner < blockEnd - 4 && looksLikeWarcHeader(b, inner + 4)) {
        problems.push({ reason: "bad_content_length", message: `Content-Length ${h.length} runs into the next record; cut at ${inner - pos}` });
        blockEnd = inner;
      }
      const type = (h.headers.get("warc-type") ?? "").toLowerCase();
      if (!this.types || this.types.has(type)) {
        // A copy: the record must not pin the (large) read buffer.
        out.push({ version: h.version, headers: h.headers, type, block: Uint8Array.prototype.slice.call(b, pos, blockEnd) });
      }
      pos = blockEnd;
      this.pendingHeader = null;
    }
    this.buf = pos >= b.length ? Buffer.alloc(0) : b.subarray(pos);
    if (this.buf.length && this.buf.byteOffset > 0 && this.buf.length < b.length / 4) this.buf = Buffer.from(this.buf);
  }
}

function findLineStart(b: Buffer, needle: Buffer, from: number): number {
  let i = b.indexOf(needle, from);
  while (i >= 0 && i > from && b[i - 1] !== 10) i = b.indexOf(needle, i + 1);
  return i;
}

function looksLikeWarcHeader(b: Buffer, at: number): boolean {
  const s = b.toString("latin1", at, Math.min(b.length, at + 16));
  return /^WARC\/\d\.\d+\r\n/.test(s);
}

function parseHeader(text: string): { version: string; headers: Map<string, string>; length: number } | null {
  const lines = text.split(/\r?\n/);
  const version = lines[0].trim();
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const k = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(k)) headers.set(k, line.slice(colon + 1).trim());
  }
  const cl = headers.get("content-length");
  if (cl === undefined || !/^\d{1,15}$/.test(cl)) return null;
  return { version, headers, length: Number(cl) };
}

export interface ReadWarcOptions extends WarcParserOptions {
  /** Bytes per read. Default 1 MiB. */
  chunkBytes?: number;
}

/** Stream the records of a WARC file (gzip detected from its first bytes, not its name). Problems are yielded in
 * order with the records so the caller can count them; a broken gzip stream ends the file with a problem. */
export async function* readWarc(path: string, o: ReadWarcOptions = {}): AsyncGenerator<WarcRecord | WarcProblem> {
  const gz = await isGzip(path);
  const raw = createReadStream(path, { highWaterMark: o.chunkBytes ?? 1 << 20 });
  const src: AsyncIterable<Buffer> = gz ? raw.pipe(createGunzip({ chunkSize: 256 * 1024 })) : raw;
  if (gz) raw.on("error", (e) => (src as NodeJS.ReadWriteStream).emit("error", e));
  const parser = new WarcParser(o);
  const out: WarcRecord[] = [];
  const problems: WarcProblem[] = [];
  try {
    for await (const chunk of src) {
      parser.push(chunk, out, problems);
      yield* problems.splice(0);
      yield* out.splice(0);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") throw e;
    yield* out.splice(0);
    problems.push({ reason: "truncated_record", message: `${gz ? "gzip" : "read"} error: ${(e as Error).message}` });
    yield* problems.splice(0);
    raw.destroy();
    return;
  }
  parser.end(problems);
  yield* problems.splice(0);
}

export function isProblem(x: WarcRecord | WarcProblem): x is WarcProblem {
  return (x as WarcProblem).reason !== undefined;
}

async function isGzip(path: string): Promise<boolean> {
  const { open } = await import("node:fs/promises");
  const fh = await open(path, "r");
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}
