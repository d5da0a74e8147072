# See tokenizers/__init__.py.
class TemplateProcessing:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("tokenizers is a bench stand-in (bench/peers/datatrove-shims); not usable")
