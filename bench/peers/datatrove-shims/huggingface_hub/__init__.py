# Measurement-only stand-in for huggingface_hub (not in Debian). datatrove imports these names at module load for
# its Hub file system and writers; the MinHash path over local files never calls them, and each one raises if it is.
def _unavailable(name):
    def fail(*args, **kwargs):
        raise RuntimeError(f"huggingface_hub.{name} is a bench stand-in (bench/peers/datatrove-shims); not usable")
    return fail


class HfFileSystem:  # isinstance() checks only; construction fails
    def __init__(self, *args, **kwargs):
        _unavailable("HfFileSystem")()


def __getattr__(name):
    return _unavailable(name)
