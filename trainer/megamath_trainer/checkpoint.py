"""Periodic training checkpoints, written atomically: everything goes into `checkpoints/.tmp-step-N/`, files are
fsynced, then the folder is renamed to `checkpoints/step-N/`. A killed run therefore leaves either a complete
checkpoint or a `.tmp-` folder that the next start deletes, never a half checkpoint under a real name.

Contents: model.pt (full state dict, HF names) and optim.pt (full optimizer state), or in the FSDP modes on torch
>= 2.2 dcp/ (each rank's shards of both, torch.distributed.checkpoint: sharded_io.py), then state.json (step, consumed samples,
phase, schedule, data signature) and rng-rank{R}.pt (torch/CUDA/numpy/python RNG of every rank).
"""
import json
import os
import random
import re
import shutil

import numpy as np
import torch

STEP_DIR = re.compile(r"^step-(\d+)$")


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save_torch(obj, path):
    with open(path, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())


def checkpoint_root(run_dir):
    return os.path.join(run_dir, "checkpoints")


def tmp_dir_for(run_dir, step):
    return os.path.join(checkpoint_root(run_dir), f".tmp-step-{step:08d}")


def final_dir_for(run_dir, step):
    return os.path.join(checkpoint_root(run_dir), f"step-{step:08d}")


def clean_partial(run_dir):
    """Remove `.tmp-` leftovers of a run killed while saving."""
    root = checkpoint_root(run_dir)
    if os.path.isdir(root):
        for name in os.listdir(root):
            if name.startswith(".tmp-"):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def list_checkpoints(run_dir):
    root = checkpoint_root(run_dir)
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        m = STEP_DIR.match(name)
        if m and os.path.isfile(os.path.join(root, name, "state.json")):
            found.append((int(m.group(1)), os.path.join(root, name)))
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir):
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def rng_state():
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state):
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def write_rank_files(tmp, rank):
    _save_torch(rng_state(), os.path.join(tmp, f"rng-rank{rank}.pt"))


def write_main_files(tmp, model_state, optim_state):
    """The full form (1 process, DDP, FSDP before torch 2.2); FSDP on torch >= 2.2 writes dcp/ (sharded_io.py)."""
    _save_torch(model_state, os.path.join(tmp, "model.pt"))
    _save_torch(optim_state, os.path.join(tmp, "optim.pt"))


def write_state(tmp, state):
    with open(os.path.join(tmp, "state.json"), "w") as f:
        json.dump(state, f, indent=2)
        f.flush()
        os.fsync(f.fileno())


def publish(run_dir, step, keep):
    """Rename the finished temp folder to its final name, then drop all but the newest `keep` checkpoints."""
    tmp, final = tmp_dir_for(run_dir, step), final_dir_for(run_dir, step)
    _fsync_dir(tmp)
    if os.path.isdir(final):
        shutil.rmtree(final)
    os.replace(tmp, final)
    _fsync_dir(checkpoint_root(run_dir))
    if keep > 0:
        for old in list_checkpoints(run_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def read_state(path):
    with open(os.path.join(path, "state.json")) as f:
        return json.load(f)


def load_torch(path, name):
    # mmap (torch >= 2.1) lets all ranks of a node share one page-cached copy instead of each holding the full
    # state in RAM. weights_only=False: these are our own files and hold numpy RNG states.
    for kwargs in ({"mmap": True, "weights_only": False}, {"weights_only": False}, {}):
        try:
            return torch.load(os.path.join(path, name), map_location="cpu", **kwargs)
        except TypeError:
            continue
        except RuntimeError as e:
            if "mmap" in str(e) and "mmap" in kwargs:
                continue
            raise
    raise RuntimeError(f"cannot load {os.path.join(path, name)}")


def load_rng(path, rank):
    f = os.path.join(path, f"rng-rank{rank}.pt")
    return load_torch(path, f"rng-rank{rank}.pt") if os.path.isfile(f) else None
