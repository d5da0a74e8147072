#!/usr/bin/python3
"""Independent reader for Megatron-LM indexed datasets (.bin/.idx), written from the format description
(megatron/core/datasets/indexed_dataset.py as summarised in shared/research/trainer-anchors.md 2.1), not from
megamath's TypeScript. Usage: read_megatron.py PREFIX  -> prints one JSON line per document: its token ids.
Also checks the datatrove .ds.index sidecar when present."""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}


def read_index(path):
    with open(path, "rb") as f:
        magic = f.read(9)
        assert magic == b"MMIDIDX\x00\x00", "bad magic %r" % magic
        (version,) = struct.unpack("<Q", f.read(8))
        assert version == 1, version
        (code,) = struct.unpack("<B", f.read(1))
        (seq_count,) = struct.unpack("<Q", f.read(8))
        (doc_count,) = struct.unpack("<Q", f.read(8))
        offset = f.tell()
    buf = np.memmap(path, mode="r", order="C")
    lengths = np.frombuffer(buf, dtype=np.int32, count=seq_count, offset=offset)
    pointers = np.frombuffer(buf, dtype=np.int64, count=seq_count, offset=offset + lengths.nbytes)
    doc_idx = np.frombuffer(buf, dtype=np.int64, count=doc_count, offset=offset + lengths.nbytes + pointers.nbytes)
    return DTYPES[code], lengths, pointers, doc_idx


def main(prefix):
    dtype, lengths, pointers, doc_idx = read_index(prefix + ".idx")
    assert doc_idx[0] == 0 and doc_idx[-1] == len(lengths), "document_indices must run 0..S"
    data = np.memmap(prefix + ".bin", dtype=dtype, mode="r", order="C")
    itemsize = np.dtype(dtype).itemsize
    assert data.size == int(lengths.sum()), "bin size %d != sum of lengths %d" % (data.size, int(lengths.sum()))
    if os.path.exists(prefix + ".ds.index"):
        ends = np.fromfile(prefix + ".ds.index", dtype="<u8")
        assert np.array_equal(ends, np.cumsum(lengths.astype(np.uint64))), ".ds.index disagrees with .idx"
    out = sys.stdout
    for i in range(len(lengths)):
        start = int(pointers[i]) // itemsize
        doc = data[start:start + int(lengths[i])]
        out.write(json.dumps([int(x) for x in doc]) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
