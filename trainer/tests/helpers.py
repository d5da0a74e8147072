"""Test fixtures made on the fly: small Megatron token files with learnable structure, and run configs."""
import json
import os
import shutil
import tempfile

import numpy as np

from megamath_trainer.indexed import write_indexed_dataset


def tmpdir(test):
    d = tempfile.mkdtemp(prefix="megamath-trainer-")
    test.addCleanup(shutil.rmtree, d, True)
    return d


def make_source(prefix, n_docs, seed, vocab=512, bos=1, eos=2, stride=1):
    """Documents BOS + an arithmetic run of token ids (start random, step `stride`) + EOS: predictable enough that a
    tiny model's loss falls within a few steps, varied enough that it cannot be memorised at once."""
    rng = np.random.RandomState(seed)
    docs = []
    for _ in range(n_docs):
        n = int(rng.randint(5, 60))
        start = int(rng.randint(3, vocab))
        body = 3 + (start + stride * np.arange(n)) % (vocab - 3)
        docs.append(np.concatenate([[bos], body, [eos]]).astype(np.int32))
    write_indexed_dataset(prefix, docs)
    return docs


def make_mixture(folder, vocab=512):
    os.makedirs(folder, exist_ok=True)
    make_source(os.path.join(folder, "web"), 300, seed=1, vocab=vocab, stride=1)
    make_source(os.path.join(folder, "qa"), 120, seed=2, vocab=vocab, stride=2)
    return [{"prefix": os.path.join(folder, "web"), "weight": 0.7, "name": "web"},
            {"prefix": os.path.join(folder, "qa"), "weight": 0.3, "name": "qa"}]


def tiny_config(run_dir, sources, **overrides):
    cfg = {"run_dir": run_dir, "sources": sources, "model": "tiny", "seq_len": 32, "global_batch_size": 8,
           "micro_batch_size": 4, "train_steps": 6, "lr": 3e-3, "log_every": 1, "checkpoint_every": 2,
           "keep_checkpoints": 5, "export_hf": False, "device": "cpu", "seed": 7}
    cfg.update(overrides)
    return cfg


def write_config(path, cfg):
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def read_metrics(run_dir):
    """step -> loss, the last record per step winning (a resumed run re-logs the steps after its checkpoint)."""
    out = {}
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            out[rec["step"]] = rec
    return out
