// Test worker: an FNV-1a hash of each document (a stand-in for any per-document CPU work).
import { type PackedTexts, packedLength } from "../../lib/runtime/pool.js";

export default function (p: PackedTexts): Float64Array {
  const n = packedLength(p);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let h = 0x811c9dc5;
    for (let k = p.offsets[i]; k < p.offsets[i + 1]; k++) h = Math.imul(h ^ p.bytes[k], 16777619) >>> 0;
    out[i] = h;
  }
  return out;
}
