"""Megatron-style sampling over a weighted mixture of token files.

Per source (Megatron GPTDataset semantics):
  * enough epochs E that E * tokens >= samples * seq_len + 1; documents repeated E times and shuffled with
    numpy RandomState(seed); if the last epoch would supply < 80% of an epoch's samples it is shuffled separately
    and appended, so a partial epoch cannot bias the mix;
  * samples are windows of seq_len + 1 tokens over that document stream, consecutive windows overlapping by one
    token (the label-only token is the next window's first input), crossing document boundaries freely;
  * a shuffle index over the samples (the separate final epoch shuffled on its own).
Blend (Megatron BlendedDataset): weights are per sample of seq_len tokens, i.e. token shares; each source is asked for
ceil(ceil(N * w) * 1.005) samples; the interleaving is Webster/Sainte-Lague apportionment (sample j of source i at
key (j + 0.5) / w_i), computed in closed form with numpy instead of Megatron's C++ greedy loop. Both keep every
prefix within about one sample of its exact share; the order of individual samples differs from Megatron's.
Everything is a pure function of (files, weights, seed, seq_len, N), so the position in the stream is fully given
by a consumed-samples counter: resume = skip to that counter, on any number of ranks.
"""
import math

import numpy as np
import torch

from .indexed import IndexedDataset, TokenFileError

SURPLUS = 0.005
SEPARATE_FINAL_EPOCH_THRESHOLD = 0.80


class SourceSamples:
    """The GPTDataset index of one source: sample k -> (document stream position, offset) bounds."""

    def __init__(self, dataset, num_samples, seq_len, seed):
        self.ds, self.seq_len = dataset, seq_len
        tokens_per_epoch = int(dataset.lengths.sum())
        if tokens_per_epoch < 2:
            raise TokenFileError(f"{dataset.prefix}: holds {tokens_per_epoch} tokens, too few to sample from")
        needed = num_samples * seq_len + 1
        epochs = max(1, math.ceil(needed / tokens_per_epoch))
        self.epochs = epochs
        rng = np.random.RandomState(seed)
        n_docs = len(dataset)
        separate = False
        if epochs > 1:
            from_full = ((epochs - 1) * tokens_per_epoch - 1) // seq_len
            per_epoch = (tokens_per_epoch - 1) // seq_len
            separate = (num_samples - from_full) < SEPARATE_FINAL_EPOCH_THRESHOLD * per_epoch
        self.separate_final_epoch = separate
        if separate:
            first = np.tile(np.arange(n_docs, dtype=np.int64), epochs - 1)
            rng.shuffle(first)
            last = np.arange(n_docs, dtype=np.int64)
            rng.shuffle(last)
            self.doc_index = np.concatenate([first, last])
        else:
            self.doc_index = np.tile(np.arange(n_docs, dtype=np.int64), epochs)
            rng.shuffle(self.doc_index)
        lengths = dataset.lengths[self.doc_index]
        self.cum = np.concatenate([[0], np.cumsum(lengths)])          # token offset of each stream position
        total_samples = (int(self.cum[-1]) - 1) // seq_len
        # Sample k covers stream tokens [k*S, k*S + S] (S + 1 tokens).
        if separate:
            split = (int(self.cum[-n_docs - 1]) - 1) // seq_len      # samples fully inside the first E-1 epochs
            a = np.arange(split, dtype=np.int64)
            b = np.arange(split, total_samples, dtype=np.int64)
            rng.shuffle(a)
            rng.shuffle(b)
            self.shuffle = np.concatenate([a, b])
        else:
            self.shuffle = np.arange(total_samples, dtype=np.int64)
            rng.shuffle(self.shuffle)
        if total_samples < num_samples:
            raise AssertionError("epoch arithmetic produced too few samples")

    def __len__(self):
        return len(self.shuffle)

    def sample(self, i):
        """Tokens (S + 1,) int64 and the length of each document piece in them (they sum to S + 1)."""
        k = int(self.shuffle[i])
        start = k * self.seq_len
        want = self.seq_len + 1
        pos = int(np.searchsorted(self.cum, start, side="right")) - 1
        offset = start - int(self.cum[pos])
        pieces, lengths = [], []
        while want > 0:
            doc = int(self.doc_index[pos])
            avail = int(self.ds.lengths[doc]) - offset
            if avail > 0:
                take = min(avail, want)
                pieces.append(self.ds.get(doc, offset, take))
                lengths.append(take)
                want -= take
            pos += 1
            offset = 0
        return np.concatenate(pieces).astype(np.int64), lengths


def blend_index(weights, num_samples):
    """(dataset_index, dataset_sample_index) for num_samples draws with the given weights (normalised)."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    keys, srcs, ranks = [], [], []
    for i, wi in enumerate(w):
        m = int(math.ceil(num_samples * wi)) + 1
        j = np.arange(m, dtype=np.int64)
        keys.append((j + 0.5) / wi)
        srcs.append(np.full(m, i, dtype=np.int16))
        ranks.append(j)
    keys, srcs, ranks = np.concatenate(keys), np.concatenate(srcs), np.concatenate(ranks)
    order = np.lexsort((srcs, keys))[:num_samples]
    return srcs[order], ranks[order]


class MixtureSamples:
    """The blended sample stream of a training phase: sample k (0 <= k < num_samples) -> a training example."""

    def __init__(self, sources, num_samples, seq_len, seed, vocab_size=None):
        """sources: list of (prefix, weight, name)."""
        self.seq_len, self.num_samples, self.vocab_size = seq_len, num_samples, vocab_size
        self.names = [name or prefix for prefix, _, name in sources]
        self.weights = [w for _, w, _ in sources]
        total = sum(self.weights)
        self.dataset_index, self.dataset_sample_index = blend_index(self.weights, num_samples)
        self.sources = []
        for i, (prefix, w, _) in enumerate(sources):
            requested = int(math.ceil(math.ceil(num_samples * w / total) * (1 + SURPLUS)))
            # Each source gets its own seed stream so adding a source does not reshuffle the others.
            self.sources.append(SourceSamples(IndexedDataset(prefix), max(requested, 1), seq_len, seed + i))

    def plan(self):
        """Per source: samples drawn, tokens, and epochs over its data (what the run will actually see)."""
        counts = np.bincount(self.dataset_index, minlength=len(self.sources))
        out = []
        for i, s in enumerate(self.sources):
            avail = int(s.ds.lengths.sum())
            drawn = int(counts[i]) * self.seq_len
            out.append({"name": self.names[i], "weight": self.weights[i], "samples": int(counts[i]),
                        "tokens": drawn, "available_tokens": avail, "epochs": drawn / avail})
        return out

    def example(self, k):
        """input_ids, labels, positions, doc_ids: each (S,) int64 tensors."""
        if not 0 <= k < self.num_samples:
            raise IndexError(f"sample {k} is outside the planned {self.num_samples} samples")
        src = int(self.dataset_index[k])
        tokens, lengths = self.sources[src].sample(int(self.dataset_sample_index[k]))
        if self.vocab_size is not None and tokens.size and int(tokens.max()) >= self.vocab_size:
            raise TokenFileError(f"{self.sources[src].ds.prefix}: token id {int(tokens.max())} >= model vocab "
                                 f"{self.vocab_size} (wrong tokenizer for this model?)")
        doc_ids = np.repeat(np.arange(len(lengths)), lengths)
        starts = np.repeat(np.cumsum([0] + lengths[:-1]), lengths)
        positions = np.arange(len(tokens)) - starts
        t = torch.from_numpy(tokens)
        return t[:-1], t[1:], torch.from_numpy(positions[:-1]), torch.from_numpy(doc_ids[:-1])

    def batch(self, indices):
        cols = list(zip(*(self.example(k) for k in indices)))
        return tuple(torch.stack(c) for c in cols)


class Prefetcher:
    """Builds the next `depth` micro-batches on a background thread while the current one trains, in pinned host
    memory when they go to a GPU, so `.to(device, non_blocking=True)` really is asynchronous (from pageable memory it
    is a blocking copy that stalls the stream every micro-batch). Same batches, same order as calling make()
    inline; an error building a batch (a bad token file) is raised by the next() that would have returned it."""

    def __init__(self, make, indices, depth=2, pin=False):
        import concurrent.futures
        self._make, self._indices, self._pin = make, iter(indices), pin
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="megamath-prefetch")
        self._pending = []
        for _ in range(depth):
            self._submit()

    def _build(self, idx):
        batch = self._make(idx)
        return tuple(t.pin_memory() for t in batch) if self._pin else batch

    def _submit(self):
        idx = next(self._indices, None)
        if idx is not None:
            self._pending.append(self._pool.submit(self._build, idx))

    def __iter__(self):
        return self

    def __next__(self):
        if not self._pending:
            raise StopIteration
        fut = self._pending.pop(0)
        self._submit()
        return fut.result()

    def close(self):
        for f in self._pending:
            f.cancel()
        self._pool.shutdown(wait=True)


def micro_batch_indices(step, micro_step, rank, world_size, micro_batch_size, global_batch_size):
    """Global sample indices of one rank's micro-batch: step s uses samples [s*G, (s+1)*G), split so the set of
    samples in a step, and so the averaged gradient, does not depend on the number of ranks."""
    base = step * global_batch_size + (micro_step * world_size + rank) * micro_batch_size
    return list(range(base, base + micro_batch_size))
