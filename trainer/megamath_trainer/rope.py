"""Rotary position embedding in the Hugging Face "rotate-half" layout, with Llama-3's frequency scaling.

Using HF's layout means weights load from and export to HF checkpoints without any q/k permutation (the Meta
"interleaved" layout needs one; see hf_io.permute_for_rotate_half).
"""
import math

import torch


def llama3_inv_freq(head_dim, theta, scaling):
    """inv_freq[i] = theta^(-2i/d), then Llama-3 scaling: long wavelengths divided by `factor`, short ones kept,
    a smooth interpolation in between. Positions themselves are never scaled, so the factor matters at any length."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    if scaling is None:
        return inv_freq.float()
    factor = float(scaling["factor"])
    low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
    orig = float(scaling["original_max_position_embeddings"])
    low_wavelen, high_wavelen = orig / low, orig / high
    wavelen = 2 * math.pi / inv_freq
    smooth = (orig / wavelen - low) / (high - low)
    interpolated = (1 - smooth) * inv_freq / factor + smooth * inv_freq
    out = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    middle = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    out = torch.where(middle, interpolated, out)
    return out.float()


def rope_cos_sin(inv_freq, positions):
    """cos/sin of shape (B, 1, S, head_dim) for integer positions of shape (B, S); computed in fp32."""
    freqs = positions.to(torch.float32)[..., None] * inv_freq.to(positions.device)[None, None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos()[:, None], emb.sin()[:, None]


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x, cos, sin):
    """x: (B, H, S, head_dim). Rotation in fp32, result in x's dtype."""
    xf = x.float()
    return (xf * cos + rotate_half(xf) * sin).to(x.dtype)
