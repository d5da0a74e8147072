// The trainer's own unittest suite (trainer/tests), run with the Python that has torch (Debian's python3-torch on
// CI). Split in two files' worth of work so node:test can run them side by side.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";
import { torchPython } from "./fixture.js";
import { needs } from "../oracles.js";

function unittest(modules: string[]) {
  const r = spawnSync(torchPython(), ["-m", "unittest", "-v", ...modules], {
    cwd: join(repoRoot, "trainer"), encoding: "utf8", timeout: 1_200_000,   // 600 s was hit by test_train on a 2-core machine at load 24
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "1" },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

test("trainer unit tests: Megatron files, sampling, schedule, model, HF safetensors round trip", { skip: needs("torch") }, () => {
  const r = unittest(["tests.test_indexed", "tests.test_data", "tests.test_schedule", "tests.test_model", "tests.test_hf_io"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Ran \d+ tests/);
  assert.match(r.out, /^OK/m);
});

test("trainer end-to-end tests on CPU: loss falls, kill/resume, decay branch, NaN stop, DDP", { skip: needs("torch") }, () => {
  const r = unittest(["tests.test_train"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^OK/m);
});

test("trainer checkpoint compatibility on CPU: mismatched Decay/resume checkpoints refused up front, exact loads, LR continuous into Decay", { skip: needs("torch") }, () => {
  const r = unittest(["tests.test_compatibility", "tests.test_branch"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Ran \d+ tests/);
  assert.match(r.out, /^OK/m);
});

test("trainer torch-2 paths on CPU: SDPA/flex/compiled layers/bf16/AC, FSDP2/FSDP1/HSDP on 2 ranks, sharded (and async) checkpoints across 1 process, DDP, FSDP1 and FSDP2, CPU offload, HF export read by safetensors (skipped under torch 1.13)", { skip: needs("torch") }, () => {
  const r = unittest(["tests.test_torch2"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^OK/m);
});
