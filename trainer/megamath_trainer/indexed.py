"""Megatron `.bin`/`.idx` token files (Megatron-LM IndexedDataset, format version 1), read and written.

.idx (little-endian): magic b"MMIDIDX\\x00\\x00", u64 version=1, u8 dtype code, u64 sequence count S,
u64 document count D (= documents + 1), int32 sequence_lengths[S], int64 sequence_pointers[S] (byte offsets into
.bin), int64 document_indices[D] (0..S for plain text: one document per sequence).
.bin: the token ids, concatenated, no header.
"""
import os
import struct

import numpy as np

MAGIC = b"MMIDIDX\x00\x00"
HEADER = struct.Struct("<9sQBQQ")
DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}
CODES = {np.dtype(v).str: k for k, v in DTYPES.items()}


class TokenFileError(ValueError):
    """A malformed token file; the message names the file."""


class IndexedDataset:
    """Memory-mapped read access to one Megatron token file pair."""

    def __init__(self, prefix):
        self.prefix = prefix
        idx_path, bin_path = prefix + ".idx", prefix + ".bin"
        for p in (idx_path, bin_path):
            if not os.path.isfile(p):
                raise TokenFileError(f"{p}: token file not found")
        with open(idx_path, "rb") as f:
            head = f.read(HEADER.size)
        if len(head) < HEADER.size:
            raise TokenFileError(f"{idx_path}: truncated header ({len(head)} bytes)")
        magic, version, code, n_seq, n_doc = HEADER.unpack(head)
        if magic != MAGIC:
            raise TokenFileError(f"{idx_path}: not a Megatron index (magic {magic!r})")
        if version != 1:
            raise TokenFileError(f"{idx_path}: unsupported index version {version}")
        if code not in DTYPES:
            raise TokenFileError(f"{idx_path}: unknown dtype code {code}")
        self.dtype = np.dtype(DTYPES[code])
        expected = HEADER.size + 4 * n_seq + 8 * n_seq + 8 * n_doc
        size = os.path.getsize(idx_path)
        if size < expected:
            raise TokenFileError(f"{idx_path}: {size} bytes, the header promises at least {expected}")
        idx = np.memmap(idx_path, mode="r", dtype=np.uint8)
        off = HEADER.size
        self.lengths = np.frombuffer(idx, dtype="<i4", count=n_seq, offset=off).astype(np.int64)
        off += 4 * n_seq
        self.pointers = np.frombuffer(idx, dtype="<i8", count=n_seq, offset=off)
        off += 8 * n_seq
        self.document_indices = np.frombuffer(idx, dtype="<i8", count=n_doc, offset=off)
        if (self.lengths < 0).any():
            bad = int(np.argmax(self.lengths < 0))
            raise TokenFileError(f"{idx_path}: sequence {bad} has negative length {self.lengths[bad]}")
        ends = np.cumsum(self.lengths) * self.dtype.itemsize
        starts = ends - self.lengths * self.dtype.itemsize
        if n_seq and not np.array_equal(starts, self.pointers):
            bad = int(np.argmax(starts != self.pointers))
            raise TokenFileError(f"{idx_path}: sequence {bad} points at byte {self.pointers[bad]}, expected {starts[bad]}")
        total = int(ends[-1]) if n_seq else 0
        bin_size = os.path.getsize(bin_path)
        if bin_size != total:
            raise TokenFileError(f"{bin_path}: {bin_size} bytes, the index describes {total}")
        self.num_tokens = total // self.dtype.itemsize
        self.tokens = (np.memmap(bin_path, mode="r", dtype=self.dtype.newbyteorder("<"))
                       if total else np.zeros(0, self.dtype))

    def __len__(self):
        return len(self.lengths)

    def get(self, seq, offset=0, length=None):
        start = int(self.pointers[seq]) // self.dtype.itemsize + offset
        n = int(self.lengths[seq]) - offset if length is None else length
        return self.tokens[start:start + n]


def write_indexed_dataset(prefix, documents, dtype=np.int32):
    """Write documents (sequences of token ids) as prefix.bin/prefix.idx, atomically (temp names, then rename)."""
    dtype = np.dtype(dtype).newbyteorder("<")
    if dtype.str not in CODES:
        raise ValueError(f"dtype {dtype} has no Megatron dtype code")
    code = CODES[dtype.str]
    lengths = np.array([len(d) for d in documents], dtype="<i4")
    pointers = (np.concatenate([[0], np.cumsum(lengths.astype(np.int64))[:-1]]) * dtype.itemsize).astype("<i8") \
        if len(documents) else np.zeros(0, "<i8")
    doc_idx = np.arange(len(documents) + 1, dtype="<i8")
    tmp_bin, tmp_idx = prefix + ".bin.tmp", prefix + ".idx.tmp"
    with open(tmp_bin, "wb") as f:
        for d in documents:
            f.write(np.asarray(d, dtype=dtype).tobytes())
    with open(tmp_idx, "wb") as f:
        f.write(HEADER.pack(MAGIC, 1, code, len(documents), len(documents) + 1))
        f.write(lengths.tobytes())
        f.write(pointers.tobytes())
        f.write(doc_idx.tobytes())
    os.replace(tmp_bin, prefix + ".bin")
    os.replace(tmp_idx, prefix + ".idx")
