"""The torch-2-only paths, on CPU: SDPA (with and without document masks, native GQA), uncompiled flex attention,
compiled layers, bf16 autocast, FSDP2 and FSDP1 on 2 gloo ranks (HSDP on a 2-D mesh, deferred gradient
reduction, CPU offload), sharded torch.distributed.checkpoint checkpoints moving between 1 process, DDP, FSDP1 and
FSDP2, and the offloaded step of bench/train.py. What FSDP2 cannot do on a CPU mesh in torch 2.6 (reshard after
forward) and what gloo lacks (ReduceOp.AVG) is worked around in fsdp2.py and said there.

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

    def branch(self, name, src, ranks, **over):
        path, cfg = self.config(name, train_steps=3, phase="decay", lr=None,
                                init_checkpoint=os.path.join(src, "checkpoints", "step-00000004"), **over)
        if ranks == 1:
            r = train(path)
            self.assertEqual(r.returncode, 0, r.stderr)
        else:
            outs, codes = train_two_ranks(path)
            self.assertEqual(codes, [0, 0], outs)
        return read_metrics(cfg["run_dir"]), self.backends(cfg)

    def assert_same_losses(self, ref, got, msg=""):
        self.assertEqual(sorted(ref), sorted(got), msg)
        for k in ref:
            self.assertAlmostEqual(ref[k]["loss"], got[k]["loss"], places=5, msg=msg)
            # gradients averaged (not summed) over ranks: the clipped norm would differ first
            self.assertAlmostEqual(ref[k]["grad_norm"], got[k]["grad_norm"], places=4, msg=msg)
            self.assertEqual(ref[k]["lr"], got[k]["lr"], msg)

    @needs((2, 4), "FSDP2 (fully_shard) and torch.distributed.checkpoint")
    def test_fsdp2_matches_one_process_and_checkpoints_cross_every_mode(self):
        one, c1 = self.config("one", train_steps=4, checkpoint_every=2)
        self.assertEqual(train(one).returncode, 0)
        # 2 ranks x micro-batch 2 = 2 micro-batches per step: the first skips the reduce-scatter (defer_grad_reduce)
        # Its checkpoints are written in the background (async_checkpoint); the resume and the branches below load them.
        fsdp, c2 = self.config("fsdp2", train_steps=4, checkpoint_every=2, parallel="fsdp", defer_grad_reduce=True,
                               async_checkpoint=True)
        outs, codes = train_two_ranks(fsdp)
        self.assertEqual(codes, [0, 0], outs)
        dump = self.backends(c2)
        self.assertEqual(dump["backends"]["parallel"], "fsdp2")   # 'fsdp' is FSDP2 where torch has it
        self.assertEqual(dump["backends"]["mesh"], {"replicate": 1, "shard": 2})
        self.assertEqual(dump["backends"]["checkpoints"], "sharded (torch.distributed.checkpoint, async)")
        self.assertEqual([e["step"] for e in events(outs[0][0]) if e["event"] == "checkpoint"], [2, 4])
        self.assertEqual(dump["optimizer"]["impl"], "for-loop")   # what torch runs on CPU tensors
        self.assert_same_losses(read_metrics(c1["run_dir"]), read_metrics(c2["run_dir"]), "fsdp2")
        step4 = os.path.join(c2["run_dir"], "checkpoints", "step-00000004")
        # sharded: each rank wrote its own shards, nobody gathered a model.pt
        self.assertTrue(os.path.isfile(os.path.join(step4, "dcp", ".metadata")))
        self.assertFalse(os.path.exists(os.path.join(step4, "model.pt")))
        with open(os.path.join(step4, "state.json")) as f:
            self.assertEqual(json.load(f)["format"], "dcp")

        # FSDP2 resumes its own sharded checkpoint: kill after step 2 = drop step 4, run again.
        shutil.rmtree(step4)
        outs, codes = train_two_ranks(fsdp)
        self.assertEqual(codes, [0, 0], outs)
        self.assertEqual(events(outs[0][0])[0]["start_step"], 2)
        self.assert_same_losses(read_metrics(c1["run_dir"]), read_metrics(c2["run_dir"]), "fsdp2 resumed")

        # FSDP1 (kept for torch 2.0-2.3, asked for by name here) also writes sharded checkpoints.
        f1, c3 = self.config("fsdp1", train_steps=4, checkpoint_every=4, parallel="fsdp1")
        outs, codes = train_two_ranks(f1)
        self.assertEqual(codes, [0, 0], outs)
        self.assertTrue(os.path.isfile(os.path.join(c3["run_dir"], "checkpoints", "step-00000004", "dcp", ".metadata")))

        # Decay branches across modes all equal the 1-process -> 1-process one (same weights, same AdamW moments):
        # full -> FSDP2 and -> FSDP1, sharded FSDP2 -> 1 process and -> DDP, sharded FSDP1 -> HSDP (a 2-D mesh: 2 replicas of
        # 1 shard, its cross-replica all-reduce skipped on the first micro-batch) and FSDP2 -> FSDP1.
        base, _ = self.branch("b-one-one", c1["run_dir"], 1, export_hf=True)
        for name, src, ranks, over in (("b-one-fsdp2", c1["run_dir"], 2, {"parallel": "fsdp", "export_hf": True}),
                                       ("b-one-fsdp1", c1["run_dir"], 2, {"parallel": "fsdp1"}),
                                       ("b-fsdp2-one", c2["run_dir"], 1, {}),
                                       ("b-fsdp2-ddp", c2["run_dir"], 2, {"parallel": "ddp"}),
                                       ("b-fsdp1-hsdp", c3["run_dir"], 2, {"parallel": "fsdp2", "fsdp_shard_size": 1}),
                                       ("b-fsdp2-fsdp1", c2["run_dir"], 2, {"parallel": "fsdp1"})):
            got, dump = self.branch(name, src, ranks, **over)
            self.assert_same_losses(base, got, name)
            if name == "b-fsdp1-hsdp":
                self.assertEqual(dump["backends"]["mesh"], {"replicate": 2, "shard": 1})
        # FSDP2's HF export (the model gathered, never the optimizer) equals the 1-process one
        from megamath_trainer.hf_io import load_hf_state_dict
        ref = load_hf_state_dict(os.path.join(self.dir, "b-one-one", "hf"))
        got = load_hf_state_dict(os.path.join(self.dir, "b-one-fsdp2", "hf"))
        self.assertEqual(sorted(ref), sorted(got))
        for k in ref:
            self.assertTrue(torch.allclose(ref[k].float(), got[k].float(), atol=1e-2), k)

    @needs((2, 4), "FSDP2 CPU offload")
    def test_cpu_offload_on_one_process_matches_one_process(self):
        # What a 1-GPU 8B run does (fp32 state on the host, fused AdamW on the CPU), at toy size on CPU.
        one, c1 = self.config("one", train_steps=4, checkpoint_every=4)
        self.assertEqual(train(one).returncode, 0)
        off, c2 = self.config("offload", train_steps=4, checkpoint_every=4, cpu_offload=True,
                              defer_grad_reduce=True)   # weights kept across micro-batches, one reduction per step
        r = train(off)
        self.assertEqual(r.returncode, 0, r.stderr)
        dump = self.backends(c2)
        self.assertEqual((dump["backends"]["parallel"], dump["backends"]["cpu_offload"]), ("fsdp2", True))
        self.assertGreater(dump["grad_accum_steps"], 1)
        self.assertEqual(dump["optimizer"]["impl"], "fused")
        self.assert_same_losses(read_metrics(c1["run_dir"]), read_metrics(c2["run_dir"]), "offload")
        # a 1-rank FSDP2 checkpoint is sharded like any other (loads elsewhere: the cross-mode test above)
        self.assertTrue(os.path.isfile(os.path.join(c2["run_dir"], "checkpoints", "step-00000004", "dcp", ".metadata")))


class BenchOffloadTest(unittest.TestCase):
    @needs((2, 4), "FSDP2 CPU offload in bench/train.py")
    def test_bench_runs_the_offloaded_step_it_documents(self):
        import subprocess
        import sys
        bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "train.py")
        r = subprocess.run([sys.executable, bench, "--preset", "tiny", "--device", "cpu", "--seq-len", "64", "--steps",
                            "1", "--warmup", "1", "--cpu-offload", "--accum", "2", "--json"],
                           capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual((res["cpu_offload"], res["accum"], res["adamw"]), (True, 2, "fused"))
        self.assertGreater(res["tokens_per_s_per_gpu"], 0)
        self.assertIsNone(res["mfu"])   # no GPU, no MFU


class GradSyncTest(unittest.TestCase):
    """FSDP2 on a 1-rank gloo group in this process: which micro-batches reduce-scatter their gradients."""

    @needs((2, 4), "FSDP2")
    def test_deferred_reduce_scatter_runs_once_per_step_with_the_same_gradients(self):
        import torch.distributed as dist
        from megamath_trainer import fsdp2
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        self.addCleanup(dist.destroy_process_group)
        calls = []
        real = dist.reduce_scatter_tensor

        def counting(*a, **k):
            calls.append(1)
            return real(*a, **k)
        dist.reduce_scatter_tensor = counting
        self.addCleanup(setattr, dist, "reduce_scatter_tensor", real)
        ids, doc_ids, positions = packed_batch()
        labels = torch.roll(ids, -1, 1)
        grads = {}
        for defer in (False, True):
            m = LlamaForCausalLM(preset("tiny"), "sdpa")
            m.init_weights(5)
            fsdp2.shard(m, torch.device("cpu"), False, 0, 1, False)
            del calls[:]
            for micro in range(2):
                fsdp2.grad_sync(m, final=micro == 1, defer_reduce_scatter=defer, hsdp=False)
                m(ids[micro:micro + 1], labels[micro:micro + 1], positions[micro:micro + 1],
                  doc_ids[micro:micro + 1]).backward()
            # 3 FSDP units (2 layers + the root): 6 reduce-scatters, or 3 when the first micro-batch skips them
            self.assertEqual(len(calls), 3 if defer else 6)
            grads[defer] = {n: p.grad.full_tensor() for n, p in m.named_parameters()}
        for n in grads[False]:
            self.assertTrue(torch.allclose(grads[False][n], grads[True][n], atol=1e-6), n)


class ShardedCheckTest(unittest.TestCase):
    @needs((2, 2), "torch.distributed.checkpoint")
    def test_a_sharded_checkpoint_of_another_model_is_refused_from_its_metadata(self):
        from megamath_trainer import sharded_io
        from megamath_trainer.config import ConfigError
        from megamath_trainer.optim import param_group_names
        folder = tmpdir(self)
        src = LlamaForCausalLM(preset("tiny"))
        opt = torch.optim.AdamW(src.parameters())
        sharded_io.save(src, opt, folder)   # no process group: one process writes the whole state
        self.assertTrue(sharded_io.is_sharded(folder))
        names = [n for g in param_group_names(src, "none") for n in g]
        sharded_io.check(folder, {k: tuple(v.shape) for k, v in src.state_dict().items()}, True, names, "ck")
        other = LlamaForCausalLM(preset("tiny", ffn_dim=128))
        with self.assertRaisesRegex(ConfigError, r"ck: dcp/ does not match this run's model: 6 tensor\(s\) of another "
                                                 r"shape: model.layers.0.mlp.down_proj.weight \(64, 192\) \(model \(64, 128\)\)"):
            sharded_io.check(folder, {k: tuple(v.shape) for k, v in other.state_dict().items()}, True, names, "ck")
        with self.assertRaisesRegex(ConfigError, r"ck: dcp/ holds AdamW state for other parameters"):
            sharded_io.check(folder, {k: tuple(v.shape) for k, v in src.state_dict().items()}, True, names[1:], "ck")


    @needs((2, 3), "dcp.async_save")
    def test_async_save_stages_private_copies_of_cpu_tensors(self):
        # torch's staging "moves" CPU tensors to the CPU, i.e. keeps the live ones: the writer thread would race the
        # next optimizer step. What save_async hands to async_save must own its memory.
        from megamath_trainer.sharded_io import _private_cpu_copies
        p = torch.ones(3)
        state = {"model": {"w": p}, "optim": {"state": {"w": {"exp_avg": torch.zeros(3), "step": torch.tensor(1.0)}},
                                              "param_groups": [{"lr": 0.1, "params": ["w"]}]}}
        got = _private_cpu_copies(state)
        p.add_(1)
        self.assertTrue(torch.equal(got["model"]["w"], torch.ones(3)))
        self.assertNotEqual(got["optim"]["state"]["w"]["exp_avg"].data_ptr(),
                            state["optim"]["state"]["w"]["exp_avg"].data_ptr())
        self.assertEqual(got["optim"]["param_groups"], state["optim"]["param_groups"])


class ChooseParallelTest(unittest.TestCase):
    """Which mode runs, on this torch (runs under 1.13 too: FSDP2 and FSDP1 are then refused with the version)."""

    def test_modes_and_the_torch_each_needs(self):
        from types import SimpleNamespace
        from megamath_trainer import fsdp2
        from megamath_trainer.config import ConfigError
        from megamath_trainer.parallel import choose_parallel
        cpu1 = SimpleNamespace(world_size=1, device=torch.device("cpu"))
        cpu2 = SimpleNamespace(world_size=2, device=torch.device("cpu"))
        gpu2 = SimpleNamespace(world_size=2, device=torch.device("cuda", 0))   # a device name only: nothing runs
        self.assertEqual(choose_parallel("auto", cpu1), "none")
        self.assertEqual(choose_parallel("auto", cpu2), "ddp")   # FSDP on CPU only when asked for
        with self.assertRaisesRegex(ConfigError, "cpu_offload needs FSDP2"):
            choose_parallel("ddp", cpu2, cpu_offload=True)
        if fsdp2.api() is not None:
            self.assertEqual(choose_parallel("auto", gpu2), "fsdp2")
            self.assertEqual(choose_parallel("fsdp", cpu2), "fsdp2")
            self.assertEqual(choose_parallel("auto", cpu1, cpu_offload=True), "fsdp2")
        else:
            self.assertIn(choose_parallel("auto", gpu2), ("fsdp1", "ddp"))
            with self.assertRaisesRegex(ConfigError, r"parallel 'fsdp2' \(fully_shard\) needs torch >= 2.4"):
                choose_parallel("fsdp2", cpu2)
            with self.assertRaisesRegex(ConfigError, "cpu_offload needs FSDP2"):
                choose_parallel("auto", cpu1, cpu_offload=True)


class MeshTest(unittest.TestCase):
    def test_hsdp_shards_within_a_node_and_replicates_across_nodes(self):
        from megamath_trainer.fsdp2 import mesh_shape
        self.assertEqual(mesh_shape(8, 8), (1, 8))        # one node: plain FSDP
        self.assertEqual(mesh_shape(32, 8), (4, 8))       # 4 nodes: HSDP, shard in the node
        self.assertEqual(mesh_shape(12, 8), (1, 12))      # not whole nodes: shard across all
        self.assertEqual(mesh_shape(16, 8, 16), (1, 16))  # forced
        self.assertEqual(mesh_shape(2, 2, 1), (2, 1))
        with self.assertRaises(ValueError):
            mesh_shape(8, 8, 3)


if __name__ == "__main__":
    unittest.main()
