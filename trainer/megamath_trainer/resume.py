"""Reading a checkpoint back: its state.json, the LR its run ended at, and its tensors loaded into this run's model and
optimizer in whatever mode this run uses: a full checkpoint (model.pt + optim.pt: 1 process, DDP, or FSDP before
torch 2.2) or a sharded one (dcp/: FSDP1/FSDP2 on torch >= 2.2), into 1 process, DDP, FSDP1 or FSDP2 on any number
of ranks. Every check that can refuse a checkpoint runs identically on every rank before any tensor is loaded."""
from . import checkpoint as ckpt
from . import sharded_io
from .config import ConfigError
from .parallel import load_full_state
from .schedule import PhaseSchedule


def read_state_checked(path, what):
    try:
        return ckpt.read_state(path)
    except OSError as e:
        raise ConfigError(f"{what} {path}: not a trainer checkpoint ({e.strerror}: {e.filename})") from None
    except ValueError as e:
        raise ConfigError(f"{what} {path}: state.json is not valid JSON ({e})") from None


def last_update_lr(state):
    """The LR of the last update a checkpoint's run applied (None when unknown): where a Decay branch starts."""
    if state.get("last_lr") is not None:
        return float(state["last_lr"])
    sched, step = state.get("schedule"), state.get("step")
    if not sched or not step:
        return None
    return PhaseSchedule(sched["phase"], sched["peak"], sched["steps"], sched["final_factor"],
                         sched["warmup"]).lr_at(int(step) - 1)


def hyperparameter_changes(optim_state, cfg):
    """'name old -> new' for AdamW settings in a checkpoint's optimizer state that differ from this run's."""
    out = set()
    for i, g in enumerate(optim_state.get("param_groups", [])):
        want = {"betas": [cfg.adam_beta1, cfg.adam_beta2], "eps": cfg.adam_eps,
                "weight_decay": cfg.weight_decay if i == 0 else 0.0}   # group order: optim.param_groups()
        for k, v in want.items():
            have = list(g[k]) if k == "betas" and k in g else g.get(k, v)
            if have != v:
                out.add(f"{k} {have} -> {v}")
    return sorted(out)


def load_checkpoint(run, path):
    """Load the checkpoint at `path` into run.wrapped / run.optimizer; returns the optimizer state it held."""
    if sharded_io.is_sharded(path):
        names = [n for g in run.group_names for n in g]
        sharded_io.check(path, run.expected_shapes, run.model_cfg.tie_embeddings, names, path)
        return sharded_io.load(run.wrapped, run.optimizer, path)
    model_state, optim_state = ckpt.load_torch(path, "model.pt"), ckpt.load_torch(path, "optim.pt")
    load_full_state(run.wrapped, run.model, run.optimizer, run.parallel, model_state, optim_state,
                    run.expected_shapes, path, run.group_names)
    return optim_state
