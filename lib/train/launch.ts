// Starts the trainer: plain `python -m megamath_trainer.train` for one process, `torchrun` (as
// `python -m torch.distributed.run`, so it matches the interpreter's torch) for GPUs and for multi-node, or N local
// processes with the torchrun environment set by hand ("local": CPU multi-process runs; Debian's torchrun 1.13 is
// broken on Python 3.11). Streams rank 0's JSON progress lines as log lines and returns the exit status.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { createServer } from "node:net";
import { constants } from "node:os";
import type { Logger } from "../runtime/log.js";
import { pythonEnv } from "./environment.js";

export type Launcher = "auto" | "python" | "torchrun" | "local";

export interface LaunchSpec {
  python: string;
  configPath: string;
  nodes: number;
  procsPerNode: number;
  onGpu: boolean;
  launcher: Launcher;
  /** host:port of the rendezvous (multi-node; e.g. the first Slurm node). */
  rdzvEndpoint?: string;
  rdzvId?: string;
  masterPort?: number;
}

export interface ProcessPlan {
  argv: string[];
  env: Record<string, string>;
}

export function chooseLauncher(s: LaunchSpec): Exclude<Launcher, "auto"> {
  if (s.launcher !== "auto") return s.launcher;
  if (s.nodes * s.procsPerNode === 1) return "python";
  return s.onGpu || s.nodes > 1 ? "torchrun" : "local";
}

/** The process(es) to start, for the plan printout and for launching. */
export function processPlans(s: LaunchSpec, port = s.masterPort ?? 29500): ProcessPlan[] {
  const trainer = ["-m", "megamath_trainer.train", s.configPath];
  const kind = chooseLauncher(s);
  if (kind === "python") {
    if (s.nodes * s.procsPerNode !== 1) throw new Error(`launcher "python" starts one process; this run needs ${s.nodes * s.procsPerNode}`);
    return [{ argv: [s.python, ...trainer], env: {} }];
  }
  if (kind === "local") {
    if (s.nodes > 1) throw new Error(`launcher "local" runs on one node; use torchrun for --nodes ${s.nodes}`);
    return Array.from({ length: s.procsPerNode }, (_, r) => ({
      argv: [s.python, ...trainer],
      env: { RANK: String(r), LOCAL_RANK: String(r), WORLD_SIZE: String(s.procsPerNode), LOCAL_WORLD_SIZE: String(s.procsPerNode), MASTER_ADDR: "127.0.0.1", MASTER_PORT: String(port) },
    }));
  }
  const rdzv = s.nodes > 1
    ? (() => {
      if (!s.rdzvEndpoint) throw new Error(`--nodes ${s.nodes} needs --rdzv-endpoint HOST:PORT (under Slurm: the first node of the allocation)`);
      return ["--nnodes", String(s.nodes), "--rdzv_backend", "c10d", "--rdzv_endpoint", s.rdzvEndpoint, "--rdzv_id", s.rdzvId ?? "megamath"];
    })()
    : ["--standalone"];
  return [{ argv: [s.python, "-m", "torch.distributed.run", ...rdzv, "--nproc_per_node", String(s.procsPerNode), ...trainer], env: {} }];
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

export interface TrainerEvent {
  event: string;
  [k: string]: unknown;
}

function describeEvent(e: TrainerEvent): string | null {
  const n = (x: unknown, d = 4) => (typeof x === "number" ? x.toFixed(d) : String(x));
  switch (e.event) {
    case "start":
      return `train: ${e.start_step ? `resuming at step ${e.start_step} of ${e.steps}` : `starting ${e.steps} steps`} on ${e.world_size} process(es), ${e.grad_accum_steps} accumulation steps; backends ${JSON.stringify(e.backends)}`;
    case "step": {
      const tps = Number(e.tokens_per_s_per_gpu);
      const mfu = typeof e.mfu === "number" ? `, MFU ${(e.mfu * 100).toFixed(1)}%` : "";
      return `train: step ${e.step}/${e.steps} loss ${n(e.loss)} lr ${Number(e.lr).toExponential(3)} grad-norm ${n(e.grad_norm, 3)} ${tps >= 1000 ? `${(tps / 1000).toFixed(1)}k` : tps.toFixed(0)} tok/s/GPU${mfu}`;
    }
    case "checkpoint":
      return `train: checkpoint ${e.path}`;
    case "export":
      return `train: Hugging Face export ${e.path}`;
    case "done":
      return `train: done (${e.steps} steps) in ${e.run_dir}`;
    default:
      return null;
  }
}

/** Run the trainer to completion; resolves to its exit status (128 + signal number when killed). */
export async function runTrainer(s: LaunchSpec, log: Logger, onEvent?: (e: TrainerEvent) => void): Promise<number> {
  const plans = processPlans(s, chooseLauncher(s) === "local" ? s.masterPort ?? (await freePort()) : s.masterPort);
  const children: ChildProcess[] = [];
  let firstFailure = 0;
  const forward = (sig: NodeJS.Signals) => () => children.forEach((c) => c.exitCode === null && c.kill(sig));
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    const exits = plans.map((p, i) => new Promise<number>((res) => {
      const child = spawn(p.argv[0], p.argv.slice(1), { env: pythonEnv(p.env), stdio: ["ignore", "pipe", "inherit"] });
      children.push(child);
      const rl = createInterface({ input: child.stdout! });
      rl.on("line", (line) => {
        if (i !== 0) return;   // only rank 0 reports; others print nothing of interest
        let ev: TrainerEvent | null = null;
        if (line.startsWith("{")) {
          try {
            ev = JSON.parse(line) as TrainerEvent;
          } catch {
            ev = null;
          }
        }
        if (!ev || typeof ev.event !== "string") {
          process.stderr.write(line + "\n");
          return;
        }
        onEvent?.(ev);
        if (ev.event === "error") log.error(`train: ${ev.kind}: ${ev.message}`);
        else if (ev.event === "warning") log.warn(`train: ${ev.message}`);
        else {
          const text = describeEvent(ev);
          if (text) log.info(text);
        }
      });
      child.on("error", (err) => {
        log.error(`train: cannot start ${p.argv[0]}: ${err.message}`);
        if (firstFailure === 0) {
          firstFailure = 127;
          if (children.length > 1) forward("SIGTERM")();
        }
        res(127);
      });
      child.on("close", (code, signal) => {
        const status = code ?? 128 + (signal ? constants.signals[signal] ?? 1 : 1);
        if (status !== 0 && firstFailure === 0) {
          // One rank died: stop the others (they would wait in a collective), and report its status, not
          // the SIGTERM of the ranks stopped because of it.
          firstFailure = status;
          if (children.length > 1) forward("SIGTERM")();
        }
        res(status);
      });
    }));
    await Promise.all(exits);
    return firstFailure;
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
