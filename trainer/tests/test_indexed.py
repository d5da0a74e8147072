import os
import struct
import unittest

import numpy as np

from megamath_trainer.indexed import IndexedDataset, TokenFileError, write_indexed_dataset
from tests.helpers import tmpdir


class IndexedDatasetTest(unittest.TestCase):
    def test_layout_matches_megatron_description(self):
        d = tmpdir(self)
        docs = [np.array([128000, 5, 6, 128001], np.int32), np.array([128000, 7, 128001], np.int32)]
        write_indexed_dataset(os.path.join(d, "x"), docs)
        with open(os.path.join(d, "x.idx"), "rb") as f:
            raw = f.read()
        self.assertEqual(raw[:9], b"MMIDIDX\x00\x00")
        self.assertEqual(struct.unpack("<Q", raw[9:17])[0], 1)        # version
        self.assertEqual(raw[17], 4)                                    # int32
        self.assertEqual(struct.unpack("<QQ", raw[18:34]), (2, 3))      # sequences, documents + 1
        self.assertEqual(list(np.frombuffer(raw[34:42], "<i4")), [4, 3])
        self.assertEqual(list(np.frombuffer(raw[42:58], "<i8")), [0, 16])   # byte pointers
        self.assertEqual(list(np.frombuffer(raw[58:82], "<i8")), [0, 1, 2])
        self.assertEqual(len(raw), 82)
        self.assertEqual(list(np.fromfile(os.path.join(d, "x.bin"), "<i4")), [128000, 5, 6, 128001, 128000, 7, 128001])

    def test_round_trip_and_slices(self):
        d = tmpdir(self)
        docs = [np.arange(n, dtype=np.int32) + 10 * n for n in (3, 0, 5)]
        write_indexed_dataset(os.path.join(d, "y"), docs)
        ds = IndexedDataset(os.path.join(d, "y"))
        self.assertEqual(len(ds), 3)
        self.assertEqual(ds.num_tokens, 8)
        for i, doc in enumerate(docs):
            self.assertEqual(list(ds.get(i)), list(doc))
        self.assertEqual(list(ds.get(2, 1, 2)), [51, 52])

    def test_bad_files_name_the_file(self):
        d = tmpdir(self)
        prefix = os.path.join(d, "z")
        write_indexed_dataset(prefix, [np.array([1, 2, 3], np.int32)])
        with open(prefix + ".bin", "ab") as f:
            f.write(b"\x00\x00")
        with self.assertRaisesRegex(TokenFileError, r"z\.bin: 14 bytes, the index describes 12"):
            IndexedDataset(prefix)
        with open(prefix + ".idx", "r+b") as f:
            f.write(b"NOTMEGA!!")
        with self.assertRaisesRegex(TokenFileError, r"z\.idx: not a Megatron index"):
            IndexedDataset(prefix)
        with self.assertRaisesRegex(TokenFileError, r"missing\.idx: token file not found"):
            IndexedDataset(os.path.join(d, "missing"))


if __name__ == "__main__":
    unittest.main()
