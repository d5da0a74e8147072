// Tokenize a list of documents into one flat id array plus per-document lengths, each document framed by the
// tokenizer's BOS/EOS policy (Llama-3: 128000 + tokens + 128001). Shared by the main-thread path and the workers,
// so both produce the same ids.
import { TokenSink, type Tokenizer } from "./bpe.js";

export interface FramedTokens {
  ids: Uint32Array;
  lengths: Int32Array;
}

export function frameDocuments(tok: Tokenizer, count: number, textAt: (i: number) => string,
  bosId: number | null, eosId: number | null): FramedTokens {
  const sink = new TokenSink(1 << 16);
  const lengths = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const start = sink.length;
    if (bosId !== null) sink.push(bosId);
    tok.encodeInto(textAt(i), sink);
    if (eosId !== null) sink.push(eosId);
    lengths[i] = sink.length - start;
  }
  return { ids: sink.take(), lengths };
}
