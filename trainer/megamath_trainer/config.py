"""Model presets (Llama-3.2-1B/3B, Llama-3.1-8B, tiny) and the run configuration, with HF config.json mapping.

The run config is a plain JSON file (written by `megamath train`, or by hand). Unknown keys are an error, so a typo
never silently falls back to a default; every resolved value is dumped into the run folder.
"""
import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import List, Optional


class ConfigError(ValueError):
    """A bad run or model configuration; the message names the field."""


LLAMA3_ROPE_SCALING_32 = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 8192}
LLAMA3_ROPE_SCALING_8 = dict(LLAMA3_ROPE_SCALING_32, factor=8.0)


@dataclass
class ModelConfig:
    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn_dim: int
    vocab_size: int = 128256
    norm_eps: float = 1e-5
    rope_theta: float = 500000.0
    # HF-style "rope_scaling" dict (rope_type llama3) or None for plain RoPE. Read from config.json, never assumed:
    # Llama-3.2-1B/3B use factor 32, Llama-3.1-8B factor 8, and several trainers silently default to 8.
    rope_scaling: Optional[dict] = None
    tie_embeddings: bool = False
    max_position_embeddings: int = 131072
    bos_id: int = 128000
    eos_id: int = 128001

    @property
    def head_dim(self):
        return self.dim // self.n_heads

    def validate(self):
        if self.dim % self.n_heads:
            raise ConfigError(f"model.dim {self.dim} is not divisible by model.n_heads {self.n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ConfigError(f"model.n_heads {self.n_heads} is not divisible by model.n_kv_heads {self.n_kv_heads}")
        if self.head_dim % 2:
            raise ConfigError(f"head dim {self.head_dim} must be even for RoPE")
        if self.rope_scaling is not None:
            kind = self.rope_scaling.get("rope_type", self.rope_scaling.get("type"))
            if kind != "llama3":
                raise ConfigError(f"model.rope_scaling: only rope_type 'llama3' is supported, got {kind!r}")
            for k in ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"):
                if k not in self.rope_scaling:
                    raise ConfigError(f"model.rope_scaling is missing {k!r}")
        return self

    def num_params(self, include_embedding=True):
        d, L, kv = self.dim, self.n_layers, self.n_kv_heads * self.head_dim
        per_layer = d * d * 2 + d * kv * 2 + 3 * d * self.ffn_dim + 2 * d
        emb = self.vocab_size * d
        head = 0 if self.tie_embeddings else self.vocab_size * d
        return L * per_layer + d + head + (emb if include_embedding else 0)

    def flops_per_token(self, seq_len):
        """torchtitan's convention: 6 * matmul params (lm_head counted, embedding lookup not) + 12*L*d*S attention
        at full S x S (no causal halving). Used for MFU, so figures compare with the anchors' tables."""
        matmul = self.num_params(include_embedding=False) + (self.vocab_size * self.dim if self.tie_embeddings else 0)
        return 6 * matmul + 12 * self.n_layers * self.dim * seq_len

    def to_hf_config(self, torch_dtype="bfloat16"):
        return {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "hidden_size": self.dim,
            "num_hidden_layers": self.n_layers,
            "num_attention_heads": self.n_heads,
            "num_key_value_heads": self.n_kv_heads,
            "head_dim": self.head_dim,
            "intermediate_size": self.ffn_dim,
            "vocab_size": self.vocab_size,
            "rms_norm_eps": self.norm_eps,
            "rope_theta": self.rope_theta,
            "rope_scaling": self.rope_scaling,
            "tie_word_embeddings": self.tie_embeddings,
            "max_position_embeddings": self.max_position_embeddings,
            "bos_token_id": self.bos_id,
            "eos_token_id": self.eos_id,
            "hidden_act": "silu",
            "attention_bias": False,
            "mlp_bias": False,
            "attention_dropout": 0.0,
            "initializer_range": 0.02,
            "pretraining_tp": 1,
            "use_cache": True,
            "torch_dtype": torch_dtype,
        }

    @classmethod
    def from_hf_config(cls, hf, where="config.json"):
        if hf.get("model_type") not in (None, "llama"):
            raise ConfigError(f"{where}: model_type {hf.get('model_type')!r} is not llama")
        try:
            n_heads = int(hf["num_attention_heads"])
            dim = int(hf["hidden_size"])
            if "head_dim" in hf and hf["head_dim"] is not None and int(hf["head_dim"]) != dim // n_heads:
                raise ConfigError(f"{where}: head_dim {hf['head_dim']} != hidden_size/num_attention_heads")
            if hf.get("attention_bias") or hf.get("mlp_bias"):
                raise ConfigError(f"{where}: attention/mlp biases are not supported")
            eos = hf.get("eos_token_id", 128001)
            return cls(
                dim=dim, n_layers=int(hf["num_hidden_layers"]), n_heads=n_heads,
                n_kv_heads=int(hf.get("num_key_value_heads") or n_heads), ffn_dim=int(hf["intermediate_size"]),
                vocab_size=int(hf["vocab_size"]), norm_eps=float(hf.get("rms_norm_eps", 1e-5)),
                rope_theta=float(hf.get("rope_theta", 10000.0)), rope_scaling=hf.get("rope_scaling"),
                tie_embeddings=bool(hf.get("tie_word_embeddings", False)),
                max_position_embeddings=int(hf.get("max_position_embeddings", 8192)),
                bos_id=int(hf.get("bos_token_id", 128000)), eos_id=int(eos[0] if isinstance(eos, list) else eos),
            ).validate()
        except KeyError as e:
            raise ConfigError(f"{where}: missing field {e.args[0]!r}") from None


# Shapes from the HF config.json files of meta-llama/Llama-3.2-1B, Llama-3.2-3B and Llama-3.1-8B
# (trainer-anchors.md section 5).
PRESETS = {
    "llama3.2-1b": ModelConfig(dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, ffn_dim=8192,
                               rope_scaling=dict(LLAMA3_ROPE_SCALING_32), tie_embeddings=True),
    "llama3.2-3b": ModelConfig(dim=3072, n_layers=28, n_heads=24, n_kv_heads=8, ffn_dim=8192,
                               rope_scaling=dict(LLAMA3_ROPE_SCALING_32), tie_embeddings=True),
    "llama3.1-8b": ModelConfig(dim=4096, n_layers=32, n_heads=32, n_kv_heads=8, ffn_dim=14336,
                               rope_scaling=dict(LLAMA3_ROPE_SCALING_8), tie_embeddings=False),
    # For CPU tests: every architectural feature (GQA, tied embeddings, llama3 scaling) at toy size.
    "tiny": ModelConfig(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=192, vocab_size=512,
                        rope_scaling=dict(LLAMA3_ROPE_SCALING_32, original_max_position_embeddings=64),
                        tie_embeddings=True, max_position_embeddings=2048, bos_id=1, eos_id=2),
}
PRESET_ALIASES = {"1b": "llama3.2-1b", "3b": "llama3.2-3b", "8b": "llama3.1-8b"}
# OctoThinker's Stable-stage learning rates (recipe.md section 4).
STABLE_LR = {"llama3.2-1b": 5e-5, "llama3.2-3b": 2e-5, "llama3.1-8b": 1e-5, "tiny": 1e-3}


def preset(name, **overrides):
    key = PRESET_ALIASES.get(name.lower(), name.lower())
    if key not in PRESETS:
        raise ConfigError(f"unknown model preset {name!r}; choose one of {', '.join(sorted(PRESETS))} (or 1b, 3b, 8b)")
    cfg = dataclasses.replace(PRESETS[key], **overrides)
    if cfg.rope_scaling is not None:
        cfg.rope_scaling = dict(cfg.rope_scaling)
    return cfg.validate()


@dataclass
class DataSource:
    prefix: str            # Megatron path without .bin/.idx (absolute, or relative to the config file)
    weight: float
    name: str = ""


@dataclass
class TrainConfig:
    run_dir: str
    sources: List[DataSource]
    model: str = "tiny"                       # preset name; ignored when init_hf is given (its config.json wins)
    model_overrides: dict = field(default_factory=dict)
    init_hf: Optional[str] = None             # HF folder (config.json + *.safetensors) for the initial weights
    init_checkpoint: Optional[str] = None     # a Stable checkpoint to branch a Decay run from (weights + optimizer)
    phase: str = "stable"                     # stable: constant LR; decay: fresh cosine to final_lr_factor
    lr: Optional[float] = None                # default: the preset's Stable LR
    final_lr_factor: float = 0.1
    warmup_steps: int = 0
    train_steps: Optional[int] = None
    train_tokens: Optional[int] = None        # alternative to train_steps: steps = round(tokens / tokens per step)
    seq_len: int = 8192
    global_batch_size: int = 512              # sequences per optimizer step, whatever the GPU count
    micro_batch_size: int = 1                 # sequences per forward pass per rank
    seed: int = 1234
    data_seed: Optional[int] = None           # default: seed
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    adam_eps: float = 1e-8
    weight_decay: float = 0.1
    # Which parameters skip weight decay: "none" (all decayed: torchtitan and nanotron, the framework OctoThinker used)
    # or "norms" (1-D parameters skip it: Megatron's default).
    weight_decay_exclude: str = "none"
    grad_clip: float = 1.0
    precision: str = "auto"                   # auto (bf16 on GPU, fp32 on CPU) | bf16 | fp32
    # auto: FSDP for >1 GPU (FSDP2 on torch >= 2.4, FSDP1 on 2.0-2.3), DDP on CPU, none for one process, FSDP2 on one
    # GPU with cpu_offload. fsdp picks FSDP2 or FSDP1 the same way; fsdp1/fsdp2 force one (parallel.py).
    parallel: str = "auto"
    # FSDP2 ranks one parameter is sharded over; the rest replicate it (HSDP, a 2-D device mesh). 0 = automatic: the
    # ranks of one node (LOCAL_WORLD_SIZE) when the job spans several whole nodes, else all ranks (fsdp2.mesh_shape).
    fsdp_shard_size: int = 0
    # FSDP2: keep fp32 parameters, gradients and AdamW state in host memory and step AdamW on the CPU; the GPU holds
    # only the bf16 layers being computed and the activations. How an 8B model trains on one 80 GB GPU (`megamath
    # train` turns it on when its memory estimate says nothing else fits). Needs ~16 bytes/parameter of host RAM.
    cpu_offload: bool = False
    # FSDP2: skip the gradient reduce-scatter on all but a step's last micro-batch (each rank then accumulates full
    # unsharded fp32 gradients: 4 bytes/parameter). DDP always skips its all-reduce there (no_sync), and HSDP its
    # all-reduce across nodes; this one costs memory, so `megamath train` turns it on only where its estimate fits.
    defer_grad_reduce: bool = False
    # FSDP2 sharded checkpoints (torch >= 2.3) written in the background while training goes on (saver.py). Costs a
    # host-memory copy of this rank's shards (with cpu_offload, of the whole offloaded state).
    async_checkpoint: bool = False
    compile: str = "auto"                     # auto (on with CUDA + torch>=2.2) | on | off
    attention: str = "auto"                   # auto | flex | sdpa | math
    doc_masking: bool = True                  # block-causal attention + per-document RoPE positions
    # Recompute every k-th decoder layer in backward (1 = all, 0 = none; true/false mean 1/0). `megamath train`
    # picks k from its memory estimate (lib/train/memory.ts) unless told.
    activation_checkpointing: int = 0
    # Cross-entropy in chunks of this many tokens, each recomputed in backward: only one chunk's fp32 logits exist
    # at a time (2048 x 128256 x 4 B = 1 GiB; a whole 8192-token sequence would keep 4 GiB plus its log-softmax).
    loss_chunk_tokens: int = 2048
    log_every: int = 10
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    export_hf: bool = True                    # write hf/ (safetensors + config.json) at the end of the run
    hf_base: Optional[str] = None             # copy tokenizer/generation files from here into the export
    device: str = "auto"                      # auto | cpu | cuda
    # How long a rank waits in a collective (and at start-up for the others) before the run fails. torch's NCCL
    # default is 10 minutes (since 2.2), less than rank 0 may need to write an 8B checkpoint (about 96 GB of
    # weights and AdamW moments) while the other ranks wait at the barrier after it.
    dist_timeout_s: int = 3600
    mixture: Optional[dict] = None            # the mixture.json this run was built from, kept for the record

    def resolved_model(self):
        if self.init_hf:
            from .hf_io import read_hf_config
            return read_hf_config(self.init_hf)
        return preset(self.model, **self.model_overrides)

    def tokens_per_step(self):
        return self.global_batch_size * self.seq_len

    def total_steps(self):
        if self.train_steps is not None:
            return int(self.train_steps)
        # Nearest whole step, as recipe.md section 8 counts them (200B -> 47,684 steps, 20B -> 4,768).
        return int(round(int(self.train_tokens) / self.tokens_per_step()))

    def peak_lr(self):
        if self.lr is not None:
            return float(self.lr)
        key = PRESET_ALIASES.get(self.model.lower(), self.model.lower())
        if key not in STABLE_LR:
            raise ConfigError("lr is required when the model is not one of the presets")
        return STABLE_LR[key]

    def validate(self, world_size=1):
        if self.phase not in ("stable", "decay"):
            raise ConfigError(f"phase must be 'stable' or 'decay', got {self.phase!r}")
        if not self.sources:
            raise ConfigError("sources: at least one data source is required")
        for i, s in enumerate(self.sources):
            if not (s.weight > 0 and math.isfinite(s.weight)):
                raise ConfigError(f"sources[{i}] ({s.prefix}): weight must be > 0, got {s.weight}")
        if (self.train_steps is None) == (self.train_tokens is None):
            raise ConfigError("give exactly one of train_steps and train_tokens")
        if self.total_steps() < 1:
            raise ConfigError(f"the budget is {self.total_steps()} steps at {self.tokens_per_step()} tokens per step")
        per_pass = self.micro_batch_size * world_size
        if self.global_batch_size % per_pass:
            raise ConfigError(f"global_batch_size {self.global_batch_size} is not a multiple of micro_batch_size "
                              f"{self.micro_batch_size} x {world_size} ranks")
        for name, allowed in (("precision", ("auto", "bf16", "fp32")), ("parallel", ("auto", "fsdp", "fsdp1", "fsdp2", "ddp", "none")),
                              ("compile", ("auto", "on", "off")), ("attention", ("auto", "flex", "sdpa", "math")),
                              ("weight_decay_exclude", ("none", "norms")), ("device", ("auto", "cpu", "cuda"))):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if self.phase == "decay" and not (0 <= self.final_lr_factor <= 1):
            raise ConfigError("final_lr_factor must be within [0, 1]")
        for name in ("log_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (isinstance(self.dist_timeout_s, int) and self.dist_timeout_s >= 1):
            raise ConfigError(f"dist_timeout_s must be a whole number of seconds >= 1, got {self.dist_timeout_s!r}")
        ac = self.activation_checkpointing
        if isinstance(ac, bool) or not isinstance(ac, int) or ac < 0:
            if isinstance(ac, bool):
                self.activation_checkpointing = int(ac)
            else:
                raise ConfigError(f"activation_checkpointing must be a whole number >= 0 (recompute every k-th "
                                  f"layer; 0 = none) or true/false, got {ac!r}")
        if not (isinstance(self.fsdp_shard_size, int) and not isinstance(self.fsdp_shard_size, bool)
                and self.fsdp_shard_size >= 0):
            raise ConfigError(f"fsdp_shard_size must be a whole number >= 0 (0 = automatic), got {self.fsdp_shard_size!r}")
        if self.fsdp_shard_size and world_size % self.fsdp_shard_size:
            raise ConfigError(f"fsdp_shard_size {self.fsdp_shard_size} does not divide the {world_size} ranks")
        for name in ("cpu_offload", "defer_grad_reduce", "async_checkpoint"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not (isinstance(self.loss_chunk_tokens, int) and self.loss_chunk_tokens >= 1):
            raise ConfigError(f"loss_chunk_tokens must be a whole number >= 1, got {self.loss_chunk_tokens!r}")
        if self.warmup_steps < 0 or self.seq_len < 1 or self.micro_batch_size < 1:
            raise ConfigError("warmup_steps, seq_len and micro_batch_size must be positive")
        return self

    def grad_accum_steps(self, world_size):
        return self.global_batch_size // (self.micro_batch_size * world_size)

    def to_dict(self):
        return dataclasses.asdict(self)


def load_train_config(path):
    """Read a run config JSON; relative source prefixes are resolved against the config file's folder."""
    import os
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read run config {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"run config {path} is not valid JSON: {e}") from None
    return train_config_from_dict(raw, base_dir=os.path.dirname(os.path.abspath(path)), where=path)


def train_config_from_dict(raw, base_dir=".", where="run config"):
    import os
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    raw = dict(raw)
    sources = []
    for i, s in enumerate(raw.get("sources") or []):
        if not isinstance(s, dict) or "prefix" not in s or "weight" not in s:
            raise ConfigError(f"{where}: sources[{i}] must be an object with 'prefix' and 'weight'")
        extra = set(s) - {"prefix", "weight", "name"}
        if extra:
            raise ConfigError(f"{where}: sources[{i}] has unknown field(s) {', '.join(sorted(extra))}")
        prefix = s["prefix"] if os.path.isabs(s["prefix"]) else os.path.join(base_dir, s["prefix"])
        sources.append(DataSource(prefix=prefix, weight=float(s["weight"]), name=s.get("name", "")))
    raw["sources"] = sources
    if "run_dir" not in raw:
        raise ConfigError(f"{where}: run_dir is required")
    try:
        return TrainConfig(**raw)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None
