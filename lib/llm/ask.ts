// The part annotate and refine share: turn each row of a batch into one request, answer it from the journal when a
// previous run already paid for it, else send it, and record the answer durably. Batches overlap so the server sees a
// steady `maxInFlight` requests instead of a drain at every batch end; results come back in input order.
import { join, basename, resolve } from "node:path";
import { createHash } from "node:crypto";
import type { Batch } from "../arrow/batch.js";
import { getStrings, getTexts } from "../arrow/batch.js";
import type { StageContext } from "../runtime/stage.js";
import { type LlmAnswer, type LlmClient, LlmRequestError } from "./client.js";
import { RequestJournal, requestKey } from "./journal.js";

/** A row's request outcome. `prompt: null` means the caller chose not to send this row. */
export type Outcome =
  | { kind: "answer"; answer: LlmAnswer; cached: boolean }
  | { kind: "error"; error: LlmRequestError }
  | { kind: "skipped"; reason: string };

export interface AskedBatch {
  batch: Batch;
  /** Row index in the input file of this batch's first row (for error messages). */
  firstRow: number;
  ids: string[];
  texts: string[];
  outcomes: Outcome[];
}

export interface AskOptions {
  client: LlmClient;
  /** Stage name; also the journal's sub-folder. */
  stage: string;
  /** Build the prompt for a row, or return a reason string to skip it (e.g. input too long). */
  prompt: (text: string) => { prompt: string } | { skip: string };
  /** Journal folder; default `<outDir>/.llm-journal/<stage>`. */
  journalDir?: string;
}

/** Where the journal of one input file lives: one file per input so shards never share one. */
export function journalPathFor(dir: string, file: string): string {
  const h = createHash("sha256").update(resolve(file)).digest("hex").slice(0, 12);
  return join(dir, `${basename(file).replace(/[^A-Za-z0-9._-]/g, "_")}.${h}.jsonl`);
}

/**
 * Ask the model about every row of every batch, in order. The journal is flushed and closed whatever happens, so
 * answers already paid for survive a crash or an error thrown further down the pipeline.
 */
export async function* askBatches(input: AsyncIterable<Batch>, ctx: StageContext, o: AskOptions): AsyncIterable<AskedBatch> {
  const dir = o.journalDir ?? join(ctx.outDir, ".llm-journal", o.stage);
  const journal = await RequestJournal.open(journalPathFor(dir, ctx.file || "input"));
  if (journal.repairedBytes) ctx.log.warn(`${o.stage}: cut a torn ${journal.repairedBytes}-byte tail off ${journal.path}`);
  let nextRow = 0;
  const one = async (batch: Batch, firstRow: number): Promise<AskedBatch> => {
    const texts = getTexts(batch);
    const ids = getStrings(batch, "id").map((s, i) => s ?? `${ctx.file}/${firstRow + i}`);
    const outcomes = await Promise.all(texts.map(async (text, i): Promise<Outcome> => {
      const p = o.prompt(text);
      if ("skip" in p) return { kind: "skipped", reason: p.skip };
      const key = requestKey(ids[i], o.client.requestBody(p.prompt));
      const hit = journal.get(key);
      if (hit) {
        ctx.stats.count("llm_journal_hits");
        return { kind: "answer", answer: hit, cached: true };
      }
      try {
        const answer = await o.client.complete(p.prompt, ctx.stats);
        journal.record(key, answer);
        return { kind: "answer", answer, cached: false };
      } catch (e) {
        if (e instanceof LlmRequestError) return { kind: "error", error: e };
        throw e;
      }
    }));
    return { batch, firstRow, ids, texts, outcomes };
  };
  // Pull batches while fewer than maxInFlight rows are pending (and always keep two batches going, so one batch's
  // slow tail overlaps the next batch's start); yield in input order. Memory is bounded by rows, not batches.
  const pending: { rows: number; done: Promise<AskedBatch> }[] = [];
  let pendingRows = 0;
  const it = input[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    while (true) {
      while (!exhausted && (pending.length < 2 || pendingRows < o.client.maxInFlight)) {
        const next = await it.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const done = one(next.value, nextRow);
        done.catch(() => {}); // surfaced when awaited in order
        nextRow += next.value.numRows;
        pending.push({ rows: next.value.numRows, done });
        pendingRows += next.value.numRows;
      }
      const head = pending.shift();
      if (!head) break;
      pendingRows -= head.rows;
      yield await head.done;
    }
  } finally {
    // Let requests already sent land in the journal before closing it (they are paid for).
    await Promise.allSettled(pending.map((p) => p.done));
    await journal.close();
    if (!exhausted) await it.return?.();
  }
}

/** Handle a request that got no answer: throw naming file/row/id, or count it as failed under --on-error skip. */
export function requestFailed(ctx: StageContext, stage: string, row: number, id: string, err: LlmRequestError): void {
  const where = `${ctx.file} row ${row} (id ${id})`;
  if (ctx.onError === "fail") {
    throw new Error(`${stage}: ${where}: ${err.message}. Answers so far are kept in the request journal; ` +
      `run again to resume, or use --on-error skip to count such documents as failed.`);
  }
  ctx.stats.fail(`llm_${err.kind}`, 1, where, err.message);
}
