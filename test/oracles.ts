// Native tools some tests compare against (oracles: the fastText CLI and Python module, numpy, zstd, Chromium) or
// run (runtimes: torch, Slurm). None is needed to use megamath, so `npm test` on a machine with Node and npm alone
// skips those tests, each with one line naming the Debian package that turns it on. With
// MEGAMATH_REQUIRE_ORACLES=1 (set by .ci/run) a missing one is an error instead, so CI can never go green by
// skipping. Each tool is probed at most once per test process (node:test runs each file in its own process).
import { spawnSync } from "node:child_process";

export type Oracle = "fasttext" | "python3-fasttext" | "numpy" | "torch" | "chromium" | "zstd" | "sbatch" | "slurm";

interface Spec {
  /** what is missing, as the skip line says it */
  what: string;
  /** the Debian packages that provide it */
  packages: string;
  /** true when present; for Python modules, the interpreter that has them */
  probe(): boolean | string;
}

/** Runs and exits 0 (or, for a CLI that prints usage and exits non-zero without arguments, merely starts). */
function runs(cmd: string, args: string[], anyStatus = false): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 60_000 });
  if (r.error) return false;
  // 126/127: the shell's "cannot execute" / "not found" (a wrapper script whose target is gone)
  return anyStatus ? r.status !== 126 && r.status !== 127 : r.status === 0;
}

/** Interpreters tried in this order, as `megamath train` does: $MEGAMATH_PYTHON, Debian's, the one on PATH
 * (which may be a pyenv or venv Python without Debian's packages). */
function pythons(): string[] {
  return [...new Set([process.env.MEGAMATH_PYTHON, "/usr/bin/python3", "python3"].filter((p): p is string => Boolean(p)))];
}

/** The first interpreter in which `code` runs (it uses the module, so a stray folder of the same name on
 * sys.path, such as the headers python3-numpy leaves in /usr/lib/python3.11/dist-packages, does not count). */
function pythonRunning(code: string): string | false {
  for (const p of pythons()) if (runs(p, ["-c", code])) return p;
  return false;
}

const SPECS: Record<Oracle, Spec> = {
  fasttext: { what: "the native fastText CLI", packages: "fasttext", probe: () => runs("fasttext", [], true) },
  "python3-fasttext": {
    what: "Python's fasttext module", packages: "python3-fasttext",
    probe: () => pythonRunning("import fasttext; fasttext.load_model"),
  },
  numpy: { what: "Python with numpy", packages: "python3-numpy", probe: () => pythonRunning("import numpy; numpy.frombuffer(b'1234', dtype=numpy.int32)") },
  torch: {
    what: "Python with torch and numpy", packages: "python3-torch python3-numpy",
    probe: () => pythonRunning("import numpy, torch; torch.zeros(2).numpy()"),
  },
  chromium: { what: "headless Chromium", packages: "chromium", probe: () => runs("chromium", ["--version"]) },
  zstd: { what: "the zstd CLI", packages: "zstd", probe: () => runs("zstd", ["--version"]) },
  sbatch: { what: "Slurm's sbatch", packages: "slurm-client", probe: () => runs("sbatch", ["--version"], true) },
  // The daemons of a one-node cluster that a test starts on localhost (test/cluster/slurm-local.sh), and munge,
  // which Slurm authenticates with.
  slurm: {
    what: "Slurm's daemons and client tools and munge", packages: "slurm-wlm munge",
    probe: () => runs("slurmctld", ["-V"]) && runs("slurmd", ["-V"]) && runs("sbatch", ["--version"], true) && runs("munged", ["--version"]),
  },
};

const probed = new Map<Oracle, boolean | string>();
function probe(o: Oracle): boolean | string {
  if (!probed.has(o)) probed.set(o, SPECS[o].probe());
  return probed.get(o)!;
}

/** Whether a missing oracle fails the test (CI) rather than skipping it. */
export const oraclesRequired = process.env.MEGAMATH_REQUIRE_ORACLES === "1";

/** The one line that says what is missing and which Debian packages install it. */
export function missingLine(oracles: Oracle[]): string {
  const what = oracles.map((o) => SPECS[o].what).join(" and ");
  return `needs ${what} (apt-get install ${oracles.map((o) => SPECS[o].packages).join(" ")})`;
}

/** For node:test's `skip` option (a test or a subtest): false when every oracle is present, else the skip line.
 * Under MEGAMATH_REQUIRE_ORACLES=1 a missing oracle throws instead, failing the test (or, at a file's top level,
 * the file) with the same line. */
export function needs(...oracles: Oracle[]): string | false {
  const missing = oracles.filter((o) => !probe(o));
  if (missing.length === 0) return false;
  const line = missingLine(missing);
  if (oraclesRequired) throw new Error(`MEGAMATH_REQUIRE_ORACLES=1 and this test ${line}`);
  return line;
}

/** The Python interpreter that has the module(s) of `oracle`; for tests gated by needs(oracle). */
export function pythonWith(oracle: "python3-fasttext" | "numpy" | "torch"): string {
  const p = probe(oracle);
  if (typeof p !== "string") throw new Error(missingLine([oracle]) + " (or point MEGAMATH_PYTHON at a Python that has it)");
  return p;
}
