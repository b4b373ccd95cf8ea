"""Input readers: plain generators of record dicts, one per input unit.

Each reader yields every unit it finds, documents and rejections alike: a corrupt gzip
member or a broken JSON line becomes a record with status `ingest:<reason>`, so nothing
that was in the input disappears without a count.
"""

from __future__ import annotations

import hashlib


def stable_id(source: str, relpath: str, offset: int) -> str:
    """Same input, same id, on every machine and rerun (paths are relative to the input root)."""
    h = hashlib.blake2b(f"{source}\0{relpath}\0{offset}".encode(), digest_size=12)
    return h.hexdigest()
