// Reads a training file as an endless cycle of lines, starting at a byte offset, the way each fastText training
// thread does (seek to threadId * size / threads, then wrap to the start at EOF). Lines are byte ranges in an
// internal buffer that is refilled in chunks, so files of any size stream through bounded memory.
import { readSync } from "node:fs";

const CHUNK = 4 << 20;

export class LineCursor {
  buf = new Uint8Array(CHUNK);
  /** the current line is buf[start, end); `newline` says whether a '\n' ended it */
  start = 0;
  end = 0;
  newline = false;
  private pos = 0; // next unread byte of buf
  private fill = 0; // valid bytes in buf
  private filePos: number; // file offset of buf[fill]

  constructor(
    private readonly fd: number,
    private readonly size: number,
    offset: number,
  ) {
    this.filePos = offset;
  }

  /** Advance to the next line (wrapping at EOF). The file must not be empty. */
  next(): void {
    for (;;) {
      const nl = this.buf.indexOf(10, this.pos);
      if (nl >= 0 && nl < this.fill) {
        this.start = this.pos;
        this.end = nl;
        this.newline = true;
        this.pos = nl + 1;
        return;
      }
      if (this.filePos >= this.size) {
        // End of file: what is left is a last line without '\n'; then start over from byte 0.
        const rest = this.fill - this.pos;
        this.filePos = 0;
        if (rest > 0) {
          this.start = this.pos;
          this.end = this.fill;
          this.newline = false;
          this.pos = this.fill;
          return;
        }
        this.pos = 0;
        this.fill = 0;
        continue;
      }
      // Keep the unfinished line, read more behind it.
      const keep = this.fill - this.pos;
      if (keep === this.buf.length) {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      } else if (this.pos > 0) {
        this.buf.copyWithin(0, this.pos, this.fill);
      }
      this.pos = 0;
      this.fill = keep;
      const got = readSync(this.fd, this.buf, this.fill, Math.min(this.buf.length - this.fill, this.size - this.filePos), this.filePos);
      if (got <= 0) throw new Error("training file shrank while reading it");
      this.fill += got;
      this.filePos += got;
    }
  }
}
