// Worker threads for CPU-heavy per-batch work, on piscina. Order is kept and the number of batches in flight is
// bounded, so memory stays flat whatever the input size (backpressure: the reader is not pulled while the pool is full).
import { Piscina } from "piscina";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import type { Batch } from "../arrow/batch.js";
import type { TransferListItem } from "node:worker_threads";

export interface TaskPoolOptions {
  /** The worker module (a file whose default export is `(task) => result | Promise<result>`). */
  filename: URL | string;
  /** Worker threads; default: available cores. */
  workers?: number;
  /** Data each worker receives once as `workerData` (e.g. a SharedArrayBuffer-backed model handle). */
  workerData?: unknown;
}

export class TaskPool {
  private pool: Piscina | null = null;
  private destroyed = false;
  private readonly filename: string;
  private readonly workerData: unknown;
  /** The most worker threads this pool starts. */
  readonly workers: number;

  constructor(opts: TaskPoolOptions) {
    this.workers = Math.max(1, opts.workers ?? defaultWorkers());
    this.filename = typeof opts.filename === "string" ? opts.filename : opts.filename.href;
    this.workerData = opts.workerData;
  }

  /** Worker threads started so far: none until the first task, then one per task that finds every started thread
   * busy, up to `workers` (a worker costs ~0.1-0.3 CPU-s to start and load its module, wasted if it gets no task). */
  get started(): number {
    return this.pool?.threads.length ?? 0;
  }

  /** Run one task; `transferList` moves ArrayBuffers instead of copying them. */
  run<T, R>(task: T, transferList?: TransferListItem[]): Promise<R> {
    if (this.destroyed) return Promise.reject(new Error("TaskPool: run() after destroy()"));
    // Created on the first task with no thread: piscina starts a thread when a task finds none free (below
    // maxThreads), and idleTimeout Infinity keeps a started one for the next task instead of ending it.
    this.pool ??= new Piscina({
      filename: this.filename,
      minThreads: 0,
      maxThreads: this.workers,
      idleTimeout: Infinity,
      workerData: this.workerData,
      // No execArgv: a worker inherits the parent's options itself (the tsx loader in development, so .ts workers
      // load too). Passing process.execArgv instead fails under Node 24's test runner, which starts each test file
      // with every process-wide default spelled out (--secure-heap=0, --node-snapshot, ...), flags a worker refuses.
    });
    return this.pool.run(task, { transferList: transferList as never }) as Promise<R>;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Map `fn` over `source` with at most `maxInFlight` calls pending, yielding results in source order.
 * The source is pulled only when a slot is free, which bounds memory.
 */
export async function* orderedMap<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  fn: (item: T, index: number) => Promise<R>,
  maxInFlight: number,
): AsyncIterable<R> {
  const limit = Math.max(1, maxInFlight);
  const pending: Promise<R>[] = [];
  let index = 0;
  const it = (Symbol.asyncIterator in source
    ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (source as Iterable<T>)[Symbol.iterator]()) as AsyncIterator<T> | Iterator<T>;
  try {
    while (true) {
      while (pending.length < limit) {
        const next = await it.next();
        if (next.done) {
          while (pending.length) yield await pending.shift()!;
          return;
        }
        const p = fn(next.value, index++);
        p.catch(() => {}); // handled when awaited in order; avoid unhandled-rejection noise meanwhile
        pending.push(p);
      }
      yield await pending.shift()!;
    }
  } finally {
    await it.return?.();
  }
}

/** A Utf8 column copied into one transferable buffer plus offsets (cheaper than posting an array of strings). */
export interface PackedTexts {
  bytes: Uint8Array;
  offsets: Int32Array;
}

export function packTexts(batch: Batch, column = "text"): PackedTexts {
  const col = batch.getChild(column);
  if (!col) throw new Error(`missing column "${column}"`);
  const n = col.length;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (const d of col.data) {
    const o = d.valueOffsets as Int32Array;
    total += o[d.length] - o[0];
  }
  const bytes = new Uint8Array(total);
  let row = 0;
  let pos = 0;
  for (const d of col.data) {
    const o = d.valueOffsets as Int32Array;
    const v = d.values as Uint8Array;
    bytes.set(v.subarray(o[0], o[d.length]), pos);
    for (let i = 0; i < d.length; i++) {
      // Null entries have equal offsets in Arrow, so they unpack as "" (an empty document).
      pos += o[i + 1] - o[i];
      offsets[++row] = pos;
    }
  }
  return { bytes, offsets };
}

const decoder = new TextDecoder();

export function unpackText(p: PackedTexts, i: number): string {
  return decoder.decode(p.bytes.subarray(p.offsets[i], p.offsets[i + 1]));
}

export function packedLength(p: PackedTexts): number {
  return p.offsets.length - 1;
}

/** Transfer list for a PackedTexts (the buffers are detached in the sender afterwards). */
export function packedTransfer(p: PackedTexts): ArrayBuffer[] {
  return [p.bytes.buffer as ArrayBuffer, p.offsets.buffer as ArrayBuffer];
}

/**
 * Resolve a worker module next to the caller: `workerFile(import.meta.url, "./score-worker.js")`.
 * Under tsx (sources) the .ts file exists and is used; from dist/ the compiled .js is.
 */
export function workerFile(callerUrl: string, relative: string): URL {
  const js = new URL(relative, callerUrl);
  if (existsSync(fileURLToPath(js))) return js;
  const ts = new URL(relative.replace(/\.js$/, ".ts"), callerUrl);
  if (existsSync(fileURLToPath(ts))) return ts;
  throw new Error(`worker module not found: ${fileURLToPath(js)}`);
}
