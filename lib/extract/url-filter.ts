// URL filtering as MegaMath's stage 1 does it (recipe §1.2): RefinedWeb/datatrove-style banned words in the URL,
// UT1 blocklist categories (domains and urls per category), MegaMath's curated-source exclusion and its whitelist.
// Every removal names the list that removed it ("blocklist:gambling", "curated", "banned_word", …). Lists are read
// from local files only; nothing is downloaded.
import { readFile, readdir, stat } from "node:fs/promises";
import { join, basename } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Batch } from "../arrow/batch.js";
import { getStrings, filterRows } from "../arrow/batch.js";
import type { Stage, StageContext } from "../runtime/stage.js";

export interface UrlFilterLists {
  /** category → blocked domains (a domain blocks its subdomains). */
  blockDomains: Map<string, Set<string>>;
  /** category → blocked URL prefixes ("host/path", no scheme, no leading www.). */
  blockUrls: Map<string, Set<string>>;
  /** Domains or "host/path" prefixes of curated sources, removed as "curated". */
  curated: Set<string>;
  /** Domains or prefixes that bypass the blocklists and word lists. */
  whitelist: Set<string>;
  bannedWords: Set<string>;
  softBannedWords: Set<string>;
  bannedSubwords: string[];
  /** Soft-banned words needed to remove a URL (datatrove: 2). */
  softThreshold: number;
}

export interface UrlFilterFiles {
  /** UT1-format folders: <category>/domains and <category>/urls (optionally .gz), or flat <category>.domains[.txt][.gz]. */
  blocklistDirs?: string[];
  curatedFiles?: string[];
  whitelistFiles?: string[];
  bannedWordFiles?: string[];
  softBannedWordFiles?: string[];
  bannedSubwordFiles?: string[];
  softThreshold?: number;
}

async function readList(path: string): Promise<string[]> {
  let buf = await readFile(path);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  return buf.toString("utf8").split(/\r?\n/).map((l) => l.trim().toLowerCase()).filter((l) => l && !l.startsWith("#"));
}

const FLAT = /^(.+?)\.(domains|urls)(\.txt)?(\.gz)?$/;

/** Read every list named in `f`. Throws (naming the path) when a folder holds no list: an empty filter would pass
 * everything silently. */
export async function loadUrlLists(f: UrlFilterFiles): Promise<UrlFilterLists> {
  const lists: UrlFilterLists = {
    blockDomains: new Map(), blockUrls: new Map(), curated: new Set(), whitelist: new Set(), bannedWords: new Set(),
    softBannedWords: new Set(), bannedSubwords: [], softThreshold: f.softThreshold ?? 2,
  };
  const add = (m: Map<string, Set<string>>, cat: string, entries: string[]) => {
    const s = m.get(cat) ?? new Set<string>();
    for (const e of entries) s.add(cleanEntry(e));
    m.set(cat, s);
  };
  for (const dir of f.blocklistDirs ?? []) {
    let found = 0;
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name);
      if ((await stat(p)).isDirectory()) {
        for (const kind of ["domains", "urls"] as const) {
          for (const file of [kind, `${kind}.gz`, `${kind}.txt`, `${kind}.txt.gz`]) {
            const q = join(p, file);
            if (await exists(q)) {
              add(kind === "domains" ? lists.blockDomains : lists.blockUrls, name, await readList(q));
              found++;
            }
          }
        }
      } else {
        const m = FLAT.exec(basename(name));
        if (!m) continue;
        add(m[2] === "domains" ? lists.blockDomains : lists.blockUrls, m[1], await readList(p));
        found++;
      }
    }
    if (!found) throw new Error(`${dir}: no blocklist found (expected <category>/domains, <category>/urls or <category>.domains.txt[.gz])`);
  }
  for (const p of f.curatedFiles ?? []) for (const e of await readList(p)) lists.curated.add(cleanEntry(e));
  for (const p of f.whitelistFiles ?? []) for (const e of await readList(p)) lists.whitelist.add(cleanEntry(e));
  for (const p of f.bannedWordFiles ?? []) for (const e of await readList(p)) lists.bannedWords.add(e);
  for (const p of f.softBannedWordFiles ?? []) for (const e of await readList(p)) lists.softBannedWords.add(e);
  for (const p of f.bannedSubwordFiles ?? []) for (const e of await readList(p)) lists.bannedSubwords.push(normalizeSpace(e));
  return lists;
}

async function exists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function cleanEntry(e: string): string {
  return stripWww(e.replace(/^[a-z]+:\/\//, "")).replace(/\/+$/, "");
}

/** "www." / "www2." off a host, unless that leaves a bare suffix ("www39115.com" is a domain, not "com"). */
function stripWww(h: string): string {
  const m = /^www\d*\.(.*)$/.exec(h);
  return m && /\.[^/]*$/.test(m[1].split("/")[0]) ? m[1] : h;
}

function normalizeSpace(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

/** "host/path" of a URL, lower-cased host without www., or null when it has no host. */
export function hostPath(url: string): { host: string; path: string } | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/:?#]+)(?::\d+)?([^?#]*)/i.exec(url.trim());
  if (!m) return null;
  const host = stripWww(m[1].toLowerCase().replace(/\.$/, ""));
  return host ? { host, path: m[2] } : null;
}

function domainIn(host: string, set: Set<string>): boolean {
  let h = host;
  for (;;) {
    if (set.has(h)) return true;
    const dot = h.indexOf(".");
    if (dot < 0) return false;
    h = h.slice(dot + 1);
  }
}

function prefixIn(host: string, path: string, set: Set<string>): boolean {
  if (!set.size) return false;
  if (domainIn(host, set)) return true;
  // host/a, host/a/b, … (an entry "ncbi.nlm.nih.gov/pmc" removes every page under it)
  const segs = path.split("/").filter(Boolean);
  let p = host;
  for (const s of segs) {
    p += "/" + s.toLowerCase();
    if (set.has(p)) return true;
  }
  return false;
}

/** Why `url` is removed, or null to keep it. */
export function urlRemovalReason(url: string, l: UrlFilterLists): string | null {
  const hp = hostPath(url);
  if (!hp) return "bad_url";
  if (prefixIn(hp.host, hp.path, l.curated)) return "curated";
  if (prefixIn(hp.host, hp.path, l.whitelist)) return null;
  for (const [cat, set] of l.blockDomains) if (domainIn(hp.host, set)) return `blocklist:${cat}`;
  for (const [cat, set] of l.blockUrls) if (prefixIn(hp.host, hp.path, set)) return `blocklist_url:${cat}`;
  const lower = url.toLowerCase();
  if (l.bannedWords.size || l.softBannedWords.size) {
    const words = lower.split(/[^\p{L}\p{N}]+/u);
    let soft = 0;
    for (const w of words) {
      if (l.bannedWords.has(w)) return "banned_word";
      if (l.softBannedWords.has(w)) soft++;
    }
    if (soft >= l.softThreshold) return "soft_banned_words";
  }
  if (l.bannedSubwords.length) {
    const norm = ` ${normalizeSpace(lower)} `;
    for (const s of l.bannedSubwords) if (s && norm.includes(s)) return "banned_subword";
  }
  return null;
}

export function urlFilterStage(lists: UrlFilterLists, identity: string): Stage {
  return {
    name: "url-filter",
    requires: ["url"],
    identity: () => identity,
    async *run(input: AsyncIterable<Batch>, ctx: StageContext) {
      for await (const b of input) {
        const urls = getStrings(b, "url");
        const keep = new Uint8Array(b.numRows);
        let kept = 0;
        urls.forEach((u, i) => {
          const r = urlRemovalReason(u ?? "", lists);
          if (r) ctx.stats.remove(r);
          else {
            keep[i] = 1;
            kept++;
          }
        });
        if (kept === b.numRows) yield b;
        else if (kept) yield filterRows(b, keep);
      }
    },
  };
}
