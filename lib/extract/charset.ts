// Decode an HTML payload to a string. Order (what browsers do, simplified): a byte-order mark; the HTTP charset if
// it names an encoding this Node knows; a <meta charset> / <meta http-equiv content-type> in the first 4 KB; else
// UTF-8 if the bytes are valid UTF-8, else windows-1252 (the WHATWG default for unlabelled Western pages).
// A page declared UTF-8 whose bytes are not valid UTF-8 stays UTF-8 (with replacement characters) when it holds
// well-formed multi-byte sequences (a real UTF-8 page with a few bad bytes), and is read as windows-1252 otherwise
// (a Latin-1 page with a wrong label).
// Node's TextDecoder (full ICU) knows the legacy encodings of the web (gbk, gb18030, big5, shift_jis, euc-jp,
// euc-kr, windows-125x, koi8-r, iso-8859-x), so no extra dependency is needed.

export interface Decoded {
  text: string;
  /** The WHATWG name of the encoding used ("utf-8", "gbk", "windows-1251", …). */
  charset: string;
  /** How it was chosen: bom, http, meta, sniff (valid UTF-8), fallback. */
  source: "bom" | "http" | "meta" | "sniff" | "fallback";
}

type Decoder = InstanceType<typeof TextDecoder>;
const decoders = new Map<string, Decoder | null>();

/** A decoder for an encoding label, or null when the label is unknown (or names a non-ASCII-compatible encoding
 * such as UTF-16 declared in a meta tag, which cannot be right if we could read the meta tag). */
function decoderFor(label: string): Decoder | null {
  const key = label.trim().toLowerCase();
  let d = decoders.get(key);
  if (d !== undefined) return d;
  try {
    d = new TextDecoder(key);
    // "x-user-defined" and "replacement" are not real page encodings.
    if (d.encoding === "replacement" || d.encoding === "x-user-defined") d = null;
  } catch {
    d = null;
  }
  if (decoders.size < 256) decoders.set(key, d);
  return d;
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextDecoder("utf-8");

const META = /<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)/i;

export function sniffMetaCharset(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 4096)).toString("latin1");
  const m = META.exec(head);
  return m ? m[1].toLowerCase() : "";
}

export function decodeHtml(bytes: Uint8Array, httpCharset: string): Decoded {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: utf8.decode(bytes.subarray(3)), charset: "utf-8", source: "bom" };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), charset: "utf-16le", source: "bom" };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)), charset: "utf-16be", source: "bom" };
  for (const [label, source] of [[httpCharset, "http"], [sniffMetaCharset(bytes), "meta"]] as const) {
    if (!label) continue;
    const d = decoderFor(label);
    if (!d || d.encoding.startsWith("utf-16")) continue;
    if (d.encoding === "utf-8") {
      const t = tryUtf8(bytes);
      if (t !== null) return { text: t, charset: "utf-8", source };
      // Declared UTF-8 but not valid: fall through to the sniffing below, which settles it.
      break;
    }
    return { text: d.decode(bytes), charset: d.encoding, source };
  }
  const t = tryUtf8(bytes);
  if (t !== null) return { text: t, charset: "utf-8", source: "sniff" };
  if (hasUtf8Sequences(bytes)) return { text: utf8.decode(bytes), charset: "utf-8", source: "fallback" };
  return { text: decoderFor("windows-1252")!.decode(bytes), charset: "windows-1252", source: "fallback" };
}

function tryUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return null;
  }
}

/** More than a handful of well-formed 2-4 byte UTF-8 sequences: a UTF-8 page with some damage. */
function hasUtf8Sequences(b: Uint8Array): boolean {
  let good = 0;
  const n = Math.min(b.length, 1 << 16);
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c < 0xc2 || c > 0xf4) continue;
    const len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    let ok = i + len <= n;
    for (let k = 1; ok && k < len; k++) ok = (b[i + k] & 0xc0) === 0x80;
    if (ok) {
      good++;
      i += len - 1;
      if (good >= 8) return true;
    }
  }
  return false;
}

/** Rough test for a binary body labelled as HTML: NUL bytes or many control characters in the first 1 KB. */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 1024);
  let ctl = 0;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === 0) return !(bytes[0] === 0xff || bytes[0] === 0xfe); // UTF-16 has NULs
    if (c < 9 || (c > 13 && c < 32)) ctl++;
  }
  return ctl > n / 10;
}
