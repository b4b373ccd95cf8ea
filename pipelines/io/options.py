"""How to reach storage, and what its failures are called: the options a run's readers and
writers carry (a small frozen dataclass, so it travels inside Spark closures and keys the
per-process client cache) and the errors they raise."""

from __future__ import annotations

import os
from dataclasses import dataclass

MIN_PART_SIZE = 5 * 1024 * 1024    # S3's floor for every part but the last
MAX_PART_SIZE = 5 * 1024 ** 3      # and its ceiling


@dataclass(frozen=True)
class StorageOptions:
    """How to reach S3. Frozen and hashable: shipped to workers and used as a cache key."""

    endpoint_url: str = ""         # "" = AWS; e.g. http://127.0.0.1:9000 for MinIO
    region: str = ""
    profile: str = ""
    max_attempts: int = 8          # per request, throttling/5xx/connection errors
    part_size: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be {MIN_PART_SIZE}..{MAX_PART_SIZE} bytes (S3's limits)")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @classmethod
    def from_env(cls) -> StorageOptions:
        return cls(
            endpoint_url=os.environ.get("EARLYFUSE_S3_ENDPOINT_URL", ""),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
            profile=os.environ.get("AWS_PROFILE", ""),
        )


class InputNotFound(FileNotFoundError):
    pass


_default_options: StorageOptions | None = None


class StorageError(OSError):
    """An S3 operation failed for good. Carries the error code and HTTP status, never secrets."""

    def __init__(self, message: str, code: str = "", status: int = 0):
        super().__init__(message)
        self.code = code
        self.status = status


_default_options: StorageOptions | None = None


def set_default_options(opts: StorageOptions | None) -> None:
    """Options for calls that pass none (readers deep inside a worker); None = from the env."""
    global _default_options
    _default_options = opts


def resolve_options(opts: StorageOptions | None) -> StorageOptions:
    if opts is not None:
        return opts
    return _default_options if _default_options is not None else StorageOptions.from_env()
