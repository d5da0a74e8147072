# See huggingface_hub/__init__.py.
class HfFileSystemResolvedBucketPath:
    pass
