// The two sidecars that make a Megatron .bin readable as a datatrove/nanotron `.ds` dataset
// (datatrove `pipeline/tokens/tokenizer.py`, `utils/dataset.py`; ../shared/research/trainer-anchors.md §2.3):
//   <prefix>.ds           the token payload: a relative symlink to <prefix>.bin (int32 ids < 2^31 are byte-identical
//                         to the uint32 datatrove reads, so no copy is needed);
//   <prefix>.ds.index     uint64 little-endian cumulative document END offsets in tokens, no header, no leading 0;
//   <prefix>.ds.metadata  three text lines: "<tokenizer name>|<token size>", the token count, the humanized count.
import { symlink, rm } from "node:fs/promises";
import { basename } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";

export function dsIndexBytes(lengths: Int32Array): Uint8Array {
  const out = new BigUint64Array(lengths.length);
  let end = 0n;
  for (let i = 0; i < lengths.length; i++) {
    end += BigInt(lengths[i]);
    out[i] = end;
  }
  // BigUint64Array is host-endian; every platform Node supports for this is little-endian, checked by the caller.
  return new Uint8Array(out.buffer);
}

/** datatrove's humanized count (e.g. "1.96M"). */
export function humanCount(n: number): string {
  const units = ["", "K", "M", "B", "T"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? String(n) : `${v.toFixed(2).replace(/\.?0+$/, "")}${units[u]}`;
}

export function dsMetadataText(tokenizerName: string, tokenSize: number, tokens: number): string {
  return `${tokenizerName}|${tokenSize}\n${tokens}\n${humanCount(tokens)}`;
}

/** Write `<prefix>.ds` (symlink), `.ds.index` and `.ds.metadata` next to a finished `<prefix>.bin`. */
export async function writeDsSidecars(prefix: string, lengths: Int32Array, tokenizerName: string, tokenSize: 2 | 4): Promise<string[]> {
  let tokens = 0;
  for (const l of lengths) tokens += l;
  await writeFileAtomic(prefix + ".ds.index", dsIndexBytes(lengths));
  await writeFileAtomic(prefix + ".ds.metadata", dsMetadataText(tokenizerName, tokenSize, tokens));
  await rm(prefix + ".ds", { force: true });
  await symlink(basename(prefix) + ".bin", prefix + ".ds");
  return [prefix + ".ds", prefix + ".ds.index", prefix + ".ds.metadata"];
}
