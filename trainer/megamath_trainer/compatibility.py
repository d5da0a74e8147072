"""Does a checkpoint fit this run? Answered before the model is built or a tensor is loaded, with the differing
fields named, instead of a size-mismatch traceback from deep inside load_state_dict (or, worse, a silent partial
load: FSDP's load is non-strict, see parallel.load_full_state).

Two layers:
  * the run identity recorded in every checkpoint's state.json (model shape and function, weight-decay grouping):
    compared up front, from state.json alone;
  * the tensors themselves (model.pt key set and shapes, optim.pt parameter-group layout): compared just before
    loading. This also covers checkpoints written before the identity was recorded.
"""
from .config import ConfigError

# What makes two models the same function of their weights. bos/eos ids and max_position_embeddings are metadata
# for the export (they change no weight and no output), so they may differ between Stable and Decay.
MODEL_FIELDS = ("dim", "n_layers", "n_heads", "n_kv_heads", "ffn_dim", "vocab_size", "norm_eps", "rope_theta",
                "rope_scaling", "tie_embeddings")


def run_identity(model_cfg, cfg):
    """What a checkpoint must share with a run to be loaded into it (weights and AdamW moments)."""
    return {"model": {f: getattr(model_cfg, f) for f in MODEL_FIELDS},
            "weight_decay_exclude": cfg.weight_decay_exclude}


def identity_differences(recorded, expected):
    """'field: checkpoint X, this run Y' for every field that differs (fields the checkpoint lacks are skipped)."""
    out = []
    rec_model, exp_model = recorded.get("model") or {}, expected["model"]
    for f in MODEL_FIELDS:
        if f in rec_model and rec_model[f] != exp_model[f]:
            out.append(f"model.{f}: checkpoint {rec_model[f]!r}, this run {exp_model[f]!r}")
    if "weight_decay_exclude" in recorded and recorded["weight_decay_exclude"] != expected["weight_decay_exclude"]:
        out.append(f"weight_decay_exclude: checkpoint {recorded['weight_decay_exclude']!r}, this run "
                   f"{expected['weight_decay_exclude']!r} (the AdamW parameter groups differ)")
    return out


def check_identity(state, expected, where, how):
    """Raise ConfigError when the identity recorded in a checkpoint's state.json differs from this run's."""
    recorded = state.get("identity")
    if not recorded:
        return   # written before identities were recorded: the tensor checks below still apply
    diffs = identity_differences(recorded, expected)
    if diffs:
        raise ConfigError(f"{where}: this checkpoint cannot {how}: " + "; ".join(diffs))


def _listed(names, limit=6):
    names = sorted(names)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_model_state(model_state, expected_shapes, tied, where):
    """The checkpoint's tensors must be exactly the model's: same names, same shapes. `expected_shapes` is
    {name: shape} of the unwrapped model (taken before FSDP renames anything). With tied embeddings lm_head.weight
    is the embedding itself, so a state dict may or may not list it."""
    check_model_shapes({k: tuple(v.shape) for k, v in model_state.items()}, expected_shapes, tied, where, "model.pt")


def check_model_shapes(shapes, expected_shapes, tied, where, what):
    """check_model_state on {name: shape}, as model.pt holds them or a sharded checkpoint's metadata records them."""
    got = set(shapes)
    want = set(expected_shapes)
    if tied:
        got.discard("lm_head.weight")
        want.discard("lm_head.weight")
    problems = []
    missing, unexpected = want - got, got - want
    if missing:
        problems.append(f"missing {len(missing)} tensor(s): {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected {len(unexpected)} tensor(s): {_listed(unexpected)}")
    wrong = [f"{k} {tuple(shapes[k])} (model {tuple(expected_shapes[k])})"
             for k in sorted(want & got) if tuple(shapes[k]) != tuple(expected_shapes[k])]
    if wrong:
        problems.append(f"{len(wrong)} tensor(s) of another shape: {_listed(wrong, 3)}")
    if problems:
        raise ConfigError(f"{where}: {what} does not match this run's model: " + "; ".join(problems))


def check_optim_layout(optim_state, group_sizes, where):
    """optim.pt must have as many parameter groups as this run's AdamW, each with as many parameters, or the moments
    would land on the wrong parameters (torch only checks this with a bare ValueError)."""
    groups = optim_state.get("param_groups") if isinstance(optim_state, dict) else None
    if groups is None:
        raise ConfigError(f"{where}: optim.pt is not an optimizer state dict")
    got = [len(g["params"]) for g in groups]
    if got != list(group_sizes):
        raise ConfigError(f"{where}: optim.pt has parameter groups of {got} parameters, this run's AdamW has "
                          f"{list(group_sizes)} (a different model or weight_decay_exclude)")
