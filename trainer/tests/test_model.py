import math
import unittest

import torch

from megamath_trainer.attention import AttentionMask, attend
from megamath_trainer.config import ModelConfig, preset
from megamath_trainer.hf_io import permute_for_rotate_half, permute_to_interleaved
from megamath_trainer.model import LlamaForCausalLM
from megamath_trainer.rope import llama3_inv_freq


def tiny_model(**over):
    m = LlamaForCausalLM(preset("tiny", **over))
    m.init_weights(3)
    return m.eval()


class RopeTest(unittest.TestCase):
    def test_llama3_scaling_per_frequency(self):
        scaling = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192}
        plain = llama3_inv_freq(64, 500000.0, None).double()
        scaled = llama3_inv_freq(64, 500000.0, scaling).double()
        for f, g in zip(plain.tolist(), scaled.tolist()):
            wavelen = 2 * math.pi / f
            if wavelen < 8192 / 4:
                self.assertAlmostEqual(g, f, delta=f * 1e-6)          # high frequencies untouched
            elif wavelen > 8192 / 1:
                self.assertAlmostEqual(g, f / 32, delta=f * 1e-6)     # low frequencies slowed by the factor
            else:
                smooth = (8192 / wavelen - 1) / 3
                self.assertAlmostEqual(g, (1 - smooth) * f / 32 + smooth * f, delta=f * 1e-6)
        self.assertLess(scaled[-1].item(), plain[-1].item() / 31)
        # The presets carry the factors of the real checkpoints: 32 for Llama-3.2, 8 for Llama-3.1-8B.
        self.assertEqual(preset("1b").rope_scaling["factor"], 32.0)
        self.assertEqual(preset("3b").rope_scaling["factor"], 32.0)
        self.assertEqual(preset("8b").rope_scaling["factor"], 8.0)

    def test_meta_permutation_matches_interleaved_rope(self):
        """Meta's interleaved RoPE on Meta-layout weights == our rotate-half RoPE on HF-permuted weights."""
        torch.manual_seed(0)
        heads, hd, dim, seq = 2, 8, 16, 5
        w_meta = torch.randn(heads * hd, dim)
        x = torch.randn(seq, dim)
        inv = llama3_inv_freq(hd, 10000.0, None)
        ang = torch.arange(seq)[:, None].float() * inv[None]
        q_meta = (x @ w_meta.T).view(seq, heads, hd // 2, 2)
        rot = torch.view_as_real(torch.view_as_complex(q_meta.contiguous()) * torch.polar(torch.ones_like(ang), ang)[:, None])
        out_meta = rot.reshape(seq, heads, hd)
        w_hf = permute_for_rotate_half(w_meta, heads)
        q_hf = (x @ w_hf.T).view(seq, heads, hd)
        cos, sin = torch.cat([ang, ang], -1).cos()[:, None], torch.cat([ang, ang], -1).sin()[:, None]
        out_hf = q_hf * cos + torch.cat([-q_hf[..., hd // 2:], q_hf[..., :hd // 2]], -1) * sin
        # Same rotation, rows in HF order: HF row i of a head is Meta row 2i (first half) or 2(i - hd/2) + 1.
        meta_order = out_meta.view(seq, heads, hd // 2, 2).transpose(-1, -2).reshape(seq, heads, hd)
        self.assertTrue(torch.allclose(out_hf, meta_order, atol=1e-5))
        self.assertTrue(torch.equal(permute_to_interleaved(w_hf, heads), w_meta))


class ModelTest(unittest.TestCase):
    def test_param_counts_match_the_published_sizes(self):
        self.assertAlmostEqual(preset("1b").num_params() / 1e9, 1.236, delta=0.001)
        self.assertAlmostEqual(preset("3b").num_params() / 1e9, 3.213, delta=0.001)
        self.assertAlmostEqual(preset("8b").num_params() / 1e9, 8.030, delta=0.001)
        m = tiny_model()
        self.assertEqual(sum(p.numel() for p in m.parameters()), preset("tiny").num_params())
        self.assertIs(m.lm_head.weight, m.model.embed_tokens.weight)

    def test_causal(self):
        m = tiny_model()
        ids = torch.randint(0, 512, (1, 12))
        changed = ids.clone()
        changed[0, 8:] = (changed[0, 8:] + 1) % 512
        a, b = m(ids), m(changed)
        self.assertTrue(torch.allclose(a[0, :8], b[0, :8], atol=1e-5))
        self.assertFalse(torch.allclose(a[0, 8:], b[0, 8:], atol=1e-3))

    def test_document_masking_isolates_packed_documents(self):
        """With block-causal masking and per-document positions, a document's logits inside a packed row equal its
        logits when run alone; with plain causal attention they do not."""
        m = tiny_model()
        d1, d2 = torch.randint(0, 512, (7,)), torch.randint(0, 512, (9,))
        packed = torch.cat([d1, d2])[None]
        doc_ids = torch.tensor([0] * 7 + [1] * 9)[None]
        positions = torch.cat([torch.arange(7), torch.arange(9)])[None]
        alone = m(d2[None])
        masked = m(packed, positions=positions, doc_ids=doc_ids)
        self.assertTrue(torch.allclose(masked[0, 7:], alone[0], atol=1e-5))
        self.assertTrue(torch.allclose(masked[0, :7], m(d1[None])[0], atol=1e-5))
        plain = m(packed)
        self.assertFalse(torch.allclose(plain[0, 7:], alone[0], atol=1e-3))

    def test_gqa_equals_explicitly_repeated_heads(self):
        torch.manual_seed(1)
        q, k, v = torch.randn(2, 4, 6, 8), torch.randn(2, 2, 6, 8), torch.randn(2, 2, 6, 8)
        mask = AttentionMask("math", None, 6, torch.device("cpu"))
        got = attend(q, k, v, mask)
        ref = attend(q, k.repeat_interleave(2, 1), v.repeat_interleave(2, 1), mask)
        self.assertTrue(torch.allclose(got, ref))
        # Reference attention by hand for one head.
        s = (q[0, 3] @ k[0, 1].T) / math.sqrt(8)
        s = s.masked_fill(torch.ones(6, 6, dtype=torch.bool).triu(1), float("-inf"))
        self.assertTrue(torch.allclose(got[0, 3], torch.softmax(s, -1) @ v[0, 1], atol=1e-6))

    def test_chunked_loss_equals_full_cross_entropy(self):
        m = tiny_model().train()
        ids, labels = torch.randint(0, 512, (2, 10)), torch.randint(0, 512, (2, 10))
        chunked = m(ids, labels, chunk_tokens=3)
        chunked.backward()
        g_chunked = m.model.layers[0].mlp.up_proj.weight.grad.clone()
        m.zero_grad()
        full = torch.nn.functional.cross_entropy(m(ids).reshape(-1, 512), labels.reshape(-1))
        full.backward()
        self.assertTrue(torch.allclose(chunked, full, atol=1e-5))
        self.assertTrue(torch.allclose(g_chunked, m.model.layers[0].mlp.up_proj.weight.grad, atol=1e-6))

    def test_activation_checkpointing_gives_the_same_gradients(self):
        ids, labels = torch.randint(0, 512, (1, 10)), torch.randint(0, 512, (1, 10))
        grads = []
        for ac in (False, True):
            m = tiny_model()
            m.activation_checkpointing = ac
            m.train()
            m(ids, labels).backward()
            grads.append(m.model.layers[1].self_attn.k_proj.weight.grad)
        self.assertTrue(torch.allclose(grads[0], grads[1], atol=1e-6))

    def test_hf_config_round_trip(self):
        for name in ("1b", "3b", "8b", "tiny"):
            cfg = preset(name)
            self.assertEqual(ModelConfig.from_hf_config(cfg.to_hf_config()), cfg)


if __name__ == "__main__":
    unittest.main()
