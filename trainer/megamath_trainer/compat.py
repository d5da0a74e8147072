"""Capability checks, so one code base runs on Debian's torch 1.13 (CPU) and on current torch 2.x (GPU).

Every speed feature is used only when the running torch has it; the chosen backends are written into the run's
config dump so a run says what it actually used.
"""
import inspect

import torch
import torch.nn.functional as F


def torch_version():
    """(major, minor) of the running torch, e.g. (1, 13)."""
    parts = torch.__version__.split("+")[0].split(".")
    return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)


def has_sdpa():
    return hasattr(F, "scaled_dot_product_attention")


def sdpa_has_gqa():
    """F.scaled_dot_product_attention(..., enable_gqa=True): torch >= 2.5."""
    return has_sdpa() and torch_version() >= (2, 5)


def has_flex_attention():
    if torch_version() < (2, 5):
        return False
    try:
        from torch.nn.attention import flex_attention  # noqa: F401
    except ImportError:
        return False
    return True


def has_compile():
    # Per-block compilation uses nn.Module.compile (torch >= 2.2), which keeps parameter names (HF keys) intact.
    return hasattr(torch, "compile") and hasattr(torch.nn.Module, "compile")


def has_fused_adamw():
    return "fused" in inspect.signature(torch.optim.AdamW.__init__).parameters


def has_fsdp():
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel  # noqa: F401
    except Exception:  # Debian's torch 1.13 on Python 3.11 fails inside this import (a dataclass error)
        return False
    return True


def bf16_supported(device):
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return False


def describe():
    """What this torch offers, for the config dump and `megamath train` environment checks."""
    return {
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "cuda_devices": torch.cuda.device_count() if torch.cuda.is_available() else 0,
        "sdpa": has_sdpa(),
        "flex_attention": has_flex_attention(),
        "compile": has_compile(),
        "fused_adamw": has_fused_adamw(),
        "fsdp": has_fsdp(),
        "fsdp2": torch_version() >= (2, 4),   # fully_shard; checked by import where it is used (fsdp2.api)
    }
