"""The torch-2-only paths, on CPU: SDPA (with and without document masks, native GQA), uncompiled flex attention,
compiled layers, bf16 autocast, FSDP on 2 gloo ranks and checkpoints moving between one process and FSDP.

They skip under Debian 12's torch 1.13 (the main suite) and run in .ci/torch2-check under trixie's torch 2.6, which
sets MEGAMATH_REQUIRE_TORCH2=1 so that a skip there is a failure."""
import json
import os
import shutil
import unittest

import torch

from megamath_trainer import compat
from megamath_trainer.attention import AttentionMask, attend
from megamath_trainer.config import preset
from megamath_trainer.model import LlamaForCausalLM
from tests.helpers import make_mixture, read_metrics, tiny_config, tmpdir, write_config
from tests.test_train import events, train, train_two_ranks

REQUIRED = os.environ.get("MEGAMATH_REQUIRE_TORCH2") == "1"


def needs(version, what):
    ok = compat.torch_version() >= version
    if not ok and REQUIRED:
        raise AssertionError(f"MEGAMATH_REQUIRE_TORCH2=1 but torch {torch.__version__} < {version} ({what})")
    return unittest.skipUnless(ok, f"{what} needs torch >= {'.'.join(map(str, version))}; this is {torch.__version__} "
                                   f"(.ci/torch2-check runs it under torch 2.x)")


def packed_batch(b=2, s=24):
    torch.manual_seed(3)
    ids = torch.randint(0, 512, (b, s))
    doc_ids = torch.tensor([0] * 10 + [1] * 9 + [2] * (s - 19))[None].expand(b, s)
    positions = torch.cat([torch.arange(10), torch.arange(9), torch.arange(s - 19)])[None].expand(b, s)
    return ids, doc_ids, positions


def loss_and_grads(backend, doc_masking, dtype_ctx=None):
    torch.manual_seed(0)
    m = LlamaForCausalLM(preset("tiny"), backend)
    m.init_weights(5)
    m.train()
    ids, doc_ids, positions = packed_batch()
    labels = torch.roll(ids, -1, 1)
    args = (ids, labels, positions, doc_ids) if doc_masking else (ids, labels)
    if dtype_ctx is None:
        loss = m(*args)
    else:
        with dtype_ctx:
            loss = m(*args)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in m.named_parameters()}


class AttentionBackendsTest(unittest.TestCase):
    def assert_same(self, a, b, atol=1e-5):
        self.assertLess(abs(float(a[0] - b[0])), atol)
        for k in a[1]:
            self.assertTrue(torch.allclose(a[1][k], b[1][k], atol=atol), k)

    @needs((2, 0), "SDPA")
    def test_sdpa_equals_math_with_and_without_document_masks(self):
        for doc in (False, True):
            self.assert_same(loss_and_grads("sdpa", doc), loss_and_grads("math", doc))
        # the masks matter: with them the loss differs from plain causal attention
        self.assertGreater(abs(float(loss_and_grads("sdpa", True)[0] - loss_and_grads("sdpa", False)[0])), 1e-4)

    @needs((2, 5), "SDPA enable_gqa")
    def test_native_gqa_sdpa_equals_repeated_heads(self):
        torch.manual_seed(1)
        q, k, v = torch.randn(2, 4, 6, 8), torch.randn(2, 2, 6, 8), torch.randn(2, 2, 6, 8)
        self.assertTrue(compat.sdpa_has_gqa())
        for doc_ids in (None, torch.tensor([[0, 0, 0, 1, 1, 1]] * 2)):
            got = attend(q, k, v, AttentionMask("sdpa", doc_ids, 6, torch.device("cpu")))
            ref = attend(q, k, v, AttentionMask("math", doc_ids, 6, torch.device("cpu")))
            self.assertTrue(torch.allclose(got, ref, atol=1e-6))

    @needs((2, 5), "flex attention")
    def test_uncompiled_flex_equals_math_with_and_without_document_masks(self):
        for doc in (False, True):
            self.assert_same(loss_and_grads("flex", doc), loss_and_grads("math", doc))

    @needs((2, 2), "nn.Module.compile")
    def test_compiled_layers_equal_eager(self):
        ids, doc_ids, positions = packed_batch()
        labels = torch.roll(ids, -1, 1)
        out = []
        for compiled in (False, True):
            m = LlamaForCausalLM(preset("tiny"), "sdpa")
            m.init_weights(5)
            m.train()
            if compiled:
                for layer in m.model.layers:
                    layer.compile()
            loss = m(ids, labels, positions, doc_ids)
            loss.backward()
            out.append((loss.detach(), m.model.layers[0].mlp.up_proj.weight.grad.clone()))
        self.assertLess(abs(float(out[0][0] - out[1][0])), 1e-5)
        self.assertTrue(torch.allclose(out[0][1], out[1][1], atol=1e-5))

    @needs((2, 0), "CPU bf16 autocast with SDPA")
    def test_bf16_autocast_is_close_to_fp32(self):
        fp32 = loss_and_grads("sdpa", True)
        bf16 = loss_and_grads("sdpa", True, torch.autocast("cpu", dtype=torch.bfloat16))
        self.assertTrue(torch.isfinite(bf16[0]))
        self.assertLess(abs(float(fp32[0] - bf16[0])), 2e-2)
        self.assertNotEqual(float(fp32[0]), float(bf16[0]))   # autocast really ran in bf16

    @needs((2, 0), "activation checkpointing with SDPA")
    def test_every_kth_layer_checkpointing_gives_the_same_gradients(self):
        ids, doc_ids, positions = packed_batch()
        labels = torch.roll(ids, -1, 1)
        grads = []
        for every in (0, 1, 2):
            m = LlamaForCausalLM(preset("tiny", n_layers=3), "sdpa", every)
            m.init_weights(5)
            m.train()
            m(ids, labels, positions, doc_ids, chunk_tokens=16).backward()
            grads.append({n: p.grad for n, p in m.named_parameters()})
        for g in grads[1:]:
            for k in g:
                self.assertTrue(torch.allclose(g[k], grads[0][k], atol=1e-6), k)


class HfExportTest(unittest.TestCase):
    def test_export_is_read_by_the_safetensors_package(self):
        try:
            from safetensors.torch import load_file
        except ImportError:
            if REQUIRED:
                raise
            self.skipTest("the safetensors package is not installed (Debian: python3-safetensors)")
        from megamath_trainer.hf_io import export_hf
        m = LlamaForCausalLM(preset("tiny"))
        m.init_weights(9)
        out = export_hf(m.state_dict(), m.cfg, os.path.join(tmpdir(self), "hf"))
        got = load_file(os.path.join(out, "model.safetensors"))
        self.assertNotIn("lm_head.weight", got)   # tied: HF stores the embedding only
        want = {k: v for k, v in m.state_dict().items() if k != "lm_head.weight"}
        self.assertEqual(set(got), set(want))
        for k, v in want.items():
            self.assertEqual(got[k].dtype, torch.bfloat16, k)
            self.assertTrue(torch.equal(got[k], v.to(torch.bfloat16)), k)
        with open(os.path.join(out, "config.json")) as f:
            self.assertTrue(json.load(f)["tie_word_embeddings"])


class DistributedTest(unittest.TestCase):
    """2 gloo ranks, as the `local` launcher starts them (torchrun needs libuv, which Debian's torch lacks)."""

    def setUp(self):
        self.dir = tmpdir(self)
        self.sources = make_mixture(os.path.join(self.dir, "mix"))

    def config(self, name, **over):
        cfg = tiny_config(os.path.join(self.dir, name), self.sources, micro_batch_size=2, **over)
        return write_config(os.path.join(self.dir, name + ".json"), cfg), cfg

    def backends(self, cfg):
        with open(os.path.join(cfg["run_dir"], "config.json")) as f:
            return json.load(f)

    @needs((2, 0), "FSDP")
    def test_fsdp_two_ranks_match_one_process_and_checkpoints_cross_both_ways(self):
        one, c1 = self.config("one", train_steps=4, checkpoint_every=2)
        self.assertEqual(train(one).returncode, 0)
        fsdp, c2 = self.config("fsdp", train_steps=4, checkpoint_every=2, parallel="fsdp")
        outs, codes = train_two_ranks(fsdp)
        self.assertEqual(codes, [0, 0], outs)
        dump = self.backends(c2)
        self.assertEqual(dump["backends"]["parallel"], "fsdp")
        self.assertEqual(dump["optimizer"]["impl"], "for-loop")   # what torch runs on CPU tensors
        ref, got = read_metrics(c1["run_dir"]), read_metrics(c2["run_dir"])
        for k in ref:
            self.assertAlmostEqual(ref[k]["loss"], got[k]["loss"], places=5)

        # FSDP resumes its own checkpoint: kill after step 2 = drop step 4, run again.
        shutil.rmtree(os.path.join(c2["run_dir"], "checkpoints", "step-00000004"))
        outs, codes = train_two_ranks(fsdp)
        self.assertEqual(codes, [0, 0], outs)
        self.assertEqual(events(outs[0][0])[0]["start_step"], 2)
        again = read_metrics(c2["run_dir"])
        for k in ref:
            self.assertAlmostEqual(ref[k]["loss"], again[k]["loss"], places=5)

        # Decay branches: one-process checkpoint -> FSDP, FSDP checkpoint -> one process; both equal the
        # one-process -> one-process branch (same weights, same AdamW moments by name).
        def branch(name, src, parallel, ranks):
            path, cfg = self.config(name, train_steps=3, phase="decay", lr=None,
                                    init_checkpoint=os.path.join(src, "checkpoints", "step-00000004"),
                                    **({"parallel": parallel} if parallel else {}))
            if ranks == 1:
                r = train(path)
                self.assertEqual(r.returncode, 0, r.stderr)
            else:
                outs, codes = train_two_ranks(path)
                self.assertEqual(codes, [0, 0], outs)
            return read_metrics(cfg["run_dir"])
        base = branch("b-one-one", c1["run_dir"], None, 1)
        for name, src, par, ranks in (("b-one-fsdp", c1["run_dir"], "fsdp", 2),
                                      ("b-fsdp-one", c2["run_dir"], None, 1),
                                      ("b-fsdp-ddp", c2["run_dir"], "ddp", 2)):
            got = branch(name, src, par, ranks)
            for k in base:
                self.assertAlmostEqual(base[k]["loss"], got[k]["loss"], places=5, msg=name)
                self.assertEqual(base[k]["lr"], got[k]["lr"], name)


if __name__ == "__main__":
    unittest.main()
