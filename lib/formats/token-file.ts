// One tokenized output shard: Megatron .bin/.idx (canonical), the datatrove .ds sidecars, and a JSON manifest that
// records the tokenizer, the BOS/EOS policy, counts, sources and seed. Documents are shuffled deterministically
// within the shard: they are first streamed to a temporary unshuffled pair, then copied out in a seeded permutation
// (datatrove does the same), so memory stays flat however large the shard.
import { rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { MegatronWriter, MegatronReader, DTYPE_CODE, type TokenDtype } from "./megatron.js";
import { writeDsSidecars } from "./datatrove.js";
import { permutation } from "./shuffle.js";
import { writeFileAtomic } from "../io/atomic.js";

export interface TokenizerInfo {
  name: string;
  hf_name: string;
  vocab_size: number;
  fingerprint: string;
  bos_id: number | null;
  eos_id: number | null;
}

export interface TokenFileManifest {
  format: "megatron-indexed-dataset";
  /** File name prefix (no folder, no extension). */
  prefix: string;
  files: string[];
  dtype: TokenDtype;
  dtype_code: number;
  token_size: number;
  tokenizer: TokenizerInfo;
  /** How each document was framed. Llama-3 default: BOS 128000 + text tokens + EOS 128001. */
  bos_eos: { bos_id: number | null; eos_id: number | null; rule: string };
  documents: number;
  tokens: number;
  /** Tokens of the longest document. */
  max_document_tokens: number;
  template: unknown;
  sources: string[];
  seed: number;
  shuffled: boolean;
}

export interface TokenFileOptions {
  tokenizer: TokenizerInfo;
  dtype?: TokenDtype;
  seed: number;
  shuffle?: boolean;
  /** Write the datatrove .ds sidecars (default true). */
  dsSidecars?: boolean;
  sources?: string[];
  template?: unknown;
}

export function manifestPath(prefix: string): string {
  return prefix + ".manifest.json";
}

/** A shard's manifest, or null when it is absent or unreadable. */
export function readTokenFileManifest(prefix: string): TokenFileManifest | null {
  try {
    return JSON.parse(readFileSync(manifestPath(prefix), "utf8")) as TokenFileManifest;
  } catch {
    return null;
  }
}

/** What makes an existing shard differ from the one these settings would write (null: the same), so that a rerun with
 * another tokenizer, framing, dtype, seed or template redoes the shard instead of keeping the old one. */
export function manifestMismatch(m: TokenFileManifest,
  want: { tokenizer: TokenizerInfo; dtype: TokenDtype; seed: number; template?: unknown }): string | null {
  const diffs: string[] = [];
  if (m.tokenizer?.fingerprint !== want.tokenizer.fingerprint) diffs.push(`tokenizer ${m.tokenizer?.name} (${m.tokenizer?.fingerprint})`);
  if (m.tokenizer?.bos_id !== want.tokenizer.bos_id || m.tokenizer?.eos_id !== want.tokenizer.eos_id) {
    diffs.push(`BOS ${m.tokenizer?.bos_id} / EOS ${m.tokenizer?.eos_id}`);
  }
  if (m.dtype !== want.dtype) diffs.push(`dtype ${m.dtype}`);
  if (m.seed !== want.seed) diffs.push(`seed ${m.seed}`);
  if (JSON.stringify(m.template ?? null) !== JSON.stringify(want.template ?? null)) diffs.push(`template ${JSON.stringify(m.template)}`);
  return diffs.length ? diffs.join(", ") : null;
}

export class TokenFileWriter {
  private constructor(
    readonly prefix: string,
    private readonly opts: TokenFileOptions,
    private readonly stage: MegatronWriter,
    private readonly stagePrefix: string | null,
  ) {}

  static async create(prefix: string, opts: TokenFileOptions): Promise<TokenFileWriter> {
    const shuffle = opts.shuffle ?? true;
    const dtype = opts.dtype ?? "int32";
    const stagePrefix = shuffle
      ? join(dirname(prefix), `.tmp-${basename(prefix)}.unshuffled-${process.pid}-${randomBytes(3).toString("hex")}`)
      : null;
    const stage = await MegatronWriter.create(stagePrefix ?? prefix, dtype);
    return new TokenFileWriter(prefix, { ...opts, shuffle, dtype }, stage, stagePrefix);
  }

  get documents(): number {
    return this.stage.documents;
  }
  get tokens(): number {
    return this.stage.totalTokens;
  }

  add(ids: ArrayLike<number>, where?: string): Promise<void> {
    return this.stage.add(ids, where);
  }

  async finish(): Promise<TokenFileManifest> {
    const dtype = this.opts.dtype!;
    let lengths: Int32Array;
    let maxLen = 0;
    if (this.stagePrefix) {
      await this.stage.finish();
      const reader = new MegatronReader(this.stagePrefix);
      const out = await MegatronWriter.create(this.prefix, dtype);
      try {
        const perm = permutation(reader.documents, this.opts.seed, basename(this.prefix));
        for (const i of perm) await out.add(reader.documentView(i)); // add() copies it before the next read
        lengths = out.documentLengths().slice();
        await out.finish();
      } catch (e) {
        await out.abort();
        throw e;
      } finally {
        reader.close();
        await rm(this.stagePrefix + ".bin", { force: true });
        await rm(this.stagePrefix + ".idx", { force: true });
      }
    } else {
      lengths = this.stage.documentLengths().slice();
      await this.stage.finish();
    }
    let tokens = 0;
    for (const l of lengths) {
      tokens += l;
      if (l > maxLen) maxLen = l;
    }
    const tokenSize = dtype === "int32" ? 4 : 2;
    const base = basename(this.prefix);
    const files = [`${base}.bin`, `${base}.idx`];
    if (this.opts.dsSidecars ?? true) {
      const written = await writeDsSidecars(this.prefix, lengths, this.opts.tokenizer.hf_name, tokenSize);
      files.push(...written.map((p) => basename(p)));
    }
    const t = this.opts.tokenizer;
    const manifest: TokenFileManifest = {
      format: "megatron-indexed-dataset",
      prefix: base,
      files,
      dtype,
      dtype_code: DTYPE_CODE[dtype],
      token_size: tokenSize,
      tokenizer: t,
      bos_eos: {
        bos_id: t.bos_id,
        eos_id: t.eos_id,
        rule: `each document is ${t.bos_id !== null ? `BOS ${t.bos_id} + ` : ""}text tokens${t.eos_id !== null ? ` + EOS ${t.eos_id}` : ""}`,
      },
      documents: lengths.length,
      tokens,
      max_document_tokens: maxLen,
      template: this.opts.template ?? null,
      sources: this.opts.sources ?? [],
      seed: this.opts.seed,
      shuffled: this.opts.shuffle!,
    };
    await writeFileAtomic(manifestPath(this.prefix), JSON.stringify(manifest, null, 2) + "\n");
    return manifest;
  }

  async abort(): Promise<void> {
    await this.stage.abort();
    if (this.stagePrefix) {
      await rm(this.stagePrefix + ".bin", { force: true });
      await rm(this.stagePrefix + ".idx", { force: true });
    }
  }
}
