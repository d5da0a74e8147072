"""End-to-end runs of the trainer as a subprocess on CPU with the tiny preset."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import unittest

from megamath_trainer.checkpoint import load_torch
from tests.helpers import make_mixture, read_metrics, tiny_config, tmpdir, write_config

TRAINER_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env(**extra):
    e = dict(os.environ, PYTHONPATH=TRAINER_ROOT, PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
    e.update(extra)
    return e


def train(config_path, **extra_env):
    return subprocess.run([sys.executable, "-m", "megamath_trainer.train", config_path], env=env(**extra_env),
                          capture_output=True, text=True, timeout=300)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_two_ranks(config_path):
    """Both ranks of a 2-process gloo run on this machine (what torchrun would start): [(stdout, stderr)], codes."""
    port = free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "megamath_trainer.train", config_path],
                              env=env(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                                      MASTER_PORT=str(port)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for r in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    return outs, [p.returncode for p in procs]


def events(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


class TrainTest(unittest.TestCase):
    def setUp(self):
        self.dir = tmpdir(self)
        self.sources = make_mixture(os.path.join(self.dir, "mix"))

    def config(self, name, **over):
        cfg = tiny_config(os.path.join(self.dir, name), self.sources, **over)
        return write_config(os.path.join(self.dir, name + ".json"), cfg), cfg

    def test_loss_falls_and_run_folder_is_complete(self):
        path, cfg = self.config("run", train_steps=24, checkpoint_every=8, export_hf=True)
        r = train(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        losses = [m["loss"] for m in read_metrics(cfg["run_dir"]).values()]
        self.assertEqual(len(losses), 24)
        self.assertLess(sum(losses[-3:]) / 3, losses[0] - 0.5)
        with open(os.path.join(cfg["run_dir"], "config.json")) as f:
            dump = json.load(f)
        self.assertEqual(dump["optimizer"]["betas"], [0.9, 0.95])
        self.assertEqual(dump["optimizer"]["grad_clip"], 1.0)
        self.assertEqual(dump["grad_accum_steps"], 2)
        self.assertEqual(dump["total_tokens"], 24 * 8 * 32)
        self.assertTrue(os.path.isfile(os.path.join(cfg["run_dir"], "hf", "model.safetensors")))
        kinds = [e["event"] for e in events(r.stdout)]
        self.assertEqual((kinds[0], kinds[-1]), ("start", "done"))
        self.assertIn("tokens_per_s_per_gpu", [e for e in events(r.stdout) if e["event"] == "step"][0])

    def test_kill_and_resume_reproduces_the_uninterrupted_run(self):
        path, cfg = self.config("straight", train_steps=10)
        self.assertEqual(train(path).returncode, 0)
        reference = {k: v["loss"] for k, v in read_metrics(cfg["run_dir"]).items()}

        path2, cfg2 = self.config("killed", train_steps=10)
        proc = subprocess.Popen([sys.executable, "-m", "megamath_trainer.train", path2], env=env(),
                                stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if '"checkpoint"' in line and '"step": 4' in line:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
        proc.stdout.close()
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        # A checkpoint being written at kill time leaves a .tmp- folder: it must be ignored and removed.
        leftover = os.path.join(cfg2["run_dir"], "checkpoints", ".tmp-step-00000099")
        os.makedirs(leftover)
        r = train(path2)
        self.assertEqual(r.returncode, 0, r.stderr)
        start = events(r.stdout)[0]
        self.assertGreaterEqual(start["start_step"], 4)
        self.assertFalse(os.path.exists(leftover))
        resumed = {k: v["loss"] for k, v in read_metrics(cfg2["run_dir"]).items()}
        self.assertEqual(resumed, reference)
        with open(os.path.join(cfg2["run_dir"], "metrics.jsonl")) as f:
            self.assertEqual(len(f.readlines()), 10)   # steps redone after the checkpoint are not logged twice

    def test_resume_with_other_data_settings_is_refused(self):
        path, cfg = self.config("sig", train_steps=2)
        self.assertEqual(train(path).returncode, 0)
        path2, _ = self.config("sig", train_steps=2, seed=8)
        r = train(path2)
        self.assertEqual(r.returncode, 1)
        self.assertIn("trained with other data/batch/step settings", r.stderr)

    def test_decay_branch_keeps_optimizer_state_and_decays_to_ten_percent(self):
        path, cfg = self.config("stable", train_steps=4, lr=2e-3)
        self.assertEqual(train(path).returncode, 0)
        stable_ckpt = os.path.join(cfg["run_dir"], "checkpoints", "step-00000004")
        decay_sources = [dict(self.sources[0], weight=0.2), dict(self.sources[1], weight=0.8)]
        cfg_d = tiny_config(os.path.join(self.dir, "decay"), decay_sources, phase="decay", train_steps=6, lr=2e-3,
                            init_checkpoint=stable_ckpt, checkpoint_every=6)
        path_d = write_config(os.path.join(self.dir, "decay.json"), cfg_d)
        r = train(path_d)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = read_metrics(cfg_d["run_dir"])
        self.assertEqual(m[1]["lr"], 2e-3)
        self.assertAlmostEqual(m[6]["lr"], 2e-4, places=12)
        self.assertEqual(m[6]["consumed_samples"], 6 * 8)
        optim = load_torch(os.path.join(cfg_d["run_dir"], "checkpoints", "step-00000006"), "optim.pt")
        steps = {float(s["step"]) for s in optim["state"].values()}
        self.assertEqual(steps, {10.0})   # 4 Stable + 6 Decay updates on the same AdamW moments
        self.assertTrue(events(r.stdout)[0]["branched_from"].endswith("step-00000004"))

    def test_non_finite_loss_stops_clearly(self):
        path, cfg = self.config("nan", train_steps=6, lr=1e12, grad_clip=0.0)
        r = train(path)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        err = events(r.stdout)[-1]
        self.assertEqual(err["kind"], "non_finite_loss")
        self.assertIn("is not finite", err["message"])
        done = max(read_metrics(cfg["run_dir"]) or [0])
        self.assertLess(done, 6)

    def test_resume_after_a_kill_mid_metrics_line(self):
        path, cfg = self.config("torn", train_steps=4)
        self.assertEqual(train(path).returncode, 0)
        with open(os.path.join(cfg["run_dir"], "metrics.jsonl"), "a") as f:
            f.write('{"step": 5, "loss": 1.2')   # a kill while the line was being written
        r = train(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(cfg["run_dir"], "metrics.jsonl")) as f:
            self.assertEqual([json.loads(line)["step"] for line in f], [1, 2, 3, 4])

    def test_zero_intervals_are_refused_before_training(self):
        for field in ("checkpoint_every", "log_every"):
            path, _ = self.config("zero-" + field, train_steps=2, **{field: 0})
            r = train(path)
            self.assertEqual(r.returncode, 1, r.stderr)
            err = events(r.stdout)[-1]
            self.assertEqual(err["kind"], "config", err)
            self.assertIn(field, err["message"])

    def test_bad_config_names_the_field(self):
        path, _ = self.config("bad", train_steps=2, learning_rate=1e-3)
        r = train(path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown field(s) learning_rate", r.stderr)

    def test_a_rank_that_never_joins_stops_the_others_with_a_clear_message(self):
        """dist_timeout_s bounds the wait (torch's NCCL default, 10 minutes, is shorter than an 8B checkpoint
        write, so it is set explicitly); a missing rank is reported as such, not as a bare socket timeout."""
        path, _ = self.config("alone", train_steps=2, dist_timeout_s=3)
        port = free_port()
        r = subprocess.run([sys.executable, "-m", "megamath_trainer.train", path], capture_output=True, text=True,
                           env=env(RANK="0", LOCAL_RANK="0", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                                   MASTER_PORT=str(port)), timeout=240)
        self.assertEqual(r.returncode, 1, r.stderr)
        err = events(r.stdout)[-1]
        self.assertEqual(err["kind"], "distributed", err)
        self.assertIn(f"rank 0 of 2: the other ranks did not join at 127.0.0.1:{port} within 3 s", err["message"])
        # A start-up that fails at once is reported as that error, not as a wait for the other ranks.
        r = subprocess.run([sys.executable, "-m", "megamath_trainer.train", path], capture_output=True, text=True,
                           env=env(RANK="0", LOCAL_RANK="0", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                                   MASTER_PORT="not-a-port"), timeout=240)
        self.assertEqual(r.returncode, 1, r.stderr)
        err = events(r.stdout)[-1]
        self.assertEqual(err["kind"], "distributed", err)
        self.assertIn("the process group could not start at 127.0.0.1:not-a-port", err["message"])
        self.assertNotIn("did not join", err["message"])
        bad, _ = self.config("bad-timeout", train_steps=2, dist_timeout_s=0)
        r = train(bad)
        self.assertEqual((r.returncode, events(r.stdout)[-1]["kind"]), (1, "config"))
        self.assertIn("dist_timeout_s must be a whole number of seconds >= 1", r.stderr)

    def test_resume_on_two_ranks_continues_the_one_rank_curve(self):
        """A run checkpointed on one process and resumed on two (more GPUs after a requeue): same samples per step,
        AdamW moments and schedule, so the same losses."""
        path, cfg = self.config("grow", train_steps=4, checkpoint_every=2, micro_batch_size=2)
        self.assertEqual(train(path).returncode, 0)
        reference = read_metrics(cfg["run_dir"])
        shutil.rmtree(os.path.join(cfg["run_dir"], "checkpoints", "step-00000004"))
        outs, codes = train_two_ranks(path)
        self.assertEqual(codes, [0, 0], outs)
        self.assertEqual(events(outs[0][0])[0]["start_step"], 2)
        resumed = read_metrics(cfg["run_dir"])
        self.assertEqual(sorted(resumed), [1, 2, 3, 4])
        for k in reference:
            self.assertAlmostEqual(reference[k]["loss"], resumed[k]["loss"], places=5)
            self.assertEqual(reference[k]["lr"], resumed[k]["lr"])

    def test_two_ranks_match_one(self):
        """DDP over gloo on CPU (what torchrun would set up): same global batch, same losses."""
        path, cfg = self.config("one", train_steps=3, micro_batch_size=2)
        self.assertEqual(train(path).returncode, 0)
        path2, cfg2 = self.config("two", train_steps=3, micro_batch_size=2)
        outs, codes = train_two_ranks(path2)
        self.assertEqual(codes, [0, 0], outs)
        one, two = read_metrics(cfg["run_dir"]), read_metrics(cfg2["run_dir"])
        for k in one:
            self.assertAlmostEqual(one[k]["loss"], two[k]["loss"], places=5)
        with open(os.path.join(cfg2["run_dir"], "config.json")) as f:
            dump = json.load(f)
        self.assertEqual((dump["backends"]["parallel"], dump["grad_accum_steps"]), ("ddp", 2))


if __name__ == "__main__":
    unittest.main()
