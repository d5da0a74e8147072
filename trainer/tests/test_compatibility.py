"""The checks that a checkpoint fits a run (compatibility.py) and the exact state loading built on them
(parallel.load_full_state), in process on CPU."""
import unittest

import torch

from megamath_trainer.compatibility import (check_identity, check_model_state, check_optim_layout,
                                            identity_differences, run_identity)
from megamath_trainer.config import ConfigError, preset, train_config_from_dict
from megamath_trainer.model import LlamaForCausalLM
from megamath_trainer.optim import build_adamw, param_group_names
from megamath_trainer.parallel import load_full_state, optim_state_by_name


def tiny(**overrides):
    m = LlamaForCausalLM(preset("tiny", **overrides))
    m.init_weights(3)
    return m


def run_cfg(**over):
    raw = {"run_dir": "/nonexistent", "sources": [{"prefix": "/nonexistent/x", "weight": 1}], "train_steps": 1}
    raw.update(over)
    return train_config_from_dict(raw)


def shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


class IdentityTest(unittest.TestCase):
    def test_differences_name_each_field_with_both_values(self):
        cfg = run_cfg()
        a = run_identity(preset("tiny"), cfg)
        b = run_identity(preset("tiny", n_layers=3, rope_theta=10000.0), run_cfg(weight_decay_exclude="norms"))
        diffs = identity_differences(a, b)
        self.assertEqual(len(diffs), 3, diffs)
        self.assertIn("model.n_layers: checkpoint 2, this run 3", diffs)
        self.assertIn("model.rope_theta: checkpoint 500000.0, this run 10000.0", diffs)
        self.assertTrue(any(d.startswith("weight_decay_exclude: checkpoint 'none', this run 'norms'") for d in diffs))
        # metadata that changes no weight (bos/eos ids) is not a difference
        self.assertEqual(identity_differences(a, run_identity(preset("tiny", bos_id=7, eos_id=8), cfg)), [])

    def test_identity_survives_json_and_a_missing_identity_is_left_to_the_tensor_checks(self):
        import json
        ident = run_identity(preset("llama3.2-1b"), run_cfg())
        check_identity({"identity": json.loads(json.dumps(ident))}, ident, "ckpt", "be used")
        check_identity({}, ident, "ckpt", "be used")
        with self.assertRaisesRegex(ConfigError, r"ckpt: this checkpoint cannot start it: model\.dim: checkpoint "
                                                 r"2048, this run 3072"):
            check_identity({"identity": ident}, run_identity(preset("llama3.2-3b"), run_cfg()), "ckpt", "start it")


class ModelStateTest(unittest.TestCase):
    def test_exact_state_passes_and_tied_lm_head_may_be_absent(self):
        m = tiny()
        sd = m.state_dict()
        check_model_state(sd, shapes(m), True, "c")
        check_model_state({k: v for k, v in sd.items() if k != "lm_head.weight"}, shapes(m), True, "c")

    def test_missing_unexpected_and_misshaped_tensors_are_named(self):
        m = tiny()
        sd = dict(m.state_dict())
        del sd["model.layers.1.mlp.down_proj.weight"]
        sd["model.layers.9.extra.weight"] = torch.zeros(2)
        sd["model.norm.weight"] = torch.zeros(65)
        with self.assertRaises(ConfigError) as e:
            check_model_state(sd, shapes(m), True, "ckpt/step-2")
        msg = str(e.exception)
        self.assertTrue(msg.startswith("ckpt/step-2: model.pt does not match this run's model"), msg)
        self.assertIn("missing 1 tensor(s): model.layers.1.mlp.down_proj.weight", msg)
        self.assertIn("unexpected 1 tensor(s): model.layers.9.extra.weight", msg)
        self.assertIn("model.norm.weight (65,) (model (64,))", msg)

    def test_untied_model_needs_its_lm_head(self):
        m = tiny(tie_embeddings=False)
        sd = {k: v for k, v in m.state_dict().items() if k != "lm_head.weight"}
        with self.assertRaisesRegex(ConfigError, "missing 1 tensor\\(s\\): lm_head.weight"):
            check_model_state(sd, shapes(m), False, "c")

    def test_optimizer_group_layout(self):
        check_optim_layout({"param_groups": [{"params": [0, 1]}, {"params": [2]}]}, [2, 1], "c")
        with self.assertRaisesRegex(ConfigError, r"c: optim.pt has parameter groups of \[3\] parameters, this run's "
                                                 r"AdamW has \[2, 1\]"):
            check_optim_layout({"param_groups": [{"params": [0, 1, 2]}]}, [2, 1], "c")
        with self.assertRaisesRegex(ConfigError, "not an optimizer state dict"):
            check_optim_layout({"state": {}}, [1], "c")


class LoadFullStateTest(unittest.TestCase):
    def setUp(self):
        self.cfg = run_cfg(model="tiny")
        self.src = tiny()
        self.src_opt, _ = build_adamw(self.src, self.cfg, torch.device("cpu"), 1e-3)
        ids = torch.arange(16).view(2, 8) + 3
        self.src(ids, ids).backward()   # one update, so the optimizer state holds moments
        self.src_opt.step()

    def target(self, cfg=None, **overrides):
        m = LlamaForCausalLM(preset("tiny", **overrides))
        m.init_weights(99)
        opt, _ = build_adamw(m, cfg or self.cfg, torch.device("cpu"), 1e-3)
        return m, opt

    def test_state_without_the_tied_lm_head_loads(self):
        # FSDP's full state dict may list a tied weight once; the model must still come out identical.
        m, opt = self.target()
        sd = {k: v for k, v in self.src.state_dict().items() if k != "lm_head.weight"}
        load_full_state(m, m, opt, "none", sd, self.src_opt.state_dict(), shapes(m), "c")
        for k, v in self.src.state_dict().items():
            self.assertTrue(torch.equal(m.state_dict()[k], v), k)
        self.assertEqual(len(opt.state), len(self.src_opt.state))
        self.assertIs(m.lm_head.weight, m.model.embed_tokens.weight)

    def test_bad_state_is_a_config_error_in_every_mode_before_any_loading(self):
        sd = {k: v for k, v in self.src.state_dict().items() if "layers.0.self_attn.q_proj" not in k}
        for mode in ("none", "ddp", "fsdp1", "fsdp2"):
            # fsdp1/fsdp2: the check runs before FSDP is touched (it cannot even be imported on Debian's torch 1.13)
            m, opt = self.target()
            before = {k: v.clone() for k, v in m.state_dict().items()}
            with self.assertRaisesRegex(ConfigError, "missing 1 tensor\\(s\\): model.layers.0.self_attn.q_proj"):
                load_full_state(m, m, opt, mode, sd, self.src_opt.state_dict(), shapes(m), "c")
            self.assertTrue(all(torch.equal(before[k], v) for k, v in m.state_dict().items()), mode)

    def test_other_parameter_grouping_is_a_config_error(self):
        m, opt = self.target(run_cfg(model="tiny", weight_decay_exclude="norms"))
        with self.assertRaisesRegex(ConfigError, r"parameter groups of \[\d+\] parameters, this run's AdamW has "
                                                 r"\[\d+, \d+\]"):
            load_full_state(m, m, opt, "none", self.src.state_dict(), self.src_opt.state_dict(), shapes(m), "c")

    def test_position_keyed_optimizer_state_maps_to_names_and_back(self):
        """One process / DDP save AdamW moments by position, FSDP by parameter name: optim_state_by_name (used when
        an FSDP run loads a one-process checkpoint) gives every name its own moments, and a name-keyed state (what
        an FSDP checkpoint holds) loads into a plain optimizer with the moments on the same parameters."""
        names = param_group_names(self.src, "none")
        by_name = optim_state_by_name(self.src_opt.state_dict(), names)
        flat = dict(self.src.named_parameters())
        for name in names[0]:
            self.assertTrue(torch.equal(by_name["state"][name]["exp_avg"], self.src_opt.state[flat[name]]["exp_avg"]))
        self.assertNotIn("lm_head.weight", by_name["state"])   # tied: one parameter, one state
        m, opt = self.target()
        load_full_state(m, m, opt, "none", self.src.state_dict(), by_name, shapes(m), "c")
        for name, p in m.named_parameters():
            self.assertTrue(torch.equal(opt.state[p]["exp_avg_sq"], self.src_opt.state[flat[name]]["exp_avg_sq"]), name)


class SmallFixesTest(unittest.TestCase):
    def test_recorded_adamw_implementation_is_the_one_that_runs(self):
        m = LlamaForCausalLM(preset("tiny"))
        opt, impl = build_adamw(m, run_cfg(model="tiny"), torch.device("cpu"), 1e-3)
        self.assertEqual(impl, "for-loop")
        self.assertIs(opt.defaults["foreach"], False)

    def test_rendezvous_message_names_a_timeout_only_when_it_was_one(self):
        from megamath_trainer.parallel import rendezvous_message
        quick = rendezvous_message(0, 2, 3600, 0.2, RuntimeError("use_libuv was requested but PyTorch was built without libuv support"))
        self.assertIn("could not start", quick)
        self.assertIn("built without libuv", quick)
        self.assertNotIn("did not join", quick)
        slow = rendezvous_message(0, 2, 3, 3.1, RuntimeError("Socket Timeout"))
        self.assertIn("the other ranks did not join", slow)
        self.assertIn("within 3 s", slow)


if __name__ == "__main__":
    unittest.main()
