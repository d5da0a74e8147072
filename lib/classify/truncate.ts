// The document length rule shared by training data and scoring. Its own module, with no imports, because the
// score worker threads need it: importing it from training-data.ts pulled apache-arrow and the file helpers into
// every worker (about 0.3 CPU-s of module loading per worker under tsx).

/** Documents longer than this many UTF-16 code units are cut to it before preprocessing (about 1 MB). */
export const DEFAULT_MAX_CHARS = 1_000_000;

/** Cut at `max` code units without splitting a surrogate pair. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c < 0xdc00) end--;
  return text.slice(0, end);
}
