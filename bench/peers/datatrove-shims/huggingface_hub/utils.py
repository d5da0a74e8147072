# See huggingface_hub/__init__.py: names imported by datatrove's Hub writers, never called on the MinHash path.
class HfHubHTTPError(Exception):
    pass


def __getattr__(name):
    from huggingface_hub import _unavailable
    return _unavailable(f"utils.{name}")
