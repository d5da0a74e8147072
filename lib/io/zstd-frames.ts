// Follows the frame layout of a zstd stream (RFC 8878 §3.1: frame header, block headers, optional checksum;
// skippable frames) without decoding anything: where each frame ends, and whether the input stopped at a frame
// boundary. Why: Node's built-in zstd decoder (zlib, Node >= 22.15) has two silent failures that gunzip, fzstd
// and the zstd CLI do not: a truncated frame decodes to the bytes decoded so far with no error
// (nodejs/node#64592), and of several frames in one input only the first is decoded (nodejs/node#64741) — so
// the zlib path in zstd.ts hands it one frame at a time and checks the end. Walking headers costs a few
// operations per block (blocks are up to 128 KiB).

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const DICT_ID_BYTES = [0, 1, 2, 4];
const CONTENT_SIZE_BYTES = [0, 2, 4, 8]; // flag 0 means 1 byte when the frame is a single segment

type Want = "magic" | "skippable-size" | "descriptor" | "window" | "content-size" | "block-header";
const WANT_BYTES: Record<Want, number> = {
  magic: 4, "skippable-size": 4, descriptor: 1, window: 1, "content-size": 0 /* 1, 2, 4 or 8: see contentSizeBytes */, "block-header": 3,
};

/** Largest window (history a decoder must keep) accepted: 256 MiB. zstd's own decoder refuses more than 128 MiB
 * unless told otherwise (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27); fzstd (Node 20) allocates whatever the frame header
 * claims, up to 2 GiB, and copies the whole window on every block — a hostile header must not get that far. */
export const MAX_ZSTD_WINDOW = 256 * 1024 * 1024;

export class ZstdFrameWalker {
  private want: Want = "magic";
  private readonly head = new Uint8Array(8);
  private contentSizeBytes = 0;
  private afterWindow = 0; // header bytes (dictionary id, content size) after the window descriptor
  private got = 0; // bytes of `head` collected for `want`
  private skip = 0; // bytes to pass over before `want` starts (header fields, block content, checksum, user data)
  private checksum = false;
  private inFrame = false; // some bytes of the current frame were seen
  private inBlock = false; // the current `skip` is a block's content (block ends are reported to push's caller)

  /** Feed the next bytes of the stream; returns the offsets in `bytes` just past each frame that ends in them.
   * Throws on bytes that cannot start a frame or hold a reserved value. With `blockEnds`, the offsets just past
   * each block (content and, for a frame's last block, checksum) that ends in `bytes` are appended to it. */
  push(bytes: Uint8Array, blockEnds?: number[]): number[] {
    const ends: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - i);
        this.skip -= n;
        i += n;
      } else {
        const need = this.want === "content-size" ? this.contentSizeBytes : WANT_BYTES[this.want];
        while (this.got < need && i < bytes.length) this.head[this.got++] = bytes[i++];
        if (this.got === need) this.parse();
      }
      if (this.inBlock && this.skip === 0 && this.got === 0) {
        this.inBlock = false;
        blockEnds?.push(i);
      }
      if (this.atFrameBoundary && this.inFrame) {
        this.inFrame = false;
        ends.push(i);
      }
    }
    return ends;
  }

  /** True when everything pushed so far is whole frames (also when nothing was pushed). */
  get atFrameBoundary(): boolean {
    return this.want === "magic" && this.got === 0 && this.skip === 0;
  }

  private next(want: Want, skip: number): void {
    this.want = want;
    this.got = 0;
    this.skip = skip;
  }

  private parse(): void {
    const h = this.head;
    switch (this.want) {
      case "magic": {
        const magic = (h[0] | (h[1] << 8) | (h[2] << 16) | (h[3] << 24)) >>> 0;
        this.inFrame = true;
        if (magic === ZSTD_MAGIC) this.next("descriptor", 0);
        else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) this.next("skippable-size", 0);
        else throw new Error(`not a zstd frame (magic number 0x${magic.toString(16).padStart(8, "0")})`);
        return;
      }
      case "skippable-size": {
        this.next("magic", (h[0] | (h[1] << 8) | (h[2] << 16) | (h[3] << 24)) >>> 0);
        return;
      }
      case "descriptor": {
        const d = h[0];
        if (d & 0x08) throw new Error("corrupt zstd frame header (reserved bit set)");
        const singleSegment = (d >> 5) & 1;
        const contentSizeFlag = d >> 6;
        this.checksum = ((d >> 2) & 1) === 1;
        const fcs = contentSizeFlag === 0 ? singleSegment : CONTENT_SIZE_BYTES[contentSizeFlag];
        if (singleSegment) {
          // The window is the content size (RFC 8878 §3.1.1.1.2), after the dictionary id.
          this.contentSizeBytes = fcs;
          this.next("content-size", DICT_ID_BYTES[d & 3]);
        } else {
          this.afterWindow = DICT_ID_BYTES[d & 3] + fcs;
          this.next("window", 0);
        }
        return;
      }
      case "window": {
        const exponent = h[0] >> 3;
        const base = 2 ** (10 + exponent);
        checkWindow(base + (base / 8) * (h[0] & 7));
        this.next("block-header", this.afterWindow);
        return;
      }
      case "content-size": {
        let size = 0;
        for (let k = this.contentSizeBytes - 1; k >= 0; k--) size = size * 256 + h[k];
        if (this.contentSizeBytes === 2) size += 256;
        checkWindow(size);
        this.next("block-header", 0);
        return;
      }
      case "block-header": {
        const b = h[0] | (h[1] << 8) | (h[2] << 16);
        const last = b & 1;
        const type = (b >> 1) & 3;
        const size = b >>> 3;
        if (type === 3) throw new Error("corrupt zstd block (reserved block type)");
        const content = type === 1 ? 1 : size; // an RLE block stores its one byte, whatever its size
        this.inBlock = true;
        if (last) this.next("magic", content + (this.checksum ? 4 : 0));
        else this.next("block-header", content);
        return;
      }
    }
  }
}

function checkWindow(bytes: number): void {
  if (bytes > MAX_ZSTD_WINDOW) {
    throw new Error(`zstd frame needs a ${Math.round(bytes / 2 ** 20)} MiB window, over the ${MAX_ZSTD_WINDOW / 2 ** 20} MiB limit (hostile or corrupt header?)`);
  }
}

/** The offsets just past each frame of `bytes`, and whether the last frame is whole. Throws on non-zstd bytes. */
export function zstdFrameEnds(bytes: Uint8Array): { ends: number[]; whole: boolean } {
  const w = new ZstdFrameWalker();
  const ends = w.push(bytes);
  return { ends, whole: w.atFrameBoundary };
}
