// The byte-level pieces of the decontamination tokenizer and hasher (hash.ts): the hash constants, byte classes,
// which UTF-8 sequences folding keeps, the LaTeX commands dropped or aliased, and the hash finishers. Split from
// hash.ts so each file has one job; hash.ts takes local copies of these bindings (see the note there).
import * as norm from "./normalize.js";

const { COMMAND_ALIASES, DROPPED_COMMANDS, charClass, foldKeeps } = norm;

export const SEED_A = 0x811c9dc5 | 0;
export const SEED_B = 0x2545f491 | 0;
export const MUL_A = 0x01000193;
export const MUL_B = 0x5bd1e995;
export const P_A = 0x9e3779b1 | 0;
export const P_B = 0x85ebca77 | 0;

/**
 * Class of a byte: the class itself for ASCII (SPACE for ASCII whitespace, a separator the fast path may cut at),
 * MULTI for any byte >= 0x80 (the tokenizer decodes the character there).
 */
export const SPACE = 0;
export const MULTI = 4;
export const BYTE_CLASS = Uint8Array.from({ length: 256 }, (_, c) => (c >= 128 ? MULTI : isSpace(c) ? SPACE : charClass(c)));

/** ASCII whitespace: the only places the fast path cuts a text to fold a piece of it alone (see loadUtf8). */
export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Byte length of the well-formed UTF-8 sequence at b[i] (lead byte >= 0x80) when it is a BMP character that folding
 * keeps (normalize.ts foldKeeps), else 0: a character that folding may change, an astral one, or malformed bytes
 * (those are left to the decoder, which turns them into U+FFFD).
 */
export function keptLength(b: Uint8Array, i: number, to: number): number {
  const c = b[i];
  if (c >= 0xc2 && c < 0xe0) {
    if (i + 1 >= to) return 0;
    const c1 = b[i + 1];
    if ((c1 & 0xc0) !== 0x80) return 0;
    return foldKeeps(((c & 31) << 6) | (c1 & 63)) ? 2 : 0;
  }
  if (c >= 0xe0 && c < 0xf0) {
    if (i + 2 >= to) return 0;
    const c1 = b[i + 1];
    const c2 = b[i + 2];
    if ((c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80) return 0;
    const cp = ((c & 15) << 12) | ((c1 & 63) << 6) | (c2 & 63);
    // Overlong forms and surrogates are malformed; foldKeeps refuses surrogates, the first test overlongs.
    return cp >= 0x800 && foldKeeps(cp) ? 3 : 0;
  }
  return 0;
}

/** Index of the first byte in b[i, lim) that starts something folding may change, or lim. */
export function nextToFold(b: Uint8Array, i: number, lim: number, to: number): number {
  while (i < lim) {
    if (b[i] < 128) i++;
    else {
      const len = keptLength(b, i, to);
      if (len === 0) return i;
      i += len;
    }
  }
  return lim;
}

/** Pieces to fold that are closer than this many bytes are folded together (fewer calls into ICU). */
export const MERGE_GAP = 64;

export const DROP = "\u0000drop";

/**
 * Listed LaTeX commands keyed by their raw lane-A hash, so recognising one needs no string slice (command tokens are
 * frequent in math text). A hit is confirmed by comparing the characters, so a hash collision cannot drop a word.
 */
const COMMANDS = new Map<number, { name: string; action: string }[]>();
for (const [name, action] of [
  ...[...DROPPED_COMMANDS].map((n) => [n, DROP] as const),
  ...[...COMMAND_ALIASES].map(([n, a]) => [n, a] as const),
]) {
  const h = aliasHashA(name);
  const list = COMMANDS.get(h) ?? [];
  list.push({ name, action });
  COMMANDS.set(h, list);
}

/**
 * DROP for a layout-only LaTeX command, its alias for a folded synonym, else undefined. The token b[start, end) is a
 * letter run; `| 0x20` lowercases its ASCII letters (a raw piece is not folded yet) and keeps other bytes >= 0x80.
 */
export function commandAction(b: Uint8Array, start: number, end: number, rawA: number): string | undefined {
  const list = COMMANDS.get(rawA);
  if (list === undefined) return undefined;
  for (const { name, action } of list) {
    if (name.length !== end - start) continue;
    let same = true;
    for (let j = 0; j < name.length && same; j++) same = name.charCodeAt(j) === (b[start + j] | 0x20);
    if (same) return action;
  }
  return undefined;
}

export function aliasHashA(alias: string): number {
  let h = SEED_A;
  for (let j = 0; j < alias.length; j++) h = Math.imul(h ^ alias.charCodeAt(j), MUL_A);
  return h;
}

export function aliasHashB(alias: string): number {
  let h = SEED_B;
  for (let j = 0; j < alias.length; j++) h = Math.imul(h ^ alias.charCodeAt(j), MUL_B);
  return h;
}

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export function pow32(p: number, e: number): number {
  let r = 1;
  for (let i = 0; i < e; i++) r = Math.imul(r, p);
  return r | 0;
}
