"""Causal self-attention kernels, with optional cross-document (block-causal) masking for packed sequences.

Backends, best first: flex attention (torch >= 2.5, block-sparse, skips masked blocks), PyTorch SDPA (torch >= 2.0;
flash kernel when there is no document mask, memory-efficient kernel with a boolean mask otherwise) and a plain
matmul+softmax "math" path that runs everywhere (torch 1.13 CPU). All take q (B, H, S, D), k/v (B, KV, S, D).
"""
import math

import torch
import torch.nn.functional as F

from . import compat

_flex = {}


def _flex_fns(device_type):
    """(flex_attention, create_block_mask), compiled on CUDA. Uncompiled flex attention is exact but materialises
    the scores (the compiled kernel is what makes it block-sparse); on CPU it is the only form that works (torch 2.6's
    CPU inductor fails to build the flex kernel), so CPU runs and tests use it eagerly. create_block_mask is compiled
    too on CUDA: eagerly it materialises S x S intermediates (0.7 GiB and seconds per 8192-token micro-batch)."""
    if device_type not in _flex:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
        if device_type == "cuda":
            _flex[device_type] = (torch.compile(flex_attention, dynamic=False), torch.compile(create_block_mask))
        else:
            _flex[device_type] = (flex_attention, create_block_mask)
    return _flex[device_type]


def pick_backend(requested, device):
    if requested != "auto":
        if requested == "flex" and not compat.has_flex_attention():
            raise RuntimeError("attention 'flex' needs torch >= 2.5 with torch.nn.attention.flex_attention")
        if requested == "sdpa" and not compat.has_sdpa():
            raise RuntimeError("attention 'sdpa' needs torch >= 2.0 (F.scaled_dot_product_attention)")
        return requested
    if device.type == "cuda" and compat.has_flex_attention():
        return "flex"
    if compat.has_sdpa():
        return "sdpa"
    return "math"


class AttentionMask:
    """Built once per micro-batch and shared by all layers. doc_ids (B, S) or None for plain causal attention."""

    def __init__(self, backend, doc_ids, seq_len, device):
        self.backend = backend
        self.doc_ids = doc_ids
        self.dense = None
        self.block = None
        if backend == "flex":
            _, create_block_mask = _flex_fns(torch.device(device).type)
            if doc_ids is None:
                def mask_mod(b, h, q, kv):
                    return q >= kv
                batch = None
            else:
                def mask_mod(b, h, q, kv):
                    return (q >= kv) & (doc_ids[b, q] == doc_ids[b, kv])
                batch = doc_ids.shape[0]
            self.block = create_block_mask(mask_mod, batch, None, seq_len, seq_len, device=str(device))
        elif doc_ids is not None or backend == "math":
            causal = torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()
            if doc_ids is None:
                self.dense = causal[None, None]
            else:
                same = doc_ids[:, :, None] == doc_ids[:, None, :]
                self.dense = (same & causal[None])[:, None]   # (B, 1, S, S)


def attend(q, k, v, mask):
    n_rep = q.shape[1] // k.shape[1]
    if mask.backend == "flex":
        flex_attention, _ = _flex_fns(q.device.type)
        return flex_attention(q, k, v, block_mask=mask.block, enable_gqa=n_rep > 1)
    if mask.backend == "sdpa" and n_rep > 1 and compat.sdpa_has_gqa():
        # Native grouped-query attention: K/V heads are not copied n_rep times (nor kept that way for backward).
        if mask.dense is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask.dense.to(q.device), enable_gqa=True)
    if n_rep > 1:
        k = k.repeat_interleave(n_rep, dim=1)
        v = v.repeat_interleave(n_rep, dim=1)
    if mask.backend == "sdpa":
        if mask.dense is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask.dense.to(q.device))
    scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) / math.sqrt(q.shape[-1])
    dense = mask.dense.to(q.device)
    scores = scores.masked_fill(~dense, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v.float()).to(q.dtype)
