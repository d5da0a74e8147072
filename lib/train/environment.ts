// Finds a Python that can import torch and asks it what it offers (torch version, CUDA GPUs, SDPA/flex/compile/
// FSDP), so `megamath train` fails before launching with a message that says what is missing.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding the megamath_trainer package (shipped in the npm package as trainer/). */
export function trainerRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(resolve(dir, "trainer", "megamath_trainer", "train.py"))) return resolve(dir, "trainer");
    dir = dirname(dir);
  }
  throw new Error("cannot find the bundled trainer (trainer/megamath_trainer) next to the megamath package");
}

export interface TorchEnv {
  python: string;
  torch: string;
  cuda_available: boolean;
  cuda_devices: number;
  sdpa: boolean;
  flex_attention: boolean;
  compile: boolean;
  fused_adamw: boolean;
  fsdp: boolean;
}

export function pythonEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const root = trainerRoot();
  const pp = process.env.PYTHONPATH ? `${root}:${process.env.PYTHONPATH}` : root;
  return { ...process.env, PYTHONPATH: pp, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", ...extra };
}

function probe(python: string): TorchEnv | string {
  const code = "import json; from megamath_trainer.compat import describe; print(json.dumps(describe()))";
  const r = spawnSync(python, ["-c", code], { env: pythonEnv(), encoding: "utf8", timeout: 120_000 });
  if (r.error) return `${python}: ${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : r.error.message}`;
  if (r.status !== 0) {
    const last = (r.stderr || "").trim().split("\n").pop() ?? "";
    return `${python}: cannot import torch (${last || `exit ${r.status}`})`;
  }
  try {
    return { python, ...JSON.parse(r.stdout.trim().split("\n").pop()!) } as TorchEnv;
  } catch {
    return `${python}: unexpected probe output`;
  }
}

/** First of: the explicit choice (--python), $MEGAMATH_PYTHON, /usr/bin/python3, python3 that imports torch. An
 * explicit choice that fails is an error (never silently replaced by another interpreter). */
export function findTorchPython(explicit?: string): TorchEnv {
  if (explicit) {
    const r = probe(explicit);
    if (typeof r === "string") throw new Error(`--python ${r}`);
    return r;
  }
  const tried: string[] = [];
  const candidates = [process.env.MEGAMATH_PYTHON, "/usr/bin/python3", "python3"].filter((x): x is string => Boolean(x));
  for (const c of [...new Set(candidates)]) {
    const r = probe(c);
    if (typeof r !== "string") return r;
    tried.push(r);
  }
  throw new Error(
    `no Python with PyTorch found (tried: ${tried.join("; ")}). Install torch (e.g. 'apt-get install python3-torch' ` +
      `for CPU, or 'pip install torch' with CUDA) and/or point --python or MEGAMATH_PYTHON at that interpreter.`,
  );
}

/** Check the environment against what the run needs; returns warnings, throws on what cannot work. */
export function checkEnv(env: TorchEnv, want: { device: string; procsPerNode: number; nodes: number }): string[] {
  const warnings: string[] = [];
  if (want.device === "cuda" && !env.cuda_available) {
    throw new Error(`--device cuda: torch ${env.torch} at ${env.python} sees no CUDA GPU`);
  }
  const onGpu = want.device !== "cpu" && env.cuda_available;
  if (onGpu && want.procsPerNode > env.cuda_devices) {
    throw new Error(`--gpus ${want.procsPerNode}: only ${env.cuda_devices} CUDA GPU(s) visible on this node`);
  }
  if (!onGpu) {
    warnings.push(`no GPU in use (torch ${env.torch}, CUDA ${env.cuda_available ? "available" : "not available"}): training runs on CPU, fine for the tiny preset only`);
  }
  if (onGpu && !env.compile) warnings.push(`torch ${env.torch} has no usable torch.compile: running eager (slower)`);
  if (onGpu && !env.flex_attention && !env.sdpa) warnings.push(`torch ${env.torch} has neither flex attention nor SDPA: using the slow math attention`);
  return warnings;
}
