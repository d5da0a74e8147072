// Side by side with datatrove (bench/dedup.ts --datatrove SRC): our four dedup stages in one Node process and
// datatrove's MinHash stages 1-4 (bench/peers/datatrove_minhash.py) in one Python process, on the same JSONL corpus,
// both writing the kept documents as gzipped JSONL, both pinned to the same core, runs alternated (the order flips
// every round) so both see the same machine load. Each process is timed from outside by /usr/bin/time: user +
// system CPU-seconds of the whole process, every thread and reaped child included, start-up and imports included.
// The ratio is datatrove's CPU-seconds over ours (= our docs per CPU-second over datatrove's), medians of the runs.
// Where datatrove cannot run here, no side-by-side ratio exists: the bench says why and prints peer-baselines.md's
// idle figure (444 docs/s, 2026-11-24) next to ours as what it is, a figure from another day and load.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, statSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

export interface SideBySideOptions {
  root: string; // repository root
  benchFile: string; // bench/dedup.ts
  corpus: string; // folder of *.jsonl
  base: string; // scratch folder for both sides' work and output
  docs: number;
  runs: number;
  /** Our stage-4 gzip levels to time in each round (undefined: the library's default). */
  levels: (number | undefined)[];
  workers: number;
  datatrove: string; // datatrove source checkout
  /** datatrove's gzip level (undefined: its own, 9). */
  datatroveLevel?: number;
  python: string;
  core: string; // taskset CPU list
}

interface Timed { cpu: number; wall: number; rssMB: number; inner: Record<string, unknown>; stderr: string; code: number }

/** Runs cmd under /usr/bin/time, pinned with taskset; returns whole-process CPU-seconds and the last JSON line. */
function timed(core: string, cmd: string[], cwd: string): Promise<Timed> {
  const tfile = join(mkdtempSync(join(tmpdir(), "dedup-dt-time-")), "t");
  return new Promise((res, rej) => {
    const p = spawn("/usr/bin/time", ["-f", "%U %S %e %M", "-o", tfile, "taskset", "-c", core, ...cmd],
      { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    let err = "";
    p.stdout.on("data", (b) => (out += b));
    p.stderr.on("data", (b) => (err = (err + b).slice(-20000)));
    p.on("error", rej);
    p.on("exit", (code) => {
      const t = existsSync(tfile) ? readFileSync(tfile, "utf8").trim().split("\n").pop()!.split(" ").map(Number) : [NaN, NaN, NaN, NaN];
      rmSync(join(tfile, ".."), { recursive: true, force: true });
      const last = out.trim().split("\n").filter((l) => l.startsWith("{")).pop();
      res({ cpu: t[0] + t[1], wall: t[2], rssMB: t[3] / 1024, inner: last ? JSON.parse(last) : {}, stderr: err, code: code ?? -1 });
    });
  });
}

function filesBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(join(dir, e));
    if (s.isFile() && /\.jsonl\.gz$/.test(e)) n += s.size;
  }
  return n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function sideBySide(o: SideBySideOptions): Promise<void> {
  const lines: string[] = [];
  const say = (l: string) => { lines.push(l); process.stdout.write(l + "\n"); };
  const dtWork = join(o.base, "datatrove-work");
  const dtArgs = (extra: string[]) => [o.python, join(o.root, "bench/peers/datatrove_minhash.py"), "--datatrove", o.datatrove,
    "--corpus", o.corpus, "--work", dtWork, "--nltk-data", join(o.base, "nltk_data"),
    ...(o.datatroveLevel === undefined ? [] : ["--level", String(o.datatroveLevel)]), ...extra];
  const ours = (level: number | undefined) => [process.execPath, "--import", "tsx", o.benchFile, "--child", "all",
    "--corpus", o.corpus, "--work", join(o.base, "work"), "--output", join(o.base, "output"), "--format", "jsonl",
    "--output-format", "jsonl.gz", "--workers", String(o.workers), ...(level === undefined ? [] : ["--compression-level", String(level)])];
  const levelName = (l: number | undefined) => (l === undefined ? "default" : `level ${l}`);

  // Untimed: datatrove importable, Punkt model trained and cached.
  const prep = await timed(o.core, dtArgs(["--prepare"]), o.root);
  const canRun = prep.code === 0 && prep.inner.prepared === true;
  if (!canRun) {
    say(`datatrove cannot run here (${o.python} bench/peers/datatrove_minhash.py --prepare exited ${prep.code}):`);
    say(prep.stderr.trim().split("\n").slice(-6).map((l) => "  " + l).join("\n"));
    say("Needs Debian: python3-xxhash python3-nltk python3-fsspec python3-loguru python3-multiprocess python3-dill " +
      "python3-regex python3-tqdm python3-humanize python3-numpy, and a datatrove source checkout. No side-by-side figure.");
  }
  const our: Record<string, Timed[]> = {};
  const dt: Timed[] = [];
  for (let r = 0; r < o.runs; r++) {
    const runOurs = async () => {
      for (const l of o.levels) {
        const x = await timed(o.core, ours(l), o.root);
        if (x.code !== 0) throw new Error(`our dedup exited ${x.code}:\n${x.stderr.slice(-3000)}`);
        x.inner.outputBytes = filesBytes(join(o.base, "output"));
        (our[levelName(l)] ??= []).push(x);
      }
    };
    const runDt = async () => {
      if (!canRun) return;
      const x = await timed(o.core, dtArgs([]), o.root);
      if (x.code !== 0) throw new Error(`datatrove exited ${x.code}:\n${x.stderr.slice(-3000)}`);
      dt.push(x);
    };
    if (r % 2 === 0) { await runOurs(); await runDt(); } else { await runDt(); await runOurs(); }
    const last = (xs: Timed[]) => xs.length ? `${xs[xs.length - 1].cpu.toFixed(2)}` : "-";
    process.stderr.write(`round ${r + 1}/${o.runs}: ours ${o.levels.map((l) => `${levelName(l)} ${last(our[levelName(l)])}`).join(", ")} CPU-s; ` +
      `datatrove ${last(dt)} CPU-s\n`);
  }
  say(`side by side: ${o.docs} docs, ${o.runs} rounds alternated, medians, taskset -c ${o.core}, whole-process CPU-s ` +
    `(/usr/bin/time user+sys, start-up included); stage CPU-s from inside each process`);
  const dtCpu = dt.length ? median(dt.map((x) => x.cpu)) : NaN;
  if (dt.length) {
    const st = (k: string) => median(dt.map((x) => ((x.inner.stages as Record<string, { cpu: number }>)[k]).cpu));
    say(`datatrove${o.datatroveLevel === undefined ? " (gzip level 9)" : ` (gzip level ${o.datatroveLevel})`}: ${dtCpu.toFixed(2)} CPU-s = ` +
      `${(o.docs / dtCpu).toFixed(0)} docs/CPU-s (wall ${median(dt.map((x) => x.wall)).toFixed(1)} s); stages 1-4: ` +
      `${["signatures", "buckets", "clusters", "filter"].map((k) => st(k).toFixed(2)).join(" / ")}; imports ` +
      `${median(dt.map((x) => x.inner.setup_cpu as number)).toFixed(2)}; kept ${dt[0].inner.kept}, output ` +
      `${((dt[0].inner.output_bytes as number) / 1e6).toFixed(1)} MB; all runs ${dt.map((x) => x.cpu.toFixed(1)).join(", ")}`);
  }
  for (const l of o.levels) {
    const xs = our[levelName(l)];
    const cpu = median(xs.map((x) => x.cpu));
    const st = (k: string) => median(xs.map((x) => (x.inner.stages as Record<string, number>)[k]));
    const inside = median(xs.map((x) => (x.inner.cpuMs as number) / 1000));
    say(`megamath (${levelName(l)}): ${cpu.toFixed(2)} CPU-s = ${(o.docs / cpu).toFixed(0)} docs/CPU-s (wall ` +
      `${median(xs.map((x) => x.wall)).toFixed(1)} s); stages 1-4: ${["1", "2", "3", "4"].map((k) => st(k).toFixed(2)).join(" / ")}; ` +
      `start-up ${(cpu - inside).toFixed(2)}; output ${((xs[0].inner.outputBytes as number) / 1e6).toFixed(1)} MB; all runs ` +
      `${xs.map((x) => x.cpu.toFixed(1)).join(", ")}` +
      (dt.length ? `  => x${(dtCpu / cpu).toFixed(1)} datatrove per core (goal: x20)` :
        `  (peer-baselines.md's idle datatrove, 444 docs/s on 2026-11-24, not side by side: x${(o.docs / cpu / 444).toFixed(1)})`));
  }
}
