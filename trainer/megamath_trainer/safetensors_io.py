"""The safetensors file format, read and written with plain torch (Debian ships no `safetensors` package).

Layout: u64 little-endian header size N, N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]},
"__metadata__": {...}} (space-padded to 8 bytes), then the tensor bytes, offsets relative to the data start.
"""
import json
import os
import struct

import torch

_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}
# torch 1.13 cannot turn a bf16/fp16 tensor into numpy, but can view it as int16 of the same size.
_SAME_SIZE_INT = {torch.bfloat16: torch.int16, torch.float16: torch.int16}


class SafetensorsError(ValueError):
    pass


def _tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype in _SAME_SIZE_INT:
        t = t.view(_SAME_SIZE_INT[t.dtype])
    return t.numpy().tobytes()


def save_file(tensors, path, metadata=None):
    """Write {name: tensor} to `path` atomically (temp name in the same folder, fsync, rename)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _NAMES:
            raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {t.dtype}")
        data = _tensor_bytes(t)
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = dict(metadata or {"format": "pt"})
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_header(path):
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SafetensorsError(f"{path}: too short to be a safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > 100 * 1024 * 1024:
            raise SafetensorsError(f"{path}: header size {n} is implausible (not a safetensors file?)")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise SafetensorsError(f"{path}: bad JSON header: {e}") from None
    return header, 8 + n


def load_file(path, names=None):
    """{name: tensor} (all tensors, or only `names`)."""
    header, data_start = read_header(path)
    size = os.path.getsize(path)
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if name == "__metadata__" or (names is not None and name not in names):
                continue
            if info.get("dtype") not in _DTYPES:
                raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {info.get('dtype')}")
            begin, end = info["data_offsets"]
            dtype = _DTYPES[info["dtype"]]
            numel = 1
            for d in info["shape"]:
                numel *= d
            if data_start + end > size or end - begin != numel * torch.empty((), dtype=dtype).element_size():
                raise SafetensorsError(f"{path}: tensor {name} has inconsistent offsets {begin}..{end}")
            f.seek(data_start + begin)
            buf = bytearray(f.read(end - begin))
            t = torch.frombuffer(buf, dtype=dtype) if numel else torch.empty(0, dtype=dtype)
            out[name] = t.reshape(info["shape"])
    return out
