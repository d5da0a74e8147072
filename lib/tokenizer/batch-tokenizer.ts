// Tokenize batches of texts on the main thread or across worker threads, with identical results: each batch is
// framed independently and batches come back in submission order (orderedMap), so the output never depends on the
// worker count.
import { loadTokenizer, type LoadTokenizerOptions, type Tokenizer } from "./load.js";
import { frameDocuments, type FramedTokens } from "./frame.js";
import { TaskPool, workerFile, type PackedTexts } from "../runtime/pool.js";
import type { TokenizeTask } from "./worker.js";

const encoder = new TextEncoder();

/** Strings into one transferable UTF-8 buffer + offsets (the pool's PackedTexts layout). */
export function packStrings(texts: readonly string[]): PackedTexts {
  const parts = texts.map((t) => encoder.encode(t));
  const offsets = new Int32Array(texts.length + 1);
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    total += parts[i].length;
    offsets[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let i = 0; i < parts.length; i++) bytes.set(parts[i], offsets[i]);
  return { bytes, offsets };
}

export interface BatchTokenizerOptions extends LoadTokenizerOptions {
  /** Worker threads; 0 (or unset) tokenizes on the calling thread. */
  workers?: number;
}

export class BatchTokenizer {
  readonly tokenizer: Tokenizer;
  readonly bosId: number | null;
  readonly eosId: number | null;
  private pool: TaskPool | null = null;

  constructor(readonly spec: string, opts: BatchTokenizerOptions = {}) {
    // Loaded here too: validates the name/file early and gives vocabulary facts for the manifest.
    this.tokenizer = loadTokenizer(spec, opts);
    this.bosId = this.tokenizer.bosId;
    this.eosId = this.tokenizer.eosId;
    // N worker threads, as --workers means everywhere; 0 or unset tokenizes on this thread.
    if ((opts.workers ?? 0) > 0) {
      this.pool = new TaskPool({ filename: workerFile(import.meta.url, "./worker.js"), workers: opts.workers });
    }
  }

  get workers(): number {
    return this.pool?.workers ?? 0;
  }

  async tokenize(texts: readonly string[]): Promise<FramedTokens> {
    if (!this.pool) return frameDocuments(this.tokenizer, texts.length, (i) => texts[i], this.bosId, this.eosId);
    const packed = packStrings(texts);
    const task: TokenizeTask = { tokenizer: this.spec, bosId: this.bosId, eosId: this.eosId, texts: packed };
    return this.pool.run<TokenizeTask, FramedTokens>(task, [packed.bytes.buffer as ArrayBuffer, packed.offsets.buffer as ArrayBuffer]);
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = null;
    this.tokenizer.free();
  }
}
