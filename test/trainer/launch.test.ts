// runTrainer with stand-in processes: how one rank's failure is handled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runTrainer } from "../../lib/train/index.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { tmpDir } from "../helpers.js";

test("local launcher: a non-zero rank that dies stops the others, and its exit status is the one returned", { timeout: 60_000 }, async () => {
  const dir = tmpDir("megamath-launch-");
  const fake = join(dir, "python");
  const stopped = join(dir, "rank0-stopped");
  // Rank 1 fails at once; rank 0 waits (as in a collective) and notes whether it was told to stop.
  writeFileSync(fake, `#!/bin/sh\nif [ "$RANK" = 1 ]; then exit 5; fi\ntrap 'touch ${stopped}; exit 143' TERM\nsleep 20 & wait $!\n`);
  chmodSync(fake, 0o755);
  const code = await runTrainer({ python: fake, configPath: "unused.json", nodes: 1, procsPerNode: 2, onGpu: false, launcher: "local", masterPort: 29999 },
    memoryLogger());
  assert.ok(existsSync(stopped), "rank 0 was left running after rank 1 died");
  assert.equal(code, 5);
});
