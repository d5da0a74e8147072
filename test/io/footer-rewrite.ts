// Test helper: rewrite the footer (FileMetaData thrift) of a real Parquet file, keeping its pages, to make files
// whose footer lies (row counts, sizes) the way a buggy writer or a bit flip would.
import { parquetMetadata, type FileMetaData } from "hyparquet";
import { ByteWriter } from "hyparquet-writer";

import { writeMetadata } from "hyparquet-writer/src/metadata.js";

export function rewriteFooter(file: Uint8Array, edit: (m: FileMetaData) => void): Uint8Array {
  const buf = Buffer.from(file);
  const metaLen = buf.readUInt32LE(buf.length - 8);
  const metaStart = buf.length - 8 - metaLen;
  const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  edit(meta);
  const w = new ByteWriter();
  writeMetadata(w, meta);
  const body = new Uint8Array(w.getBuffer());
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(body.length, 0);
  tail.write("PAR1", 4);
  return Buffer.concat([buf.subarray(0, metaStart), body, tail]);
}
