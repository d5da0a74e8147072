// When a file's failed documents make the file itself a failure. Under --on-error skip bad documents are counted
// and the run goes on; but a file most (by default: all) of whose documents failed — an unreadable file counts as
// one failed document, an LLM that answered nothing usable fails every row — produced nothing worth keeping. Such a
// file gets no completion marker (so a fixed or re-downloaded file is processed on the next run), its outputs are
// removed, it is named in a warning and in stats.json, and the run exits non-zero.
import type { RunStatsJSON } from "./stats.js";

/** Default share of a file's documents that may fail before the file fails: 1, i.e. only when all of them fail. */
export const DEFAULT_MAX_FAILED_SHARE = 1;

/** Why the file counts as failed (failed share over `maxShare`, or every document failed), or null. */
export function fileFailure(stats: RunStatsJSON, maxShare = DEFAULT_MAX_FAILED_SHARE): string | null {
  const read = stats.stages[0];
  if (!read || read.docsIn === 0) return null;
  // A document fails at most once (a failed row is not passed on), so failures add up across stages.
  const byReason = new Map<string, number>();
  for (const s of stats.stages) for (const [r, n] of Object.entries(s.failed)) byReason.set(`${s.name}:${r}`, (byReason.get(`${s.name}:${r}`) ?? 0) + n);
  const failed = [...byReason.values()].reduce((a, b) => a + b, 0);
  if (failed === 0) return null;
  const share = failed / read.docsIn;
  if (share < 1 && share <= maxShare) return null;
  const reasons = [...byReason].map(([r, n]) => `${r}=${n}`).join(" ");
  return share >= 1
    ? `all ${read.docsIn} document(s) failed (${reasons})`
    : `${failed} of ${read.docsIn} documents failed (${(share * 100).toFixed(1)}% > --max-failed-share ${maxShare}; ${reasons})`;
}
