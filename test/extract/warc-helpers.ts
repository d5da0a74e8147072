// Build WARC records by hand for bad-input tests.
import { gzipSync } from "node:zlib";

export function httpBlock(body: Buffer | string, contentType = "text/html; charset=utf-8", status = 200): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  return Buffer.concat([Buffer.from(`HTTP/1.1 ${status} OK\r\nContent-Type: ${contentType}\r\nContent-Length: ${b.length}\r\n\r\n`, "latin1"), b]);
}

export function warcRecord(uri: string, block: Buffer, o: { type?: string; id?: string; lengthDelta?: number } = {}): Buffer {
  const head = [
    "WARC/1.0", `WARC-Type: ${o.type ?? "response"}`, `WARC-Target-URI: ${uri}`, "WARC-Date: 2021-03-04T05:06:07Z",
    `WARC-Record-ID: <urn:uuid:${o.id ?? uri.replace(/\W/g, "").slice(-12)}>`, "Content-Type: application/http; msgtype=response",
    `Content-Length: ${block.length + (o.lengthDelta ?? 0)}`,
  ].join("\r\n");
  return Buffer.concat([Buffer.from(head + "\r\n\r\n", "latin1"), block, Buffer.from("\r\n\r\n")]);
}

/** Record-wise gzip, the way Common Crawl writes WARC files. */
export function gzipMembers(records: Buffer[]): Buffer {
  return Buffer.concat(records.map((r) => gzipSync(r)));
}

export const page = (title: string, body: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body><nav><a href="/">Home</a> <a href="/x">Menu</a></nav><main>${body}</main><footer>Copyright footer text</footer></body></html>`;
