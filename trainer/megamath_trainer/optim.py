"""AdamW with the recipe's hyper-parameters made explicit (they are recorded in the run's config dump)."""
import torch

from . import compat


def param_group_names(model, exclude):
    """The parameter names of each group param_groups() makes, in the same order (how a position-keyed optimizer
    state maps to names)."""
    seen, decay, no_decay = set(), [], []
    for name, p in model.named_parameters():
        if id(p) in seen or not p.requires_grad:
            continue
        seen.add(id(p))
        (no_decay if exclude == "norms" and p.ndim < 2 else decay).append(name)
    return [decay, no_decay] if no_decay else [decay]


def param_groups(model, weight_decay, exclude):
    """exclude 'none': decay every parameter (torchtitan, nanotron); 'norms': 1-D parameters skip it (Megatron).
    Tied embeddings are one parameter, so they get one decision and one optimizer state."""
    seen, decay, no_decay = set(), [], []
    for _, p in model.named_parameters():
        if id(p) in seen or not p.requires_grad:
            continue
        seen.add(id(p))
        (no_decay if exclude == "norms" and p.ndim < 2 else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def build_adamw(model, cfg, device, lr):
    """(optimizer, impl): the implementation is chosen here explicitly, so what config.json records is what runs
    (left to itself, torch picks foreach only for CUDA tensors and the for-loop one on CPU)."""
    kwargs = dict(lr=lr, betas=(cfg.adam_beta1, cfg.adam_beta2), eps=cfg.adam_eps)
    if device.type == "cuda" and compat.has_fused_adamw():
        kwargs["fused"] = True
        impl = "fused"
    elif device.type == "cuda":
        kwargs["foreach"] = True
        impl = "foreach"
    elif cfg.cpu_offload and compat.torch_version() >= (2, 4):
        # FSDP2 CPU offload: the whole model's AdamW step runs on the host every step; torch >= 2.4 has a fused CPU
        # kernel (the for-loop one would take minutes per step for 8B).
        kwargs["fused"] = True
        impl = "fused"
    else:
        kwargs["foreach"] = False
        impl = "for-loop"
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay, cfg.weight_decay_exclude), **kwargs)
    return opt, impl


def reset_hyperparameters(optimizer, cfg):
    """After loading a checkpoint's optimizer state (Decay branch), the state (moments, step counts) is kept but the
    hyper-parameters are this run's: load_state_dict would otherwise restore the old ones."""
    for i, g in enumerate(optimizer.param_groups):  # group 0 is decayed, group 1 (if any) is not: param_groups()
        g["betas"] = (cfg.adam_beta1, cfg.adam_beta2)
        g["eps"] = cfg.adam_eps
        g["weight_decay"] = cfg.weight_decay if i == 0 else 0.0
