"""Sharded checkpoints through torch.distributed.checkpoint (DCP, torch >= 2.2): each rank writes and reads only its
own shards of the weights and AdamW moments, so no rank ever holds the whole state (an 8B model's full state is
~96 GB). Written by the FSDP modes into `dcp/` of a checkpoint folder; the 1-process and DDP modes keep writing the
full model.pt/optim.pt (every rank already holds the whole state there, and torch 1.13 and other tools read them).

Both forms load into every mode: torch's get_state_dict/set_state_dict name tensors by their plain parameter names
(no FSDP1 `_fsdp_wrapped_module`, no DDP `module.` prefix, no FSDP2 difference at all) and DCP re-shards on load, so
a checkpoint from 1 process, DDP, FSDP1 or FSDP2, on any number of ranks, starts or resumes any of them.

Before anything is loaded, the tensor names and shapes recorded in DCP's metadata are compared with the model's
(compatibility.check_model_shapes), as model.pt's are, so a wrong checkpoint is a ConfigError naming the tensors.
"""
import os

from . import compat
from .compatibility import check_model_shapes
from .config import ConfigError

DIR = "dcp"


def available():
    if compat.torch_version() < (2, 2):
        return False
    try:
        import torch.distributed.checkpoint  # noqa: F401
        from torch.distributed.checkpoint.state_dict import get_state_dict  # noqa: F401
    except ImportError:
        return False
    return True


def is_sharded(path):
    return os.path.isfile(os.path.join(path, DIR, ".metadata"))


def _api():
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint import state_dict as sd
    return dcp, sd


def state_dicts(wrapped, optimizer, full=False):
    """(model, optimizer) state dicts by plain parameter name: sharded (DTensor / ShardedTensor) in the FSDP modes,
    or full and on the CPU when full=True (what an HF export or a model.pt needs; gathers, so use sparingly)."""
    _, sd = _api()
    opts = sd.StateDictOptions(full_state_dict=full, cpu_offload=full)
    return sd.get_state_dict(wrapped, optimizer, options=opts)


def model_state_full(wrapped):
    """The full model state on the CPU (every rank takes part; all get it): for the HF export only, the optimizer
    state is never gathered."""
    _, sd = _api()
    return sd.get_model_state_dict(wrapped, options=sd.StateDictOptions(full_state_dict=True, cpu_offload=True))


def save(wrapped, optimizer, folder, process_group=None):
    """Every rank writes its shards into folder/dcp (the caller's temp checkpoint folder; publishing renames it)."""
    dcp, _ = _api()
    model_sd, optim_sd = state_dicts(wrapped, optimizer)
    dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=os.path.join(folder, DIR),
             process_group=process_group)


def async_available():
    """dcp.async_save: torch >= 2.3."""
    if not available() or compat.torch_version() < (2, 3):
        return False
    dcp, _ = _api()
    return hasattr(dcp, "async_save")


def _private_cpu_copies(obj):
    """Clones of the tensors already on the CPU. async_save stages a state dict by moving it to the CPU, which for a
    CPU tensor (CPU runs; GPU runs with CPU offload) is the live parameter or moment itself: the next optimizer step
    would change what the writer thread is still writing (torch 2.6). DTensors clone shard by shard."""
    import torch
    if isinstance(obj, dict):
        return {k: _private_cpu_copies(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_private_cpu_copies(v) for v in obj]
    if isinstance(obj, torch.Tensor) and obj.device.type == "cpu":
        return obj.detach().clone()
    return obj


def save_async(wrapped, optimizer, folder, process_group):
    """Like save, but returns once this rank's shards are copied to host memory; the returned future completes
    when they are written (process_group: a gloo group of all ranks, used by the writer thread only). FSDP2 only
    (its DTensor shards clone; FSDP1's ShardedTensors are not handled)."""
    dcp, _ = _api()
    model_sd, optim_sd = state_dicts(wrapped, optimizer)
    state = _private_cpu_copies({"model": model_sd, "optim": optim_sd})
    return dcp.async_save(state, checkpoint_id=os.path.join(folder, DIR), process_group=process_group)


def recorded_shapes(path):
    """{parameter name: shape} of the model tensors a sharded checkpoint holds, and the set of parameter names it
    holds AdamW state for, from its metadata alone."""
    dcp, _ = _api()
    meta = dcp.FileSystemReader(os.path.join(path, DIR)).read_metadata().state_dict_metadata
    shapes, optim = {}, set()
    for key, m in meta.items():
        if key.startswith("model.") and hasattr(m, "size"):
            shapes[key[len("model."):]] = tuple(m.size)
        elif key.startswith("optim.state.") and key.endswith(".exp_avg"):
            optim.add(key[len("optim.state."):-len(".exp_avg")])
    return shapes, optim


def check(path, expected_shapes, tied, optim_names, where):
    if not available():
        import torch
        raise ConfigError(f"{where}: a sharded (torch.distributed.checkpoint) checkpoint needs torch >= 2.2 to load; "
                          f"this is torch {torch.__version__}")
    shapes, optim = recorded_shapes(path)
    check_model_shapes(shapes, expected_shapes, tied, where, "dcp/")
    want = set(optim_names)
    if optim != want:
        missing, extra = sorted(want - optim), sorted(optim - want)
        raise ConfigError(f"{where}: dcp/ holds AdamW state for other parameters than this run's "
                          f"(missing {missing[:4]}, unexpected {extra[:4]})")


def load(wrapped, optimizer, path):
    """Fill this rank's part of the model and optimizer from a sharded checkpoint (any mode, any rank count).
    Returns the optimizer state as loaded (its param_groups carry the checkpoint's hyper-parameters)."""
    dcp, sd = _api()
    model_sd, optim_sd = state_dicts(wrapped, optimizer)   # also creates AdamW's (zero) state to load into
    state = {"model": model_sd, "optim": optim_sd}
    dcp.load(state, checkpoint_id=os.path.join(path, DIR))
    sd.set_state_dict(wrapped, optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"])
    return state["optim"]


def load_full(wrapped, optimizer, model_state, optim_state):
    """Load full, name-keyed state dicts (every rank passes the same ones) into a sharded model: each rank keeps its
    shard. optim_state may be None (model only)."""
    _, sd = _api()
    opts = sd.StateDictOptions(full_state_dict=True)
    if optim_state is None:
        sd.set_model_state_dict(wrapped, model_state, options=opts)
    else:
        sd.set_state_dict(wrapped, optimizer, model_state_dict=model_state, optim_state_dict=optim_state,
                          options=opts)
