// Worker thread for the extract stage: a packed batch of payloads in, texts and reasons out.
import { extractPage, type PageOptions, type PageResult } from "./page.js";

export interface ExtractTask {
  bytes: Uint8Array;
  offsets: Int32Array;
  status: Int32Array;
  contentType: string[];
  charsetHttp: string[];
  problem: string[];
  options: PageOptions;
}

export default function extractTask(t: ExtractTask): PageResult[] {
  return runTask(t);
}

export function runTask(t: ExtractTask): PageResult[] {
  const out: PageResult[] = [];
  for (let i = 0; i < t.status.length; i++) {
    const payload = t.bytes.subarray(t.offsets[i], t.offsets[i + 1]);
    try {
      out.push(extractPage({ status: t.status[i], contentType: t.contentType[i], charsetHttp: t.charsetHttp[i], problem: t.problem[i], payload }, t.options));
    } catch (e) {
      // A parser bug on one page must not lose the batch: the page is failed with the message.
      out.push({ text: null, reason: `error:${(e as Error).message.slice(0, 200)}`, charset: "", counters: {} });
    }
  }
  return out;
}
