"""Image and frame bytes kept beside the records, not in them (docs/design.md, "Payloads").

A record's image part can hold megabytes; Spark would copy those bytes through the JVM at
every checkpoint, shuffle and Arrow crossing, and size its buffers by rows, not bytes. So
before a batch leaves Python, every part whose bytes reach `min_bytes` has them appended to
a payload file in the work folder and replaced by a short reference; the Python code that
needs the pixels (image checks, tiling) reads them back with `resolve`. Spark carries
narrow rows.

A payload file holds one batch's payloads and is named by their SHA-1, so the same batch
always gives the same file and the same references: a retried or resumed task rewrites
nothing, and the checkpoints stay deterministic.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import OrderedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAGIC = b"\x00earlyfuse-payload\x00"
_OPEN: OrderedDict[str, int] = OrderedDict()  # payload file -> descriptor, per process
_MAX_OPEN = 64


def is_ref(data: bytes | None) -> bool:
    return data is not None and data[:len(MAGIC)] == MAGIC


def resolve(data: bytes | None) -> bytes | None:
    """A part's bytes: the value itself, or what its reference points to."""
    if data is None or data[:len(MAGIC)] != MAGIC:
        return data
    path, offset, length = bytes(data[len(MAGIC):]).decode("utf-8").rsplit(":", 2)
    fd = _OPEN.pop(path, None)
    if fd is None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise FileNotFoundError(f"payload file {path} is gone: the work folder was cleared under a "
                                    "running or resumed run; rerun with --fresh") from None
        while len(_OPEN) >= _MAX_OPEN:
            os.close(_OPEN.popitem(last=False)[1])
    _OPEN[path] = fd
    out = os.pread(fd, int(length), int(offset))
    if len(out) != int(length):
        raise OSError(f"payload file {path} is truncated ({len(out)} of {length} bytes at {offset})")
    return out


class Spill:
    """Moves a batch's large part payloads into a payload file under `folder` (a local or
    shared path every worker reads). Picklable: it travels in Spark task closures."""

    def __init__(self, folder: str, min_bytes: int):
        self.folder, self.min_bytes = folder, min_bytes

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.num_rows == 0 or "parts" not in batch.schema.names:
            return batch
        parts = batch.column("parts")
        flat = parts.flatten()
        names = [f.name for f in flat.type]
        children = flat.flatten()
        data = children[names.index("data")]
        lengths = pc.binary_length(data).fill_null(0).to_numpy(zero_copy_only=False)
        big = np.flatnonzero(lengths >= self.min_bytes)
        if len(big) == 0:
            return batch
        buffers = [data[int(i)].as_buffer() for i in big]
        digest = hashlib.sha1()
        for buf in buffers:
            digest.update(buf)
        path = os.path.join(self.folder, f"{digest.hexdigest()}.bin")
        if not os.path.exists(path):
            _write_file(path, buffers)
        refs, offset = [], 0
        for buf in buffers:
            refs.append(MAGIC + f"{path}:{offset}:{buf.size}".encode())
            offset += buf.size
        mask = np.zeros(len(data), dtype=bool)
        mask[big] = True
        children[names.index("data")] = pc.replace_with_mask(data, pa.array(mask), pa.array(refs, data.type))
        struct = pa.StructArray.from_arrays(children, fields=list(flat.type), mask=flat.is_null())
        offsets = pc.subtract(parts.offsets, parts.offsets[0])
        new = pa.ListArray.from_arrays(offsets, struct, type=parts.type, mask=parts.is_null())
        return batch.set_column(batch.schema.get_field_index("parts"), batch.schema.field("parts"), new)


def _write_file(path: str, buffers: list) -> None:
    """Written under a unique name, then renamed: a reader never sees half a file, and two
    attempts writing the same batch leave one whole file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as f:
        for buf in buffers:
            f.write(buf)
    os.replace(tmp, path)


def clear_partial(folder: str) -> int:
    """Remove the half-written files of tasks killed while writing (`*.tmp`); only safe while
    no task of this run is writing, that is before its first Spark job. Returns how many."""
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".tmp")]
    except FileNotFoundError:
        return 0
    for name in names:
        try:
            os.remove(os.path.join(folder, name))
        except FileNotFoundError:
            pass
    return len(names)


def spiller(work_local: str | None, min_bytes: int) -> Spill | None:
    """The run's Spill, or None when payloads stay in the records (switched off, or a work
    folder only the JVM reaches: HDFS, GCS, Azure, S3)."""
    if not min_bytes or not work_local or "://" in work_local:
        return None
    return Spill(os.path.join(os.path.abspath(work_local), "payloads"), min_bytes)
