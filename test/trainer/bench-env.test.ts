// bench/train.py in its CPU smoke mode, its refusal without a GPU, and the launcher's choice of interpreter.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";
import { findTorchPython, checkEnv } from "../../lib/train/index.js";
import { torchPython } from "./fixture.js";
import { needs } from "../oracles.js";

const bench = (args: string[]) => spawnSync(torchPython(), [join(repoRoot, "bench", "train.py"), ...args], {
  encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "1" }, timeout: 300_000,
});

test("bench/train.py: tiny CPU smoke run reports tokens/s and the MFU inputs; real presets need a GPU", { skip: needs("torch") }, () => {
  const r = bench(["--preset", "tiny", "--device", "cpu", "--seq-len", "64", "--steps", "2", "--warmup", "1", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim());
  assert.equal(res.preset, "tiny");
  assert.equal(res.step_s_all.length, 2);
  assert.ok(res.tokens_per_s_per_gpu > 0);
  assert.equal(res.mfu, null);   // no known peak FLOP/s for a CPU: MFU is not made up
  const cpu1b = bench(["--preset", "1b", "--device", "cpu"]);
  assert.equal(cpu1b.status, 2);
  assert.match(cpu1b.stderr, /only --preset tiny is sensible/);
  const env = findTorchPython();
  if (!env.cuda_available) {
    const gpu = bench(["--preset", "1b"]);
    assert.equal(gpu.status, 2);
    assert.match(gpu.stderr, /no CUDA GPU visible to torch .*tokens\/s\/GPU and MFU need one/);
  }
});

test("interpreter choice: MEGAMATH_PYTHON first, a broken explicit --python is an error, GPU checks", { skip: needs("torch") }, () => {
  const saved = process.env.MEGAMATH_PYTHON;
  try {
    process.env.MEGAMATH_PYTHON = "/nonexistent/python3";
    const env = findTorchPython();   // falls through to the next candidate that imports torch
    assert.notEqual(env.python, "/nonexistent/python3");
    assert.match(env.torch, /^\d+\.\d+/);
    process.env.MEGAMATH_PYTHON = env.python;
    assert.equal(findTorchPython().python, env.python);
    assert.throws(() => findTorchPython("/nonexistent/python3"), /--python \/nonexistent\/python3: not found/);
    const cpuOnly = { ...env, cuda_available: false, cuda_devices: 0 };
    assert.throws(() => checkEnv(cpuOnly, { device: "cuda", procsPerNode: 1, nodes: 1 }), /sees no CUDA GPU/);
    assert.match(checkEnv(cpuOnly, { device: "auto", procsPerNode: 1, nodes: 1 })[0], /runs on CPU/);
    const twoGpus = { ...env, cuda_available: true, cuda_devices: 2, compile: true, sdpa: true, flex_attention: true };
    assert.throws(() => checkEnv(twoGpus, { device: "auto", procsPerNode: 8, nodes: 1 }), /only 2 CUDA GPU\(s\) visible/);
    assert.deepEqual(checkEnv(twoGpus, { device: "auto", procsPerNode: 2, nodes: 1 }), []);
  } finally {
    if (saved === undefined) delete process.env.MEGAMATH_PYTHON;
    else process.env.MEGAMATH_PYTHON = saved;
  }
});
