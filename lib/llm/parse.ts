// Reading the model's answers. A score that cannot be read is reported as such (null), never as a default 0.

// "Final score: N": case-insensitive, tolerant of markdown emphasis around the label or the number
// ("**Final score:** 3", "Final Score: *4*"), N an integer not followed by a decimal part. The last match wins,
// because models sometimes restate the format line before giving their own score.
const FINAL_SCORE = /final\s+score\s*\**\s*:\s*\**\s*(\d+)(?![\d.,]\d)/gi;

/** The FineMath score in 0..max, or null when absent or out of range. */
export function parseFinalScore(answer: string, max = 5): number | null {
  let last: string | null = null;
  for (const m of answer.matchAll(FINAL_SCORE)) last = m[1];
  if (last === null) return null;
  const n = Number(last);
  return n >= 0 && n <= max ? n : null;
}

// Lead-in lines some instruct models put before the answer despite "Just output the refined text, no other text."
// Only a first line that announces the text and ends with a colon is removed; the document itself is never scanned.
const PREAMBLE = /^\s*(?:sure[,.!]?\s*)?(?:here(?:'s| is| are)|below is|the following is)\b[^\n]{0,120}?(?:refined|rewritten|revised|cleaned|reorganized|reorganised|text|version)[^\n]{0,60}:[ \t]*\*{0,2}[ \t]*(?:\r?\n|$)/i;
const WRAPPING_FENCE = /^\s*<document>\s*\n([\s\S]*?)\n\s*<\/document>\s*$/;

/** Strip a preamble line and a <document> fence the model echoed back. Returns the text and what was stripped. */
export function cleanRefined(answer: string): { text: string; preamble: boolean; fence: boolean } {
  let text = answer;
  let preamble = false;
  let fence = false;
  const m = PREAMBLE.exec(text);
  if (m) {
    text = text.slice(m[0].length);
    preamble = true;
  }
  const f = WRAPPING_FENCE.exec(text);
  if (f) {
    text = f[1];
    fence = true;
  }
  return { text: text.trim(), preamble, fence };
}
