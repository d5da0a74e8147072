import os
import unittest

import numpy as np
import torch

from megamath_trainer.data import MixtureSamples, SourceSamples, blend_index, micro_batch_indices
from megamath_trainer.indexed import IndexedDataset, write_indexed_dataset
from tests.helpers import make_mixture, make_source, tmpdir


def stream_of(src):
    """The token stream a SourceSamples walks: documents in shuffled-epoch order, concatenated."""
    return np.concatenate([src.ds.get(int(d)) for d in src.doc_index])


class SourceSamplesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tmpdir(self)
        self.prefix = os.path.join(self.dir, "s")
        make_source(self.prefix, 40, seed=3)
        self.ds = IndexedDataset(self.prefix)

    def test_windows_are_seq_plus_one_and_overlap_by_one_token(self):
        s = SourceSamples(self.ds, 50, 16, seed=5)
        stream = stream_of(s)
        by_k = {}
        for i in range(len(s)):
            tokens, lengths = s.sample(i)
            self.assertEqual(len(tokens), 17)
            self.assertEqual(sum(lengths), 17)
            k = int(s.shuffle[i])
            self.assertEqual(list(tokens), list(stream[k * 16:k * 16 + 17]))
            by_k[k] = tokens
        for k in range(len(s) - 1):
            self.assertEqual(by_k[k][-1], by_k[k + 1][0])      # label-only token = next window's first input

    def test_epochs_cover_the_request_and_final_epoch_rule(self):
        tokens = int(self.ds.lengths.sum())
        per_epoch = (tokens - 1) // 16
        # 2.1 epochs' worth: the 0.1-epoch tail (< 80%) is shuffled separately.
        s = SourceSamples(self.ds, int(2.1 * per_epoch), 16, seed=5)
        self.assertEqual(s.epochs, 3)
        self.assertTrue(s.separate_final_epoch)
        self.assertEqual(sorted(s.doc_index[-len(self.ds):]), list(range(len(self.ds))))
        self.assertEqual(np.bincount(s.doc_index).tolist(), [3] * len(self.ds))
        # 1.9 epochs' worth: the tail is 90% of an epoch, so everything is shuffled together.
        s2 = SourceSamples(self.ds, int(1.9 * per_epoch), 16, seed=5)
        self.assertEqual(s2.epochs, 2)
        self.assertFalse(s2.separate_final_epoch)
        self.assertGreaterEqual(len(s2), int(1.9 * per_epoch))

    def test_deterministic_from_seed(self):
        a, b, c = (SourceSamples(self.ds, 30, 16, seed) for seed in (9, 9, 10))
        self.assertTrue(np.array_equal(a.shuffle, b.shuffle) and np.array_equal(a.doc_index, b.doc_index))
        self.assertFalse(np.array_equal(a.doc_index, c.doc_index))


class BlendTest(unittest.TestCase):
    def test_every_prefix_stays_within_about_one_sample_of_its_share(self):
        rng = np.random.RandomState(0)
        for _ in range(30):
            w = rng.rand(rng.randint(2, 7))
            idx, ranks = blend_index(w, 2000)
            share = w / w.sum()
            counts = np.cumsum(np.eye(len(w))[idx], axis=0)
            expected = np.arange(1, 2001)[:, None] * share
            self.assertLess(np.abs(counts - expected).max(), 1.5)
            for i in range(len(w)):          # each source's samples are taken in order 0, 1, 2, ...
                self.assertEqual(list(ranks[idx == i]), list(range(int((idx == i).sum()))))


class MixtureSamplesTest(unittest.TestCase):
    def test_examples_positions_and_document_ids(self):
        d = tmpdir(self)
        sources = make_mixture(d)
        mix = MixtureSamples([(s["prefix"], s["weight"], s["name"]) for s in sources], 64, 32, seed=1, vocab_size=512)
        plan = mix.plan()
        self.assertEqual(sum(p["samples"] for p in plan), 64)
        self.assertAlmostEqual(plan[0]["samples"] / 64, 0.7, delta=1.5 / 64)
        for k in range(64):
            inp, lab, pos, doc = mix.example(k)
            self.assertEqual(inp.shape[0], 32)
            self.assertEqual(list(inp[1:]), list(lab[:-1]))
            for t in range(32):
                # Our documents start with BOS=1: exactly there a new document begins at position 0.
                if t > 0 and int(inp[t]) == 1:
                    self.assertEqual(int(pos[t]), 0)
                    self.assertEqual(int(doc[t]), int(doc[t - 1]) + 1)
                elif t > 0:
                    self.assertEqual(int(pos[t]), int(pos[t - 1]) + 1)
                    self.assertEqual(int(doc[t]), int(doc[t - 1]))
        with self.assertRaises(IndexError):
            mix.example(64)

    def test_token_ids_beyond_the_vocab_are_a_clear_error(self):
        d = tmpdir(self)
        write_indexed_dataset(os.path.join(d, "big"), [np.array([1, 900, 2] * 20, np.int32)])
        mix = MixtureSamples([(os.path.join(d, "big"), 1.0, "big")], 2, 8, seed=1, vocab_size=512)
        with self.assertRaisesRegex(ValueError, r"big: token id 900 >= model vocab 512"):
            mix.example(0)

    def test_micro_batches_partition_each_step_for_any_world_size(self):
        for world, mbs, gbs in ((1, 4, 8), (2, 1, 8), (4, 2, 16)):
            accum = gbs // (mbs * world)
            for step in range(3):
                got = sorted(i for m in range(accum) for r in range(world)
                             for i in micro_batch_indices(step, m, r, world, mbs, gbs))
                self.assertEqual(got, list(range(step * gbs, (step + 1) * gbs)))


class PrefetcherTest(unittest.TestCase):
    def test_same_batches_in_the_same_order_and_errors_arrive_in_place(self):
        from megamath_trainer.data import Prefetcher
        made = []

        def make(k):
            made.append(k)
            if k == 5:
                raise ValueError("bad sample 5")
            return (torch.full((2,), k),)
        p = Prefetcher(make, iter(range(7)), depth=2)
        got = [int(next(p)[0][0])]
        self.assertLessEqual(max(made), 2)   # never more than `depth` ahead of what was taken
        got += [int(next(p)[0][0]) for _ in range(4)]
        self.assertEqual(got, [0, 1, 2, 3, 4])
        with self.assertRaisesRegex(ValueError, "bad sample 5"):
            next(p)
        self.assertEqual(int(next(p)[0][0]), 6)
        with self.assertRaises(StopIteration):
            next(p)
        p.close()


if __name__ == "__main__":
    unittest.main()
