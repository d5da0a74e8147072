"""Measures what a training forward keeps for backward: the bytes of every distinct storage that autograd saves
(torch.autograd.graph.saved_tensors_hooks), split into activations and autocast's bf16 weight copies, with the
model's parameters left out (they are counted as weights). The memory estimate of `megamath train --dry-run`
(lib/train/memory.ts) is checked against this on reduced-width models (test/trainer/memory.test.ts).

python3 -m tests.saved_bytes '{"dim": 256, ...}'  prints one JSON object. Needs torch >= 2.0 (SDPA): the estimate
is for the GPU kernels (SDPA/flex keep q, k, v, the output and the log-sum-exp), which CPU SDPA shares when K/V
have as many heads as Q (with fewer, CPU SDPA falls back to its math kernel, which keeps S x S probabilities).
"""
import json
import sys

import torch

from megamath_trainer.config import preset
from megamath_trainer.model import LlamaForCausalLM


def _storage(t):
    s = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
    return s.data_ptr(), s.nbytes()


class _Patched:
    """A module stand-in with some attributes replaced."""

    def __init__(self, base, **attrs):
        self._base = base
        self.__dict__.update(attrs)

    def __getattr__(self, name):
        return getattr(self._base, name)


def measure(shape, batch, seq, mode, ac_every=0, chunk_tokens=2048, doc_masking=False, attention="sdpa"):
    """mode: 'autocast' (fp32 weights, bf16 autocast: one process / DDP) or 'bf16' (bf16 weights: FSDP's
    MixedPrecision params). Returns {"activations": bytes, "weight_copies": bytes}."""
    torch.manual_seed(0)
    cfg = preset("tiny", **shape)
    model = LlamaForCausalLM(cfg, attention, ac_every)
    model.init_weights(0)
    if mode == "bf16":
        model.to(torch.bfloat16)
    model.train()
    params = {_storage(p)[0] for p in model.parameters()}
    param_shapes = {tuple(p.shape) for p in model.parameters()}
    ids = torch.randint(0, cfg.vocab_size, (batch, seq))
    labels = torch.randint(0, cfg.vocab_size, (batch, seq))
    positions = doc_ids = None
    if doc_masking:   # two documents per row
        half = seq // 2
        doc_ids = (torch.arange(seq) >= half).long()[None].expand(batch, seq)
        positions = torch.cat([torch.arange(half), torch.arange(seq - half)])[None].expand(batch, seq)
    seen = {}

    def pack(t):
        ptr, nbytes = _storage(t)
        if ptr not in params and ptr not in seen:
            copy = t.dtype == torch.bfloat16 and tuple(t.shape) in param_shapes and mode == "autocast"
            seen[ptr] = (nbytes, copy)
        return t

    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if mode == "autocast" else torch.autocast("cpu", enabled=False)
    if mode == "autocast":
        # CUDA autocast runs SDPA in bf16 (flash kernel); CPU autocast upcasts it to fp32, whose math fallback keeps
        # the S x S probabilities. Run it as CUDA would, so the bytes are those of the GPU path.
        import megamath_trainer.attention as attention_module
        real = attention_module.F.scaled_dot_product_attention

        def sdpa_bf16(q, k, v, **kw):
            with torch.autocast("cpu", enabled=False):
                return real(q.to(torch.bfloat16), k.to(torch.bfloat16), v.to(torch.bfloat16), **kw)
        attention_module.F = _Patched(attention_module.F, scaled_dot_product_attention=sdpa_bf16)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with ctx:
            loss = model(ids, labels, positions, doc_ids, chunk_tokens)
    loss.backward()
    # The inputs a checkpointed layer or loss chunk keeps for its recomputation go through the same hooks.
    return {"activations": sum(n for n, c in seen.values() if not c),
            "weight_copies": sum(n for n, c in seen.values() if c),
            "torch": torch.__version__}


if __name__ == "__main__":
    a = json.loads(sys.argv[1])
    print(json.dumps(measure(a["shape"], a["batch"], a["seq"], a["mode"], a.get("ac_every", 0),
                             a.get("chunk_tokens", 2048), a.get("doc_masking", False), a.get("attention", "sdpa"))))
