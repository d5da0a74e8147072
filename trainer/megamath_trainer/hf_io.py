"""Hugging Face checkpoint folders: config.json + model.safetensors (or sharded with model.safetensors.index.json).

Our module names and RoPE layout are HF's (model.py), so import and export are a straight copy of tensors: vLLM and
transformers load the export as is. Tied models (Llama-3.2-1B/3B) have no lm_head.weight in the file.
Meta's original checkpoints (consolidated.*.pth) use the interleaved RoPE layout instead; converting those needs
permute_for_rotate_half on wq/wk (the permutation HF's own converter applies).
"""
import json
import os
import shutil

import torch

from .config import ConfigError, ModelConfig
from .safetensors_io import load_file, read_header, save_file

COPY_FROM_BASE = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                  "generation_config.json")
MAX_SHARD_BYTES = 5 * 1024 ** 3


def read_hf_config(folder):
    path = os.path.join(folder, "config.json")
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None
    return ModelConfig.from_hf_config(raw, where=path)


def _weight_files(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.isfile(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        return sorted({os.path.join(folder, v) for v in weight_map.values()})
    single = os.path.join(folder, "model.safetensors")
    if os.path.isfile(single):
        return [single]
    raise ConfigError(f"{folder}: no model.safetensors or model.safetensors.index.json")


def load_hf_state_dict(folder):
    out = {}
    for path in _weight_files(folder):
        out.update(load_file(path))
    return out


def load_hf_into_model(model, folder):
    """Copy an HF checkpoint's tensors into `model` (casting to the model's dtype); any missing, unexpected or
    mis-shaped tensor is an error naming it."""
    sd = load_hf_state_dict(folder)
    sd.pop("model.rotary_emb.inv_freq", None)
    for k in [k for k in sd if k.endswith("rotary_emb.inv_freq")]:
        sd.pop(k)
    own = model.state_dict()
    if model.cfg.tie_embeddings:
        own.pop("lm_head.weight", None)
        if "lm_head.weight" in sd:
            if not torch.equal(sd["lm_head.weight"], sd["model.embed_tokens.weight"]):
                raise ConfigError(f"{folder}: config says tie_word_embeddings but lm_head differs from embed_tokens")
            sd.pop("lm_head.weight")
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    if missing or unexpected:
        raise ConfigError(f"{folder}: checkpoint does not match the model: missing {missing[:5]}"
                          f"{'...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}")
    with torch.no_grad():
        for name, t in sd.items():
            if own[name].shape != t.shape:
                raise ConfigError(f"{folder}: {name} has shape {tuple(t.shape)}, model expects {tuple(own[name].shape)}")
            own[name].copy_(t.to(own[name].dtype))


def export_hf(state_dict, cfg, out_dir, dtype=torch.bfloat16, base_dir=None, max_shard_bytes=MAX_SHARD_BYTES):
    """Write an HF folder from a full (unsharded) state dict: weights in `dtype`, config.json, generation config and
    tokenizer files copied from base_dir when given. Written into a temp folder and renamed, so a crash mid-export
    never leaves a half folder under the final name."""
    tmp = out_dir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    tensors = {k: v.detach().to("cpu", dtype) for k, v in state_dict.items()
               if not (cfg.tie_embeddings and k == "lm_head.weight")}
    shards, current, size = [], {}, 0
    for name in sorted(tensors):
        nbytes = tensors[name].numel() * tensors[name].element_size()
        if current and size + nbytes > max_shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[name] = tensors[name]
        size += nbytes
    shards.append(current)
    if len(shards) == 1:
        save_file(shards[0], os.path.join(tmp, "model.safetensors"), {"format": "pt"})
    else:
        weight_map, total = {}, 0
        for i, shard in enumerate(shards):
            fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
            save_file(shard, os.path.join(tmp, fname), {"format": "pt"})
            for k, t in shard.items():
                weight_map[k] = fname
                total += t.numel() * t.element_size()
        with open(os.path.join(tmp, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    dtype_name = {torch.bfloat16: "bfloat16", torch.float16: "float16", torch.float32: "float32"}[dtype]
    hf_config = cfg.to_hf_config(torch_dtype=dtype_name)
    if base_dir and os.path.isfile(os.path.join(base_dir, "config.json")):
        # Keep the base model's config (transformers version, extra fields) but never a stale shape or dtype.
        with open(os.path.join(base_dir, "config.json")) as f:
            base = json.load(f)
        base.update({k: v for k, v in hf_config.items() if k not in ("architectures",)})
        hf_config = base
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(hf_config, f, indent=2)
    if base_dir:
        for name in COPY_FROM_BASE:
            if os.path.isfile(os.path.join(base_dir, name)):
                shutil.copyfile(os.path.join(base_dir, name), os.path.join(tmp, name))
    if not os.path.isfile(os.path.join(tmp, "generation_config.json")):
        with open(os.path.join(tmp, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": cfg.bos_id, "eos_token_id": cfg.eos_id, "do_sample": False}, f, indent=2)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return out_dir


def permute_for_rotate_half(w, n_heads):
    """Meta/interleaved q or k weight (n_heads*head_dim, in) -> HF rotate-half layout. Within each head, rows come as
    pairs (2i, 2i+1) rotated together; HF wants row i paired with row i + head_dim/2."""
    rows, cols = w.shape
    return w.view(n_heads, rows // n_heads // 2, 2, cols).transpose(1, 2).reshape(rows, cols)


def permute_to_interleaved(w, n_heads):
    """Inverse of permute_for_rotate_half (HF -> Meta layout)."""
    rows, cols = w.shape
    return w.view(n_heads, 2, rows // n_heads // 2, cols).transpose(1, 2).reshape(rows, cols)


def header_names(path):
    header, _ = read_header(path)
    return sorted(k for k in header if k != "__metadata__")
