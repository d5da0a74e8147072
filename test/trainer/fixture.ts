// Small Megatron token files written straight from the format description (trainer-anchors.md §2.1), independent
// of the tokenize/mix code, plus a mixture.json in the shape `megamath mix` writes.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { spawnSync } from "node:child_process";
import { repoRoot } from "../helpers.js";
import { pythonWith } from "../oracles.js";

export function writeMegatron(prefix: string, docs: number[][]): void {
  mkdirSync(dirname(prefix), { recursive: true });
  const total = docs.reduce((a, d) => a + d.length, 0);
  const bin = Buffer.alloc(total * 4);
  let o = 0;
  for (const d of docs) for (const t of d) o = bin.writeInt32LE(t, o);
  const n = docs.length;
  const idx = Buffer.alloc(34 + 4 * n + 8 * n + 8 * (n + 1));
  Buffer.from("MMIDIDX\x00\x00", "latin1").copy(idx, 0);
  idx.writeBigUInt64LE(1n, 9);
  idx.writeUInt8(4, 17);
  idx.writeBigUInt64LE(BigInt(n), 18);
  idx.writeBigUInt64LE(BigInt(n + 1), 26);
  let p = 34;
  for (const d of docs) p = idx.writeInt32LE(d.length, p);
  let ptr = 0n;
  for (const d of docs) {
    p = idx.writeBigInt64LE(ptr, p);
    ptr += BigInt(d.length * 4);
  }
  for (let i = 0; i <= n; i++) p = idx.writeBigInt64LE(BigInt(i), p);
  writeFileSync(prefix + ".bin", bin);
  writeFileSync(prefix + ".idx", idx);
}

/** A two-source mixture over a 512-id toy vocabulary: counting runs, so a tiny model's loss falls fast. */
export function writeToyMixture(dir: string, totalTokens = 20_000): string {
  const src = (seed: number, n: number, stride: number) => {
    let s = seed;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    return Array.from({ length: n }, () => {
      const len = 5 + Math.floor(rand() * 50);
      const start = 3 + Math.floor(rand() * 500);
      return [1, ...Array.from({ length: len }, (_, i) => 3 + ((start + stride * i) % 509)), 2];
    });
  };
  writeMegatron(join(dir, "web", "web"), src(1, 300, 1));
  writeMegatron(join(dir, "qa", "qa"), src(2, 120, 2));
  const mixture = {
    name: "toy", seed: 5, total_tokens: totalTokens, tokens_written: totalTokens,
    tokenizer: { name: "toy", vocab_size: 512, bos_id: 1, eos_id: 2 },
    sources: [
      { name: "web", weight: 0.7, prefix: "web/web", planned_tokens: 0.7 * totalTokens, tokens_written: 0.7 * totalTokens },
      { name: "qa", weight: 0.3, prefix: "qa/qa", planned_tokens: 0.3 * totalTokens, tokens_written: 0.3 * totalTokens },
    ],
    megatron_data_path: [0.7, "web/web", 0.3, "qa/qa"],
  };
  writeFileSync(join(dir, "mixture.json"), JSON.stringify(mixture, null, 2));
  return dir;
}

/** The Python with torch and numpy, found as `megamath train` finds it; for tests gated by needs("torch"). */
export function torchPython(): string {
  return pythonWith("torch");
}

export function runPython(code: string): string {
  const r = spawnSync(torchPython(), ["-c", code], {
    encoding: "utf8", env: { ...process.env, PYTHONPATH: join(repoRoot, "trainer"), PYTHONDONTWRITEBYTECODE: "1" },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

export function megamath(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli/main.ts"), ...args], {
    encoding: "utf8", env: { ...process.env, ...env }, timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
