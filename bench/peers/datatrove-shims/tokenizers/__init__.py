# Measurement-only stand-in for the `tokenizers` package (not in Debian): datatrove's dedup package imports it for
# exact-substring dedup; MinHash never uses it, and constructing anything from it raises.
class Tokenizer:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("tokenizers is a bench stand-in (bench/peers/datatrove-shims); not usable")

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        return cls()
