// The extract stage: WARC payload rows (from warc-source.ts) → documents with math-preserving text. Rows that are
// not pages worth keeping are removed with a reason (http_status, not_html, binary_body, html_too_large, …);
// counters record charset sources, truncated walks and formulas by markup kind. With several workers the pages
// are parsed in worker threads, in order, so the output is the same whatever the worker count.
import { Int32 } from "apache-arrow";
import type { Batch } from "../arrow/batch.js";
import { getStrings, makeBatch } from "../arrow/batch.js";
import type { Stage, StageContext } from "../runtime/stage.js";
import { TaskPool, orderedMap, packTexts, packedTransfer, workerFile } from "../runtime/pool.js";
import { yearFromString } from "../sample/year.js";
import type { PageOptions, PageResult } from "./page.js";
import { runTask, type ExtractTask } from "./worker.js";

export const EXTRACT_COLUMNS = ["text", "id", "url", "warc_date", "dump", "content_type", "charset", "year"];

export function extractStage(options: PageOptions = {}): Stage {
  let pool: TaskPool | undefined;
  const task = (b: Batch): ExtractTask => {
    const packed = packTexts(b, "html");
    const st = b.getChild("http_status")!;
    return {
      bytes: packed.bytes, offsets: packed.offsets, status: Int32Array.from(st.toArray() as ArrayLike<number>),
      contentType: getStrings(b, "content_type").map((s) => s ?? ""), charsetHttp: getStrings(b, "charset_http").map((s) => s ?? ""),
      problem: getStrings(b, "payload_problem").map((s) => s ?? ""), options,
    };
  };
  return {
    name: "extract",
    requires: ["html", "id", "http_status", "content_type", "charset_http", "payload_problem"],
    identity: () => JSON.stringify(options),
    async *run(input: AsyncIterable<Batch>, ctx: StageContext) {
      // N worker threads for --workers N, the main thread for 0 (the rule of every per-document stage).
      const workers = Math.max(0, ctx.workers);
      const results: AsyncIterable<[Batch, PageResult[]]> = workers > 0
        ? orderedMap(input, async (b) => {
            pool ??= new TaskPool({ filename: workerFile(import.meta.url, "./worker.js"), workers });
            const t = task(b);
            return [b, await pool.run<ExtractTask, PageResult[]>(t, [t.bytes.buffer as ArrayBuffer, t.offsets.buffer as ArrayBuffer])] as [Batch, PageResult[]];
          }, workers * 2)
        : (async function* () {
            for await (const b of input) yield [b, runTask(task(b))] as [Batch, PageResult[]];
          })();
      for await (const [b, res] of results) {
        const out = assemble(b, res, ctx);
        if (out) yield out;
      }
    },
    async close() {
      await pool?.destroy();
      pool = undefined;
    },
  };
}

function assemble(b: Batch, res: PageResult[], ctx: StageContext): Batch | null {
  const ids = getStrings(b, "id");
  const url = getStrings(b, "url");
  const date = getStrings(b, "warc_date");
  const dump = getStrings(b, "dump");
  const ctype = getStrings(b, "content_type");
  const cols = { text: [] as string[], id: [] as string[], url: [] as string[], warc_date: [] as string[], dump: [] as string[],
    content_type: [] as string[], charset: [] as string[], year: [] as (number | null)[] };
  res.forEach((r, i) => {
    for (const [k, v] of Object.entries(r.counters)) ctx.stats.count(k, v);
    if (r.text === null) {
      const reason = r.reason ?? "unknown";
      if (reason.startsWith("error:")) {
        const msg = reason.slice(6);
        if (ctx.onError === "fail") throw new Error(`${ctx.file}: page ${ids[i]} (${url[i]}): extraction failed: ${msg}`);
        ctx.stats.fail("extract_error", 1, `${ctx.file}#${ids[i]}`, msg);
      } else ctx.stats.remove(reason);
      return;
    }
    cols.text.push(r.text);
    cols.id.push(ids[i] ?? "");
    cols.url.push(url[i] ?? "");
    cols.warc_date.push(date[i] ?? "");
    cols.dump.push(dump[i] ?? "");
    cols.content_type.push(ctype[i] ?? "");
    cols.charset.push(r.charset);
    cols.year.push((dump[i] && yearFromString(dump[i]!)) || (date[i] && yearFromString(date[i]!)) || null);
  });
  if (!cols.id.length) return null;
  return makeBatch(cols, { year: new Int32() });
}
