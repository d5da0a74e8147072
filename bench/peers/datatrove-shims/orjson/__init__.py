# Measurement-only stand-in for orjson (not in Debian) over the standard library's json: the three names datatrove's
# JSONL reader and writer use. The real orjson parses and serialises faster; in peer-baselines.md's runs the JSONL
# reader was 1.6 of stage 1's 100 s, so the stand-in barely moves datatrove's total (see bench/peers/README.md).
import json as _json

OPT_APPEND_NEWLINE = 1
JSONDecodeError = _json.JSONDecodeError


def loads(data):
    return _json.loads(data)


def dumps(obj, option=0):
    out = _json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return out + b"\n" if option & OPT_APPEND_NEWLINE else out
