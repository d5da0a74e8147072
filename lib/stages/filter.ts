// Generic threshold filter over columns other stages computed (`score` writes math_score, lang, lang_score...).
// Scores are columns, not decisions: thresholding later is this cheap stage. A row is kept when it passes every
// condition; a dropped row is counted once, under the first condition it fails, so removed-by-reason adds up.
import { type Batch, ColumnError, filterRows, getNumbers, getStrings } from "../arrow/batch.js";
import type { Stage } from "../runtime/stage.js";

export type Condition =
  | { kind: "min"; column: string; value: number } // keep column >= value
  | { kind: "max"; column: string; value: number } // keep column <= value
  | { kind: "equals"; column: string; value: string }; // keep column === value (string compare)

export interface FilterOptions {
  conditions: Condition[];
  /** Stage name in stats (default "filter"). */
  name?: string;
}

/** The reason a row fails `c` (null when it passes). NaN and nulls never pass a numeric condition. */
function numericReason(c: Condition & { kind: "min" | "max" }, v: number): string | null {
  if (Number.isNaN(v)) return `${c.column}:missing`;
  if (c.kind === "min") return v >= c.value ? null : `${c.column}<${c.value}`;
  return v <= c.value ? null : `${c.column}>${c.value}`;
}

export function filterStage(opts: FilterOptions): Stage {
  if (!opts.conditions.length) throw new Error("filter: no conditions given (use --min, --max or --equals)");
  const columns = [...new Set(opts.conditions.map((c) => c.column))];
  return {
    name: opts.name ?? "filter",
    requires: columns,
    async *run(input, ctx) {
      for await (const batch of input) {
        const n = batch.numRows;
        const reasons: (string | null)[] = new Array(n).fill(null);
        for (const c of opts.conditions) {
          let values: Float64Array | (string | null)[];
          try {
            values = c.kind === "equals" ? getStrings(batch, c.column) : getNumbers(batch, c.column);
          } catch (e) {
            if (e instanceof ColumnError) throw new ColumnError(`${ctx.file}: filter: ${e.message}`);
            throw e;
          }
          for (let i = 0; i < n; i++) {
            if (reasons[i] !== null) continue;
            if (c.kind === "equals") {
              const v = (values as (string | null)[])[i];
              if (v === null) reasons[i] = `${c.column}:missing`;
              else if (v !== c.value) reasons[i] = `${c.column}!=${c.value}`;
            } else {
              reasons[i] = numericReason(c, (values as Float64Array)[i]);
            }
          }
        }
        const keep = new Uint8Array(n);
        const counts = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const r = reasons[i];
          if (r === null) keep[i] = 1;
          else counts.set(r, (counts.get(r) ?? 0) + 1);
        }
        for (const [reason, k] of counts) ctx.stats.remove(reason, k);
        yield counts.size ? filterRows(batch, keep) : batch;
      }
    },
  };
}

/** Parse "col=value" pairs from --min/--max/--equals flags (errors name the flag and the bad value). */
export function parseConditions(flags: { min?: string[]; max?: string[]; equals?: string[] }): Condition[] {
  const out: Condition[] = [];
  // Split at the first "=": column names hold no "=", but an --equals value may (a URL with a query string).
  const split = (flag: string, s: string): [string, string] => {
    const eq = s.indexOf("=");
    const column = s.slice(0, eq).trim(), value = s.slice(eq + 1).trim();
    if (eq < 0 || column === "" || value === "") throw new Error(`--${flag} expects COLUMN=VALUE, got "${s}"`);
    return [column, value];
  };
  for (const kind of ["min", "max"] as const) {
    for (const s of flags[kind] ?? []) {
      const [column, raw] = split(kind, s);
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new Error(`--${kind} ${s}: "${raw}" is not a number`);
      out.push({ kind, column, value });
    }
  }
  for (const s of flags.equals ?? []) {
    const [column, value] = split("equals", s);
    out.push({ kind: "equals", column, value });
  }
  return out;
}

export type { Batch };
