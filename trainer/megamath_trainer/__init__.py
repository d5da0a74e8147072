"""megamath_trainer: Stable-then-Decay continual pre-training of Llama-3 on Megatron token mixtures.

Runs on Debian's torch 1.13 (CPU) and on torch 2.x (GPU, with SDPA/flex attention, torch.compile, fused AdamW,
FSDP) without code changes; features are switched on by capability checks in `compat.py`.
"""

__version__ = "0.1.0"
