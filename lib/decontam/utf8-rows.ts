// The rows of an Arrow string column as UTF-8 byte ranges, so the matcher reads each document where the batch
// already holds it instead of decoding it into a JavaScript string first (a copy and a UTF-16 re-encode per
// document, about a tenth of the single-thread decontamination time).
import { DataType } from "apache-arrow";
import { type Batch, getTexts } from "../arrow/batch.js";

export type Utf8RowVisitor = (bytes: Uint8Array, from: number, to: number, row: number) => void;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * Call visit(bytes, from, to, row) for every row of the string column `name`, in order; a null row is empty (as
 * getTexts makes it ""). Plain Utf8 and LargeUtf8 columns are read in place; any other string column (dictionary
 * encoded) is decoded and re-encoded. A missing or non-string column throws getTexts's ColumnError.
 */
export function forEachUtf8Row(batch: Batch, name: string, visit: Utf8RowVisitor): void {
  const col = batch.getChild(name);
  const t = col?.type;
  if (!col || !(DataType.isUtf8(t) || DataType.isLargeUtf8(t))) {
    const texts = getTexts(batch, name);
    for (let row = 0; row < texts.length; row++) {
      const b = encoder.encode(texts[row]);
      visit(b, 0, b.length, row);
    }
    return;
  }
  let row = 0;
  for (const data of col.data) {
    const offs = data.valueOffsets as Int32Array | BigInt64Array;
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < data.length; i++, row++) {
      if (data.getValid(i)) visit(bytes, Number(offs[i]), Number(offs[i + 1]), row);
      else visit(EMPTY, 0, 0, row);
    }
  }
}
