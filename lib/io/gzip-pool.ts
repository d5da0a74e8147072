// Compression of .jsonl.gz output in worker threads. The writer cuts its output into gzip members (4 MiB of
// lines each) and hands each to the pool; members are written in the order they were cut, and each is compressed
// by the same zlib with the same level as on the main thread, so the file is byte-identical for any number of
// workers. The pool starts its threads on the first member only (a small output pays no start-up), and one pool
// serves every file of a run.
import { TaskPool, workerFile } from "../runtime/pool.js";
import type { GzipTask } from "./gzip-worker.js";

/** Pools whose threads were started in this process, and their threads (what a test checks `--workers N` started). */
export const gzipPoolsStarted = { pools: 0, threads: 0 };

export class GzipPool {
  readonly workers: number;
  /** Members a writer may have in flight before it waits for the oldest (bounds memory: ~2 × 4 MiB each). */
  readonly maxInFlight: number;
  /** Members compressed, and the worker threads that compressed them (for tests and logs). */
  readonly done = { members: 0, threads: new Set<number>() };
  private pool: TaskPool | null = null;

  constructor(workers: number) {
    if (!(Number.isInteger(workers) && workers >= 1)) throw new RangeError(`GzipPool needs >= 1 worker, got ${workers}`);
    this.workers = workers;
    this.maxInFlight = 2 * workers;
  }

  /** One gzip member of these bytes (they are moved to the worker: the caller must not use them again). */
  async gzip(bytes: Uint8Array, level: number): Promise<Uint8Array> {
    if (!this.pool) {
      this.pool = new TaskPool({ filename: workerFile(import.meta.url, "./gzip-worker.js"), workers: this.workers });
      gzipPoolsStarted.pools++;
      gzipPoolsStarted.threads += this.workers;
    }
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const task: GzipTask = { bytes: own ? bytes : bytes.slice(), level };
    const r = await this.pool.run<GzipTask, { bytes: Uint8Array; thread: number }>(task, [task.bytes.buffer as ArrayBuffer]);
    this.done.members++;
    this.done.threads.add(r.thread);
    return r.bytes;
  }

  async destroy(): Promise<void> {
    await this.pool?.destroy();
    this.pool = null;
  }
}
