// Request-level resume: every answered request is appended to a JSONL journal, keyed by a hash of the document id and
// the exact request body (model, sampling parameters, rendered prompt — so a changed prompt, truncation budget or
// parameter never replays an old answer). Each answer is written to the file in the event-loop turn it arrives (a killed process loses none)
// and fsynced in chunks (every `chunkRecords` answers or `chunkMs` ms: a machine crash loses at most one chunk); a
// half-written last line is cut off when the journal is reopened. Only answers are stored: never headers, never the API key.
import { open, mkdir, stat, truncate, type FileHandle } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { closeReadStream } from "../io/close-stream.js";
import { dirname } from "node:path";
import { createHash } from "node:crypto";
import type { LlmAnswer } from "./client.js";

export interface JournalOptions {
  chunkRecords?: number;
  chunkMs?: number;
}

interface Line {
  k: string;
  text: string;
  finish: string | null;
  pt: number;
  ct: number;
}

/** The cache key of one request: sha256(doc id, NUL, request body JSON). */
export function requestKey(docId: string, body: Record<string, unknown>): string {
  return createHash("sha256").update(docId).update("\0").update(JSON.stringify(body)).digest("base64url");
}

export class RequestJournal {
  private readonly answers = new Map<string, LlmAnswer>();
  private buffer: string[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private fh?: FileHandle;
  private failed?: Error;
  private unsynced = 0;
  private writeScheduled = false;
  /** Lines dropped on open because a killed run left them half-written. */
  repairedBytes = 0;

  private constructor(readonly path: string, private readonly chunkRecords: number, private readonly chunkMs: number) {}

  static async open(path: string, opts: JournalOptions = {}): Promise<RequestJournal> {
    const j = new RequestJournal(path, opts.chunkRecords ?? 256, opts.chunkMs ?? 1000);
    await mkdir(dirname(path), { recursive: true });
    await j.load();
    j.fh = await open(path, "a");
    return j;
  }

  get size(): number {
    return this.answers.size;
  }

  get(key: string): LlmAnswer | undefined {
    return this.answers.get(key);
  }

  /**
   * Record an answer. It reaches the file (the OS) within the same event-loop turn, so a killed process loses nothing
   * it has recorded; it is fsynced (durable against a machine crash) every `chunkRecords` answers or `chunkMs` ms.
   */
  record(key: string, a: LlmAnswer): void {
    if (this.failed) throw this.failed;
    this.answers.set(key, a);
    const line: Line = { k: key, text: a.text, finish: a.finishReason, pt: a.promptTokens, ct: a.completionTokens };
    this.buffer.push(JSON.stringify(line) + "\n");
    if (!this.writeScheduled) {
      this.writeScheduled = true;
      setImmediate(() => {
        this.writeScheduled = false;
        void this.write(false).catch(() => {});
      });
    }
  }

  /** Write and fsync everything recorded so far. */
  flush(): Promise<void> {
    return this.write(true);
  }

  private write(forceSync: boolean): Promise<void> {
    const data = this.buffer.join("");
    const n = this.buffer.length;
    this.buffer = [];
    this.flushing = this.flushing.then(async () => {
      if (this.failed || !this.fh) return;
      try {
        if (data) await this.fh.write(data);
        this.unsynced += n;
        if (this.unsynced > 0 && (forceSync || this.unsynced >= this.chunkRecords)) {
          clearTimeout(this.timer);
          this.timer = undefined;
          this.unsynced = 0;
          await this.fh.sync();
        } else if (this.unsynced > 0) {
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            void this.write(true).catch(() => {});
          }, this.chunkMs);
        }
      } catch (e) {
        this.failed = new Error(`cannot write request journal ${this.path}: ${(e as Error).message}`);
      }
    });
    return this.flushing.then(() => {
      if (this.failed) throw this.failed;
    });
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      clearTimeout(this.timer);
      await this.fh?.close();
      this.fh = undefined;
    }
  }

  private async load(): Promise<void> {
    let size: number;
    try {
      size = (await stat(this.path)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    // Read line by line; remember where the last complete line ends so a torn tail can be cut off.
    let goodEnd = 0;
    let pos = 0;
    let lineNo = 0;
    const input = createReadStream(this.path, { encoding: "utf8" });
    const rl = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const raw of rl) {
        lineNo++;
        const lineBytes = Buffer.byteLength(raw) + 1;
        const complete = pos + lineBytes <= size; // readline also yields a last line without "\n"
        pos += lineBytes;
        if (!complete) break;
        let rec: Line;
        try {
          rec = JSON.parse(raw) as Line;
        } catch {
          throw new Error(`request journal ${this.path} line ${lineNo} is corrupt (not a torn tail); move it away to start over`);
        }
        this.answers.set(rec.k, { text: rec.text, finishReason: rec.finish, promptTokens: rec.pt, completionTokens: rec.ct });
        goodEnd = pos;
      }
    } finally {
      rl.close(); // a torn tail or a corrupt line leaves the loop early, with the file still open
      await closeReadStream(input);
    }
    if (goodEnd < size) {
      this.repairedBytes = size - goodEnd;
      await truncate(this.path, goodEnd);
    }
  }
}
