"""Webdataset shard writing: deterministic tars, committed atomically (docs/output.md).

Tar headers carry no time, owner or random names, so the same samples give the same bytes
on every run; a shard is written under a temporary name and renamed when complete (on S3:
a multipart upload completed at the end), so a retried or speculative task never leaves
half a shard under a real name, and two attempts write identical bytes to the same name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from pipelines.faults import maybe_fail
from pipelines.io import storage

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


def safe_key(key: str) -> str:
    """webdataset splits a member name at its first dot, and `/` or `..` would escape."""
    cleaned = _UNSAFE.sub("_", key)
    return cleaned or "_"


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def signal_list(pairs) -> list[dict]:
    """A document's signals for its sample JSON: `[{"name", "value"}]` sorted by name, values
    rounded. A list, not an object keyed by signal name: a loader that infers a schema from
    the first samples (Hugging Face `datasets`) would drop names it did not see there."""
    return [{"name": k, "value": round(v, 4)} for k, v in sorted(pairs or ())]


def signal_dict(signals) -> dict[str, float]:
    """The sample JSON's signals as {name: value} (also accepts the object outputs before 0.2 wrote)."""
    if isinstance(signals, dict):
        return signals
    return {s["name"]: s["value"] for s in signals or ()}


def sample_json(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class Streamed:
    """A member whose size is known before its bytes exist (tiles cut while writing)."""

    size: int
    chunks: Iterable[bytes]


def npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    """The .npy header np.save writes for a C-ordered array, so data can follow in chunks."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@dataclass
class ShardInfo:
    name: str
    partition: int
    samples: int
    tokens: int
    images: int
    tiles: int
    bytes: int
    sha256: str
    # Packed shards: documents starting in the shard, document pieces, pad tokens. A row
    # with no name summarises a partition: its documents not written, by reason (JSON).
    documents: int = 0
    pieces: int = 0
    padding: int = 0
    dropped: str = ""


BLOCK = 512
RECORD = 20 * BLOCK  # tar's default record size; tarfile pads archives to it, so do we
SMALL = 64 * 1024
FLUSH_AT = 1 << 20
_PADS = [bytes(n) for n in range(BLOCK)]


_MODE_IDS = b"0000644\0" + b"0000000\0" * 2           # mode, uid, gid
_MTIME = b"00000000000\0"
_TAIL = (b"0" + bytes(100) + b"ustar\x0000").ljust(BLOCK - 156, b"\0")  # type, link, magic, rest
_FIXED_SUM = sum(_MODE_IDS) + sum(_MTIME) + sum(b" " * 8) + sum(_TAIL)


def ustar_header(name: str, size: int) -> bytes:
    """A USTAR header byte-identical to tarfile's for a regular file with mtime/uid/gid 0.

    Built from precomputed pieces because tarfile's per-member Python overhead dominated
    shard writing; a test compares the bytes with tarfile's own.
    """
    raw = name.encode("utf-8")
    if len(raw) > 100:
        raise ValueError(f"tar member name longer than 100 bytes: {name!r}")
    if size >= 8 ** 11:
        raise ValueError(f"tar member too large for USTAR: {size} bytes")
    size_field = b"%011o\0" % size
    chksum = _FIXED_SUM + sum(raw) + sum(size_field)
    return b"".join((raw.ljust(100, b"\0"), _MODE_IDS, size_field, _MTIME,
                     b"%06o\0 " % chksum, _TAIL))


class ShardWriter:
    """Writes `<name>-<partition:05d>-<n:04d>.tar`, rolling at a sample or byte limit."""

    def __init__(self, out_dir: str, name: str, partition: int, max_samples: int, max_bytes: int,
                 storage_opts=None):
        self.out_dir, self.name, self.partition = out_dir, name, partition
        self.max_samples, self.max_bytes = max_samples, max_bytes
        self.opts = storage_opts
        self.infos: list[ShardInfo] = []
        self._seq = 0
        self._f = None
        if not storage.is_s3(out_dir):
            os.makedirs(out_dir, exist_ok=True)

    def _open(self):
        self.final = storage.join(self.out_dir, f"{self.name}-{self.partition:05d}-{self._seq:04d}.tar")
        # Local: a temporary file renamed on close; S3: a multipart upload completed on
        # close. Either way nothing exists under the final name until the shard is whole.
        self._f = storage.open_write(self.final, self.opts)
        self._hash = hashlib.sha256()
        # sha256 and the file write both release the GIL: hashing on one FIFO thread
        # overlaps them, in order, at no risk to the digest.
        self._hasher = ThreadPoolExecutor(max_workers=1)
        self._hashed = None
        self._buf = bytearray()
        self._n = 0
        self._samples = self._tokens = self._images = self._tiles = 0
        self._documents = self._pieces = self._padding = 0

    def _put(self, data: bytes):
        # Headers, padding and small members are gathered so that hashing and writing
        # happen in large pieces; large members go straight through without a copy.
        self._n += len(data)
        if len(data) < SMALL:
            self._buf += data
            if len(self._buf) >= FLUSH_AT:
                self._flush()
            return
        self._flush()
        self._hash_async(data)
        self._f.write(data)

    def _hash_async(self, data) -> None:
        # One piece hashing at a time: the queue would otherwise hold every piece the writer
        # outran, and a packed writer's memory must stay near one sequence.
        if self._hashed is not None:
            self._hashed.result()
        self._hashed = self._hasher.submit(self._hash.update, data)

    def _flush(self):
        if self._buf:
            buf, self._buf = self._buf, bytearray()
            self._hash_async(buf)
            self._f.write(buf)

    def write(self, key: str, files: dict[str, bytes], tokens: int = 0, images: int = 0, tiles: int = 0,
              documents: int = 1, pieces: int = 1, padding: int = 0):
        if self._f is None:
            self._open()
        key = safe_key(key)
        for ext in sorted(files):
            data = files[ext]
            if isinstance(data, Streamed):
                self._put(ustar_header(f"{key}.{ext}", data.size))
                written = 0
                for chunk in data.chunks:
                    self._put(chunk)
                    written += len(chunk)
                if written != data.size:
                    raise ValueError(f"{key}.{ext}: streamed {written} bytes, announced {data.size}")
                size = written
            else:
                self._put(ustar_header(f"{key}.{ext}", len(data)))
                self._put(data)
                size = len(data)
            if size % BLOCK:
                self._put(_PADS[BLOCK - size % BLOCK])
        self._samples += 1
        self._tokens += tokens
        self._images += images
        self._tiles += tiles
        self._documents += documents
        self._pieces += pieces
        self._padding += padding
        if self._samples >= self.max_samples or self._n >= self.max_bytes:
            self._commit()

    def _commit(self):
        end = self._n + 2 * BLOCK
        self._put(bytes(2 * BLOCK + (-end) % RECORD))
        self._flush()
        self._hasher.shutdown(wait=True)
        maybe_fail("shard")
        self._f.close()
        self.infos.append(ShardInfo(self.final.rsplit("/", 1)[-1], self.partition, self._samples,
                                    self._tokens, self._images, self._tiles, self._n,
                                    self._hash.hexdigest(), self._documents, self._pieces, self._padding))
        self._f = None
        self._seq += 1

    def close(self) -> list[ShardInfo]:
        if self._f is not None:
            self._commit()
        return self.infos

    def abort(self):
        if self._f is not None:
            self._hasher.shutdown(wait=True)
            self._f.abort()
            self._f = None


def info_dicts(infos: list[ShardInfo]) -> list[dict]:
    return [asdict(i) for i in infos]
