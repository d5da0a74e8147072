"""datatrove's MinHash dedup, stages 1-4, on a folder of JSONL files: the peer run of bench/dedup.ts --datatrove.

  /usr/bin/python3 bench/peers/datatrove_minhash.py --datatrove SRC --corpus DIR --work DIR [--level 9]

SRC is a datatrove source checkout (its `src/` is put on sys.path). Settings are those of
../shared/research/peer-baselines.md: 11 buckets x 10 hashes, 5-gram shingles, seed 1, datatrove's NLTK English word
tokenizer, 1 task / 1 worker (stage 2: 11 tasks, one at a time), LocalPipelineExecutor. Stage 4 writes the kept
documents as gzipped JSONL (datatrove's JsonlWriter; gzip level 9, what fsspec's gzip opener uses) and, like
bench/dedup.ts's own run, no file of removed documents. Prints one JSON line: CPU-seconds (user + system of this
process and its reaped children) and wall seconds per stage, documents in and kept.

Debian packages: python3-xxhash python3-nltk python3-fsspec python3-loguru python3-multiprocess python3-dill
python3-regex python3-tqdm python3-humanize python3-numpy. What Debian lacks is stood in for by
bench/peers/datatrove-shims (put on sys.path only when the real module is absent; see bench/peers/README.md).
"""

import argparse
import glob
import importlib.util
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_seconds():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def setup_paths(src):
    sys.path.insert(0, os.path.join(src, "src"))
    shims = os.path.join(HERE, "datatrove-shims")
    # Only the modules missing here are stood in for; a machine with the real ones uses those.
    if any(importlib.util.find_spec(m) is None for m in ("huggingface_hub", "tokenizers", "orjson")):
        sys.path.append(shims)


def patch_fsspec_glob():
    """fsspec before 2023 has no glob(maxdepth=None): datatrove passes it; None means "no limit", so drop it."""
    import fsspec
    from fsspec.spec import AbstractFileSystem

    major = int(fsspec.__version__.split(".")[0])
    if major >= 2023:
        return
    from fsspec.implementations.dirfs import DirFileSystem

    def drop_none_maxdepth(cls):
        original = cls.glob

        def glob(self, path, maxdepth=None, **kwargs):
            if maxdepth is not None:
                kwargs["maxdepth"] = maxdepth
            return original(self, path, **kwargs)

        cls.glob = glob

    drop_none_maxdepth(AbstractFileSystem)
    # DirFileSystem defines its own glob (it forwards to the wrapped filesystem) in some releases.
    if "glob" in DirFileSystem.__dict__:
        drop_none_maxdepth(DirFileSystem)


def ensure_punkt(nltk_dir, corpus_files, sample_bytes=5_000_000):
    """nltk_data cannot be downloaded here: train NLTK's Punkt sentence model on the corpus's first few MB once.
    MinHash strips punctuation before tokenizing, so the model decides no token; it only has to exist."""
    import pickle

    path = os.path.join(nltk_dir, "tokenizers", "punkt", "PY3", "english.pickle")  # where nltk 3.8 looks
    if not os.path.exists(path):
        from nltk.tokenize.punkt import PunktSentenceTokenizer

        text, n = [], 0
        with open(corpus_files[0], encoding="utf-8") as f:
            for line in f:
                t = json.loads(line)["text"]
                text.append(t)
                n += len(t)
                if n >= sample_bytes:
                    break
        model = PunktSentenceTokenizer("\n\n".join(text))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            pickle.dump(model, f)
        os.replace(path + ".tmp", path)
    os.environ["NLTK_DATA"] = nltk_dir
    import nltk

    if nltk_dir not in nltk.data.path:
        nltk.data.path.insert(0, nltk_dir)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datatrove", required=True, help="datatrove source checkout")
    ap.add_argument("--corpus", required=True, help="folder of *.jsonl files with id and text")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    ap.add_argument("--nltk-data", help="where the trained Punkt model is cached (default WORK/../nltk_data)")
    ap.add_argument("--level", type=int, default=None, help="gzip level of stage 4's output (default: datatrove's 9)")
    ap.add_argument("--prepare", action="store_true", help="only train/cache the Punkt model and import datatrove")
    args = ap.parse_args()

    c_start, w_start = cpu_seconds(), time.perf_counter()
    setup_paths(args.datatrove)
    patch_fsspec_glob()
    files = sorted(glob.glob(os.path.join(args.corpus, "*.jsonl")))
    if not files:
        sys.exit(f"no *.jsonl in {args.corpus}")
    ensure_punkt(args.nltk_data or os.path.join(os.path.dirname(os.path.abspath(args.work)), "nltk_data"), files)

    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.word_tokenizers import NLTKTokenizer

    if args.level is not None:
        # datatrove's JsonlWriter has no level; fsspec's gzip opener calls GzipFile with level 9. Wrap it.
        import gzip

        from fsspec import compression

        def gzip_at_level(f, mode="rb", **kw):
            if "r" in mode:
                return gzip.GzipFile(fileobj=f, mode=mode, **kw)
            return gzip.GzipFile(fileobj=f, mode=mode, compresslevel=args.level, **kw)

        compression.compr["gzip"] = gzip_at_level
    if args.prepare:
        print(json.dumps({"prepared": True}))
        return

    import shutil

    shutil.rmtree(args.work, ignore_errors=True)
    w = lambda *p: os.path.join(args.work, *p)
    config = MinhashConfig(n_grams=5, num_buckets=11, hashes_per_bucket=10, seed=1)
    tok = NLTKTokenizer("english")
    reader = lambda: JsonlReader(args.corpus, glob_pattern="*.jsonl")
    stages = [
        ("signatures", LocalPipelineExecutor(
            [reader(), MinhashDedupSignature(output_folder=w("signatures"), config=config, language=tok)],
            tasks=1, workers=1, logging_dir=w("logs", "1"), start_method="fork")),
        ("buckets", LocalPipelineExecutor(
            [MinhashDedupBuckets(input_folder=w("signatures"), output_folder=w("buckets"), config=config)],
            tasks=config.num_buckets, workers=1, logging_dir=w("logs", "2"), start_method="fork")),
        ("clusters", LocalPipelineExecutor(
            [MinhashDedupCluster(input_folder=w("buckets"), output_folder=w("remove_ids"), config=config)],
            tasks=1, workers=1, logging_dir=w("logs", "3"), start_method="fork")),
        ("filter", LocalPipelineExecutor(
            [reader(), MinhashDedupFilter(input_folder=w("remove_ids")), JsonlWriter(w("output"))],
            tasks=1, workers=1, logging_dir=w("logs", "4"), start_method="fork")),
    ]
    result = {"setup_cpu": cpu_seconds() - c_start, "stages": {}}
    for name, ex in stages:
        c0, w0 = cpu_seconds(), time.perf_counter()
        stats = ex.run()
        result["stages"][name] = {"cpu": cpu_seconds() - c0, "wall": time.perf_counter() - w0}
        if name == "filter":
            s = stats.stats[1].stats if hasattr(stats, "stats") else {}
            result["docs_in"] = int(getattr(s.get("total"), "total", 0) or 0)
            result["kept"] = int(getattr(s.get("forwarded"), "total", 0) or 0)
    result["cpu"] = cpu_seconds() - c_start
    result["wall"] = time.perf_counter() - w_start
    result["output_bytes"] = sum(os.path.getsize(p) for p in glob.glob(w("output", "*")))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
