"""Process group setup and model wrapping. Modes (what config.json records under backends.parallel):
  * fsdp2: FSDP2 `fully_shard` (fsdp2.py), torch >= 2.4: sharded params/grads/AdamW state, bf16 compute with fp32
    master weights, HSDP across nodes, optional CPU offload; sharded checkpoints (sharded_io.py);
  * fsdp1: FSDP1 `FullyShardedDataParallel`, torch 2.0-2.3 only (what `fsdp` means where FSDP2 is missing; may be
    asked for by name on newer torch); sharded checkpoints from torch 2.2, full ones gathered on rank 0 before;
  * ddp: replicated fp32 weights + autocast; * none: one process.
Launched by torchrun (or the `local` launcher), which sets RANK/WORLD_SIZE/LOCAL_RANK/LOCAL_WORLD_SIZE; a plain
`python -m megamath_trainer.train` is world size 1.
"""
import datetime
import functools
import os
import time

import torch
import torch.distributed as dist

from . import compat, fsdp2, sharded_io
from .compatibility import check_model_state, check_optim_layout
from .config import ConfigError


class RendezvousError(RuntimeError):
    """The ranks did not all meet at start-up within dist_timeout_s."""


def rendezvous_message(rank, world_size, timeout_s, waited_s, error):
    """A start-up failure: "did not join" only when it was a wait that ran out; any other error (a port in use, a
    torch built without libuv, a bad address) is reported as itself, first."""
    where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    timed_out = waited_s >= 0.9 * timeout_s or "timeout" in text.lower() or "timed out" in text.lower()
    if timed_out and waited_s >= 0.5 * timeout_s:
        return (f"rank {rank} of {world_size}: the other ranks did not join at {where} within {timeout_s} s "
                f"({text}); start every rank with the same WORLD_SIZE and rendezvous, or raise dist_timeout_s")
    return (f"rank {rank} of {world_size}: the process group could not start at {where} after {waited_s:.1f} s: "
            f"{type(error).__name__}: {text}")


class Dist:
    def __init__(self, device_pref="auto", timeout_s=3600):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(self.world_size)))
        self.timeout_s = timeout_s
        use_cuda = torch.cuda.is_available() and device_pref != "cpu"
        if device_pref == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' requested but torch sees no CUDA GPU")
        if use_cuda:
            torch.cuda.set_device(self.local_rank)
            self.device = torch.device("cuda", self.local_rank)
        else:
            self.device = torch.device("cpu")
        if self.world_size > 1:
            started = time.monotonic()
            try:
                dist.init_process_group(backend="nccl" if use_cuda else "gloo",
                                        timeout=datetime.timedelta(seconds=timeout_s))
            except (RuntimeError, ValueError) as e:   # torch says only "Socket Timeout" and the like
                raise RendezvousError(rendezvous_message(self.rank, self.world_size, timeout_s,
                                                         time.monotonic() - started, e)) from None

    def ensure_group(self):
        """FSDP2 needs a process group even on one rank (1-GPU CPU offload): a 1-rank group on an in-memory store."""
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if self.device.type == "cuda" else "gloo", store=dist.HashStore(),
                                    rank=0, world_size=1, timeout=datetime.timedelta(seconds=self.timeout_s))

    @property
    def main(self):
        return self.rank == 0

    def barrier(self):
        if self.world_size > 1:
            dist.barrier()

    def all_reduce_mean(self, value):
        if self.world_size == 1:
            return float(value)
        t = torch.tensor([float(value)], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t.item()) / self.world_size

    def close(self):
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


FSDP_MODES = ("fsdp1", "fsdp2")


def choose_parallel(requested, d, cpu_offload=False):
    """The mode to run. 'fsdp' is FSDP2 where torch has it (>= 2.4), else FSDP1 (torch 2.0-2.3). FSDP on CPU (gloo)
    is used only when asked for: it is how the sharded paths are tested without a GPU."""
    fsdp2_ok = fsdp2.api() is not None
    fsdp1_ok = compat.has_fsdp() and compat.torch_version() >= (2, 0)
    best = "fsdp2" if fsdp2_ok else "fsdp1" if fsdp1_ok else None
    if cpu_offload and not fsdp2_ok:
        raise ConfigError(f"cpu_offload needs FSDP2 (torch >= 2.4); this is torch {torch.__version__}")
    if requested == "auto":
        if cpu_offload:
            requested = "fsdp"
        elif d.world_size == 1:
            return "none"
        else:
            return best if d.device.type == "cuda" and best else "ddp"
    if requested == "fsdp":
        if best is None:
            raise ConfigError(f"parallel 'fsdp' needs torch >= 2.0 (FSDP1) or >= 2.4 (FSDP2); this is torch "
                              f"{torch.__version__}")
        requested = best
    if requested == "fsdp2" and not fsdp2_ok:
        raise ConfigError(f"parallel 'fsdp2' (fully_shard) needs torch >= 2.4; this is torch {torch.__version__}")
    if requested == "fsdp1" and not fsdp1_ok:
        raise ConfigError(f"parallel 'fsdp1' needs torch >= 2.0; this is torch {torch.__version__}")
    if cpu_offload and requested != "fsdp2":
        raise ConfigError(f"cpu_offload needs FSDP2 (parallel auto/fsdp/fsdp2, torch >= 2.4); the mode is "
                          f"{requested!r} under torch {torch.__version__}")
    return requested


def wrap(model, mode, d, bf16, shard_size=0, cpu_offload=False):
    """Returns the module to train; `model` stays the unwrapped one for state dicts in 'none'/'ddp' modes (FSDP2
    shards `model` itself and returns it)."""
    if mode == "none":
        return model
    if mode == "ddp":
        from torch.nn.parallel import DistributedDataParallel as DDP
        return DDP(model, device_ids=[d.local_rank] if d.device.type == "cuda" else None)
    if mode == "fsdp2":
        d.ensure_group()
        fsdp2.shard(model, d.device, bf16, shard_size, d.local_world_size, cpu_offload)
        return model
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, MixedPrecision, ShardingStrategy
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
    from .model import DecoderLayer
    mp = MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, buffer_dtype=torch.bfloat16) if bf16 else None
    policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={DecoderLayer})
    return FSDP(model, auto_wrap_policy=policy, mixed_precision=mp, sharding_strategy=ShardingStrategy.FULL_SHARD,
                device_id=d.device, use_orig_params=True, limit_all_gathers=True)


def sharded_checkpoints(mode):
    """Whether this mode writes torch.distributed.checkpoint shards (no gathering) instead of model.pt/optim.pt."""
    return mode in FSDP_MODES and sharded_io.available()


def _offload(wrapped):
    # FULL_STATE_DICT with offload_to_cpu=True crashes (SIGSEGV in a clone, torch 2.6) when the parameters already
    # live on the CPU; there it is also pointless.
    return next(wrapped.parameters()).device.type != "cpu"


def full_state_dicts(wrapped, model, optimizer, mode):
    """(model_state, optim_state), full and on CPU, valid on rank 0 (FSDP1 gathers them there: only torch < 2.2,
    which has no sharded checkpoints)."""
    if mode not in FSDP_MODES:
        return ({k: v.detach().cpu() for k, v in model.state_dict().items()}, optimizer.state_dict())
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, StateDictType
    from torch.distributed.fsdp import FullStateDictConfig, FullOptimStateDictConfig
    off = _offload(wrapped)
    with FSDP.state_dict_type(wrapped, StateDictType.FULL_STATE_DICT,
                              FullStateDictConfig(offload_to_cpu=off, rank0_only=True),
                              FullOptimStateDictConfig(offload_to_cpu=off, rank0_only=True)):
        return wrapped.state_dict(), FSDP.optim_state_dict(wrapped, optimizer)


def optim_state_by_name(optim_state, group_names):
    """A position-keyed optimizer state dict (torch's own) re-keyed by parameter name, the form FSDP's full optimizer
    state dicts use. group_names: the names of each AdamW group's parameters in order (optim.param_group_names)."""
    names = [n for g in group_names for n in g]
    state = {names[i]: v for i, v in optim_state["state"].items()}
    groups = [dict(g, params=[names[i] for i in g["params"]]) for g in optim_state["param_groups"]]
    return {"state": state, "param_groups": groups}


def load_full_state(wrapped, model, optimizer, mode, model_state, optim_state, expected_shapes, where,
                    group_names=None):
    """Load full state dicts (every rank passes the same ones) into the wrapped model and its optimizer.

    `expected_shapes` ({name: shape} of the unwrapped model, taken before wrapping) makes the load exact in every
    mode: a missing, unexpected or mis-shaped tensor, or an optimizer of another group layout, is a ConfigError
    naming it, raised identically on every rank (so no rank is left waiting in a collective)."""
    check_model_state(model_state, expected_shapes, model.cfg.tie_embeddings, where)
    if optim_state is not None:
        check_optim_layout(optim_state, [len(g["params"]) for g in optimizer.param_groups], where)
    if model.cfg.tie_embeddings and "lm_head.weight" not in model_state:
        model_state = dict(model_state, **{"lm_head.weight": model_state["model.embed_tokens.weight"]})
    if mode not in FSDP_MODES:
        model.load_state_dict(model_state)
        if optim_state is not None:
            optimizer.load_state_dict(optim_state)
        return
    by_position = optim_state is not None and any(not isinstance(k, str) for k in optim_state.get("state", {}))
    if by_position:
        # torch's optimizer.state_dict() (one process, DDP) keys moments by position; FSDP's full optimizer state is
        # keyed by parameter name. Positions follow optim.param_groups(), so they map to names exactly.
        optim_state = optim_state_by_name(optim_state, group_names)
    if mode == "fsdp2":
        sharded_io.load_full(wrapped, optimizer, model_state, optim_state)
        return
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, StateDictType
    from torch.distributed.fsdp import FullStateDictConfig, FullOptimStateDictConfig
    off = _offload(wrapped)
    with FSDP.state_dict_type(wrapped, StateDictType.FULL_STATE_DICT,
                              FullStateDictConfig(offload_to_cpu=off, rank0_only=False),
                              FullOptimStateDictConfig(offload_to_cpu=off, rank0_only=False)):
        # strict=False only because, depending on the torch version, FSDP reports its own internal names
        # (_fsdp_wrapped_module..., _flat_param) as missing/unexpected; check_model_state above has already proven
        # the key set and shapes exact, so nothing can be silently skipped.
        wrapped.load_state_dict(model_state, strict=False)
        if optim_state is not None and by_position:
            # FSDP1's optim_state_dict_to_load cannot take names it did not write itself (KeyError on its wrapped
            # names, torch 2.6); the distributed-checkpoint API (torch >= 2.2) loads plain names into FSDP.
            from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict
            set_optimizer_state_dict(wrapped, optimizer, optim_state, options=StateDictOptions(full_state_dict=True))
        elif optim_state is not None:
            try:  # argument order changed between torch 2.0 and 2.1
                to_load = FSDP.optim_state_dict_to_load(wrapped, optimizer, optim_state)
            except (TypeError, AttributeError):
                to_load = FSDP.optim_state_dict_to_load(optim_state, wrapped, optimizer)
            optimizer.load_state_dict(to_load)


def clip_grad_norm(wrapped, mode, max_norm):
    if mode == "fsdp1":
        return float(wrapped.clip_grad_norm_(max_norm))
    # FSDP2: the gradients are DTensors; torch's clip reduces the norm over the mesh and returns a DTensor.
    params = [p for p in wrapped.parameters() if p.grad is not None]
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm > 0 else float("inf"))
    return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)
