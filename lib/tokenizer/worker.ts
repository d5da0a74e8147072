// Worker thread for `tokenizeBatches`: loads the tokenizer once per thread (ranks come from the per-machine cache)
// and turns a packed batch of texts into framed ids. Results go back as transferable typed arrays.
import { loadTokenizer, type Tokenizer } from "./load.js";
import { frameDocuments, type FramedTokens } from "./frame.js";
import { unpackText, packedLength, type PackedTexts } from "../runtime/pool.js";

export interface TokenizeTask {
  tokenizer: string;
  bosId: number | null;
  eosId: number | null;
  texts: PackedTexts;
}

const loaded = new Map<string, Tokenizer>();

export default function tokenizeTask(task: TokenizeTask): FramedTokens {
  let tok = loaded.get(task.tokenizer);
  if (!tok) {
    tok = loadTokenizer(task.tokenizer);
    loaded.set(task.tokenizer, tok);
  }
  return frameDocuments(tok, packedLength(task.texts), (i) => unpackText(task.texts, i), task.bosId, task.eosId);
}
