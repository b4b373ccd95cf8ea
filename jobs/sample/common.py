"""Seeded randomness and file writing shared by the sample's generators."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

from jobs.sample.tables import CURRENT


def rng(*parts: object) -> random.Random:
    """One independent stream per output, so editing one generator never shifts another's data."""
    return random.Random(":".join([CURRENT.seed, *map(str, parts)]))


def uid(name: str) -> uuid.UUID:
    """A uuid5 in the current stream's namespace: the same name, the same id, every run."""
    return uuid.uuid5(CURRENT.namespace, name)


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
