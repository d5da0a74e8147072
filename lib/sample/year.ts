// The publication year of a document, from whichever column carries it: a Common Crawl dump name anywhere in a
// string (CC-MAIN-2019-04, also inside an s3:// or https:// WARC/WET path), an ISO date or timestamp
// (2020-03-29T09:04:10Z), a bare year, or an Arrow date/timestamp column. Page URLs with dates in their paths are
// NOT read as years by default (a blog's /2016/11/ says when the post claims to be from, not when it was crawled);
// naming a column as COLUMN#path-date opts in (the year of a /YYYY/MM/ or /YYYY-MM-DD path segment).
import { DataType, type Vector } from "apache-arrow";
import type { Batch } from "../arrow/batch.js";
import { ColumnError } from "../arrow/batch.js";

export const MIN_YEAR = 1990;
export const MAX_YEAR = 2100;

const CC_DUMP = /CC-MAIN-(\d{4})-\d{2}/;
const ISO_DATE = /^\s*(\d{4})-(0[1-9]|1[0-2])(?:-\d{2})?(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\s*$/;
const BARE_YEAR = /^\s*(\d{4})\s*$/;

export function yearFromString(s: string): number | null {
  const m = CC_DUMP.exec(s) ?? ISO_DATE.exec(s) ?? BARE_YEAR.exec(s);
  if (!m) return null;
  const y = Number(m[1]);
  return y >= MIN_YEAR && y <= MAX_YEAR ? y : null;
}

/** Default year columns, tried in order per row; the first one that yields a year wins. Where real corpora keep the
 * crawl: `dump` (FineWeb), `crawl` and `warc_filename` (FineMath), `cc-path` (MegaMath), `warc_path`, `warc_date`
 * (megamath extract), `WARC-Date` (WARC headers kept as columns), `fetch_time` (FineMath), `timestamp`, `date`. */
export const DEFAULT_YEAR_COLUMNS = ["dump", "crawl", "cc-path", "cc_path", "warc_path", "warc_filename", "url", "warc_date", "WARC-Date", "fetch_time", "timestamp", "date"];

/** Suffix of a year column read as a URL whose path carries a date (opt-in: the date the page claims). */
export const PATH_DATE = "#path-date";
const URL_PATH_DATE = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/(?:[^?#]*?\/)?((?:19|20)\d{2})(?:\/(?:0[1-9]|1[0-2])(?:\/|$)|-(?:0[1-9]|1[0-2])-\d{2}(?:\/|[^\d]|$))/i;

/** The year of a date in a URL's path (/2019/03/..., /2019-03-04-title), or null. */
export function yearFromUrlPath(url: string): number | null {
  const m = URL_PATH_DATE.exec(url);
  if (!m) return null;
  const y = Number(m[1]);
  return y >= MIN_YEAR && y <= MAX_YEAR ? y : null;
}

/** The column a year-column entry reads (without its #path-date suffix). */
export function columnName(entry: string): string {
  return entry.endsWith(PATH_DATE) ? entry.slice(0, -PATH_DATE.length) : entry;
}

/** A column by name, or a nested struct field by dotted path ("metadata.cc_segment"). */
function lookup(batch: Batch, path: string): Vector | null {
  const direct = batch.getChild(path);
  if (direct) return direct;
  const parts = path.split(".");
  let v: Vector | null = batch.getChild(parts[0]);
  for (const p of parts.slice(1)) {
    if (!v || !DataType.isStruct(v.type)) return null;
    v = (v as Vector).getChild(p as never) as Vector | null;
  }
  return v;
}

function yearsOf(col: Vector, pathDate = false): (number | null)[] {
  const t = col.type;
  if (pathDate) {
    if (!(DataType.isUtf8(t) || DataType.isLargeUtf8(t))) throw new ColumnError(`a ${PATH_DATE} year column must hold strings (URLs), not ${t}`);
    return Array.from({ length: col.length }, (_, i) => {
      const v = col.get(i) as string | null;
      return v == null ? null : yearFromUrlPath(v);
    });
  }
  const out: (number | null)[] = new Array(col.length);
  if (DataType.isTimestamp(t) || DataType.isDate(t)) {
    for (let i = 0; i < col.length; i++) {
      const v = col.get(i) as number | bigint | Date | null;
      if (v == null) out[i] = null;
      else {
        const y = new Date(v instanceof Date ? v.getTime() : Number(v)).getUTCFullYear();
        out[i] = y >= MIN_YEAR && y <= MAX_YEAR ? y : null;
      }
    }
    return out;
  }
  if (DataType.isInt(t) || DataType.isFloat(t)) {
    for (let i = 0; i < col.length; i++) {
      const v = col.get(i);
      const y = v == null ? NaN : Number(v);
      out[i] = Number.isInteger(y) && y >= MIN_YEAR && y <= MAX_YEAR ? y : null;
    }
    return out;
  }
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t) || (DataType.isDictionary(t) && DataType.isUtf8(t.dictionary))) {
    for (let i = 0; i < col.length; i++) {
      const v = col.get(i) as string | null;
      out[i] = v == null ? null : yearFromString(v);
    }
    return out;
  }
  throw new ColumnError(`year column has type ${t}; expected a string, integer, date or timestamp column`);
}

/** Per row, the year from the first of `columns` (present in the batch) that has one; null when none does. */
export function batchYears(batch: Batch, columns: readonly string[]): (number | null)[] {
  const result: (number | null)[] = new Array(batch.numRows).fill(null);
  let remaining = batch.numRows;
  for (const name of columns) {
    if (remaining === 0) break;
    const col = lookup(batch, columnName(name));
    if (!col) continue;
    const ys = yearsOf(col, name.endsWith(PATH_DATE));
    for (let i = 0; i < ys.length; i++) {
      if (result[i] === null && ys[i] !== null) {
        result[i] = ys[i];
        remaining--;
      }
    }
  }
  return result;
}

/** Which column supplies each row's year (the first of `columns` that has one, as batchYears decides): rows per
 * column, plus rows with none. Shown before a build runs, so a corpus whose year comes from an unexpected column,
 * or from none, is seen before the sample step drops it. */
export function yearColumnUse(batch: Batch, columns: readonly string[]): { byColumn: Record<string, number>; none: number; years: Record<string, number> } {
  const chosen: (string | null)[] = new Array(batch.numRows).fill(null);
  const years: Record<string, number> = {};
  for (const name of columns) {
    const col = lookup(batch, columnName(name));
    if (!col) continue;
    const ys = yearsOf(col, name.endsWith(PATH_DATE));
    for (let i = 0; i < ys.length; i++) {
      if (chosen[i] === null && ys[i] !== null) {
        chosen[i] = name;
        years[ys[i]!] = (years[ys[i]!] ?? 0) + 1;
      }
    }
  }
  const byColumn: Record<string, number> = {};
  let none = 0;
  for (const c of chosen) {
    if (c === null) none++;
    else byColumn[c] = (byColumn[c] ?? 0) + 1;
  }
  return { byColumn, none, years };
}
