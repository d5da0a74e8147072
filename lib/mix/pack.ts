// Pack one source's share: whole epochs of its documents, each epoch in its own seeded order (Megatron upsamples by
// whole reshuffled epochs too), then part of one more epoch until the planned token count is reached exactly.
// The document that crosses the budget is cut to fit (it keeps its BOS, loses its tail and EOS) so that token
// shares equal the weights exactly; the number of cut documents is recorded.
import { MegatronReader } from "../formats/megatron.js";
import { TokenFileWriter, type TokenizerInfo, type TokenFileManifest } from "../formats/token-file.js";
import { permutation } from "../formats/shuffle.js";
import type { TokenSourceInfo } from "./sources.js";

export interface PackResult {
  manifest: TokenFileManifest;
  documents_written: number;
  tokens_written: number;
  truncated_documents: number;
  full_epochs: number;
}

export async function packSource(name: string, src: TokenSourceInfo, planned: number, outPrefix: string,
  tokenizer: TokenizerInfo, seed: number, shown: (prefix: string) => string = (p) => p): Promise<PackResult> {
  const readers = src.prefixes.map((p) => new MegatronReader(p));
  // Flat document list over all files of the source: (file, document) pairs in file order.
  const fileOf = new Uint32Array(src.documents);
  const docOf = new Uint32Array(src.documents);
  let k = 0;
  src.lengths.forEach((ls, f) => {
    for (let d = 0; d < ls.length; d++, k++) {
      fileOf[k] = f;
      docOf[k] = d;
    }
  });
  const dtype = readers[0]?.index.dtype ?? "int32";
  const writer = await TokenFileWriter.create(outPrefix, {
    tokenizer, dtype, seed, shuffle: false, sources: src.prefixes.map(shown), template: null,
  });
  let written = 0;
  let docs = 0;
  let truncated = 0;
  let epoch = 0;
  try {
    while (written < planned) {
      const perm = permutation(src.documents, seed, `${name}#epoch${epoch}`);
      for (let i = 0; i < perm.length && written < planned; i++) {
        const j = perm[i];
        const ids = readers[fileOf[j]].documentView(docOf[j]); // copied by add() before the next read
        const room = planned - written;
        if (ids.length > room) {
          await writer.add(ids.subarray(0, room), `${name} document ${j}`);
          written += room;
          truncated++;
        } else {
          await writer.add(ids, `${name} document ${j}`);
          written += ids.length;
        }
        docs++;
      }
      epoch++;
    }
    const manifest = await writer.finish();
    return { manifest, documents_written: docs, tokens_written: written, truncated_documents: truncated, full_epochs: Math.floor(planned / Math.max(1, src.tokens)) };
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    for (const r of readers) r.close();
  }
}
