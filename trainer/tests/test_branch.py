"""Decay branches and resumes from checkpoints that do or do not fit the run: refused up front with the differing
fields named (one and two ranks), the LR continuous from Stable into Decay, and resume keeping the run's LR and
applying its AdamW settings. The trainer runs as a subprocess on CPU with the tiny preset."""
import json
import os
import shutil
import unittest

import torch

from megamath_trainer.checkpoint import load_torch
from tests.helpers import make_mixture, read_metrics, tiny_config, write_config
from tests.test_train import events, train, train_two_ranks

STABLE_LR = 2e-3


class BranchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.dir = tempfile.mkdtemp(prefix="megamath-branch-")
        cls.sources = make_mixture(os.path.join(cls.dir, "mix"))
        cfg = tiny_config(os.path.join(cls.dir, "stable"), cls.sources, train_steps=4, lr=STABLE_LR)
        r = train(write_config(os.path.join(cls.dir, "stable.json"), cfg))
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        cls.stable = os.path.join(cfg["run_dir"], "checkpoints", "step-00000004")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def decay(self, name, init=None, **over):
        cfg = tiny_config(os.path.join(self.dir, name), self.sources, **dict(
            {"phase": "decay", "train_steps": 4, "init_checkpoint": init or self.stable}, **over))
        cfg.pop("lr")   # the Decay peak comes from the Stable checkpoint unless given
        cfg.update({k: v for k, v in over.items() if k == "lr"})
        return write_config(os.path.join(self.dir, name + ".json"), cfg), cfg

    def copy_stable(self, name):
        dst = os.path.join(self.dir, name)
        shutil.copytree(self.stable, dst)
        return dst

    def assert_refused_before_work(self, r, cfg, *needles):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        err = events(r.stdout)[-1]
        self.assertEqual(err["event"], "error")
        self.assertEqual(err["kind"], "config", err)
        for n in needles:
            self.assertIn(n, err["message"])
        self.assertNotIn("Traceback", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(cfg["run_dir"], "checkpoints")))
        self.assertFalse(os.path.exists(os.path.join(cfg["run_dir"], "metrics.jsonl")))

    # --- refused up front -------------------------------------------------------------------------------------
    def test_other_model_preset_is_refused_naming_the_fields(self):
        path, cfg = self.decay("other-model", model_overrides={"n_layers": 3, "ffn_dim": 128})
        r = train(path)
        self.assert_refused_before_work(r, cfg, "model.n_layers: checkpoint 2, this run 3",
                                        "model.ffn_dim: checkpoint 192, this run 128", "step-00000004")
        self.assertEqual([e["event"] for e in events(r.stdout)], ["error"])   # no "start": nothing was built

    def test_other_weight_decay_grouping_is_refused(self):
        path, cfg = self.decay("other-wd", weight_decay_exclude="norms")
        self.assert_refused_before_work(train(path), cfg, "weight_decay_exclude: checkpoint 'none', this run 'norms'")

    def test_checkpoint_without_recorded_identity_is_still_checked_tensor_by_tensor(self):
        old = self.copy_stable("legacy-ckpt")   # as written before state.json recorded the identity
        with open(os.path.join(old, "state.json")) as f:
            state = json.load(f)
        del state["identity"]
        with open(os.path.join(old, "state.json"), "w") as f:
            json.dump(state, f)
        path, cfg = self.decay("legacy-other-model", init=old, model_overrides={"n_layers": 3})
        self.assert_refused_before_work(train(path), cfg, "model.pt does not match this run's model",
                                        "missing 9 tensor(s): model.layers.2.")
        path, cfg = self.decay("legacy-other-wd", init=old, weight_decay_exclude="norms")
        self.assert_refused_before_work(train(path), cfg, "optim.pt has parameter groups of")

    def test_checkpoint_missing_a_tensor_is_refused(self):
        bad = self.copy_stable("missing-tensor-ckpt")
        # Not load_torch: it memory-maps the file (torch >= 2.1), and saving over a mapped file truncates the pages
        # under the mapping: SIGBUS kills the whole suite. Read it into memory, then replace the file by rename.
        sd = torch.load(os.path.join(bad, "model.pt"), map_location="cpu")
        del sd["model.layers.1.self_attn.k_proj.weight"]
        torch.save(sd, os.path.join(bad, "model.pt.new"))
        os.replace(os.path.join(bad, "model.pt.new"), os.path.join(bad, "model.pt"))
        path, cfg = self.decay("missing-tensor", init=bad)
        self.assert_refused_before_work(train(path), cfg, "missing 1 tensor(s): model.layers.1.self_attn.k_proj.weight")

    def test_not_a_checkpoint_is_refused(self):
        path, cfg = self.decay("no-ckpt", init=os.path.join(self.dir, "mix"))
        self.assert_refused_before_work(train(path), cfg, "init_checkpoint", "not a trainer checkpoint")

    def test_two_ranks_both_stop_with_the_message(self):
        """DDP over gloo: every rank checks the same files, so no rank is left waiting in a collective."""
        path, cfg = self.decay("two-ranks", model_overrides={"n_heads": 2, "n_kv_heads": 1}, micro_batch_size=2)
        outs, codes = train_two_ranks(path)
        self.assertEqual(codes, [1, 1], outs)
        for out, err in outs:
            self.assertIn("model.n_heads: checkpoint 4, this run 2", err)
            self.assertNotIn("Traceback", err)

    def test_resume_with_another_model_is_refused(self):
        cfg = tiny_config(os.path.join(self.dir, "resume-model"), self.sources, train_steps=2)
        self.assertEqual(train(write_config(os.path.join(self.dir, "resume-model.json"), cfg)).returncode, 0)
        cfg2 = dict(cfg, model_overrides={"dim": 32})
        r = train(write_config(os.path.join(self.dir, "resume-model-2.json"), cfg2))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot be resumed by this run (use a new run_dir): model.dim: checkpoint 64, this run 32",
                      events(r.stdout)[-1]["message"])

    # --- LR continuity and resume ------------------------------------------------------------------------------
    def test_decay_starts_at_the_stable_lr_and_resumes_without_the_stable_checkpoint(self):
        path, cfg = self.decay("continuous", checkpoint_every=2)
        r = train(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = read_metrics(cfg["run_dir"])
        self.assertEqual(m[1]["lr"], STABLE_LR)                     # not the tiny preset's default 1e-3
        self.assertAlmostEqual(m[4]["lr"], 0.1 * STABLE_LR, places=15)
        self.assertEqual([e for e in events(r.stdout) if e["event"] == "warning"], [])
        # Kill after step 2's checkpoint, and the Stable checkpoint pruned meanwhile: the resumed run keeps its LR.
        stable_copy = self.copy_stable("continuous-stable")
        path, cfg = self.decay("continuous-b", init=stable_copy, checkpoint_every=2)
        self.assertEqual(train(path).returncode, 0)
        shutil.rmtree(os.path.join(cfg["run_dir"], "checkpoints", "step-00000004"))
        shutil.rmtree(stable_copy)
        r = train(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(events(r.stdout)[0]["start_step"], 2)
        self.assertEqual(read_metrics(cfg["run_dir"]), m)
        with open(os.path.join(cfg["run_dir"], "config.json")) as f:
            self.assertTrue(json.load(f)["branched_from"].endswith("continuous-stable"))

    def test_decay_export_gets_the_tokenizer_of_the_stable_runs_base_model(self):
        from megamath_trainer.config import preset
        from megamath_trainer.hf_io import export_hf
        from megamath_trainer.model import LlamaForCausalLM
        base = os.path.join(self.dir, "hf-base")
        m = LlamaForCausalLM(preset("tiny"))
        m.init_weights(5)
        export_hf(m.state_dict(), m.cfg, base)
        with open(os.path.join(base, "tokenizer.json"), "w") as f:
            f.write('{"model": {"type": "BPE"}}')
        cfg = tiny_config(os.path.join(self.dir, "stable-hf"), self.sources, train_steps=2, init_hf=base)
        self.assertEqual(train(write_config(os.path.join(self.dir, "stable-hf.json"), cfg)).returncode, 0)
        stable = os.path.join(cfg["run_dir"], "checkpoints", "step-00000002")
        path, dcfg = self.decay("decay-hf", init=stable, train_steps=2, export_hf=True)
        r = train(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(dcfg["run_dir"], "hf", "tokenizer.json")) as f:
            self.assertEqual(f.read(), '{"model": {"type": "BPE"}}')
        self.assertEqual([e for e in events(r.stdout) if e["event"] == "warning"], [])
        # Without any base model there is nothing to copy, and the run says so.
        path, _ = self.decay("decay-no-base", train_steps=2, export_hf=True)
        r = train(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        warnings = [e["message"] for e in events(r.stdout) if e["event"] == "warning"]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("has no tokenizer files", warnings[0])

    def test_an_explicit_lr_that_jumps_is_warned_about(self):
        path, cfg = self.decay("jump", lr=1e-3)
        r = train(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(read_metrics(cfg["run_dir"])[1]["lr"], 1e-3)
        warnings = [e["message"] for e in events(r.stdout) if e["event"] == "warning"]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn(f"starts at LR 0.001, but {self.stable} ended at {STABLE_LR}", warnings[0])

    def test_resume_uses_this_runs_adamw_settings_and_says_so(self):
        cfg = tiny_config(os.path.join(self.dir, "betas"), self.sources, train_steps=4, checkpoint_every=2)
        self.assertEqual(train(write_config(os.path.join(self.dir, "betas.json"), cfg)).returncode, 0)
        shutil.rmtree(os.path.join(cfg["run_dir"], "checkpoints", "step-00000004"))
        r = train(write_config(os.path.join(self.dir, "betas-2.json"), dict(cfg, adam_beta2=0.99)))
        self.assertEqual(r.returncode, 0, r.stderr)
        warnings = [e["message"] for e in events(r.stdout) if e["event"] == "warning"]
        self.assertEqual(warnings, ["AdamW settings changed on resume (betas [0.9, 0.95] -> [0.9, 0.99]): this "
                                    "run's are used"])
        optim = load_torch(os.path.join(cfg["run_dir"], "checkpoints", "step-00000004"), "optim.pt")
        self.assertEqual([list(g["betas"]) for g in optim["param_groups"]], [[0.9, 0.99]])


if __name__ == "__main__":
    unittest.main()
