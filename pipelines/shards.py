"""Webdataset shard writing: deterministic tars, committed atomically (DESIGN section 4).

Tar headers carry no time, owner or random names, so the same samples give the same bytes
on every run; a shard is written under a temporary name and renamed when complete, so a
retried or speculative task never leaves half a shard under a real name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import uuid
from dataclasses import asdict, dataclass

import numpy as np

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


def safe_key(key: str) -> str:
    """webdataset splits a member name at its first dot, and `/` or `..` would escape."""
    cleaned = _UNSAFE.sub("_", key)
    return cleaned or "_"


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def sample_json(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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


class _HashingFile(io.RawIOBase):
    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def writable(self):
        return True

    def tell(self):
        return self.n

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)


class ShardWriter:
    """Writes `<name>-<partition:05d>-<n:04d>.tar`, rolling at a sample or byte limit."""

    def __init__(self, out_dir: str, name: str, partition: int, max_samples: int, max_bytes: int):
        self.out_dir, self.name, self.partition = out_dir, name, partition
        self.max_samples, self.max_bytes = max_samples, max_bytes
        self.infos: list[ShardInfo] = []
        self._seq = 0
        self._tar = None
        os.makedirs(out_dir, exist_ok=True)

    def _open(self):
        self.final = os.path.join(self.out_dir, f"{self.name}-{self.partition:05d}-{self._seq:04d}.tar")
        self.tmp = f"{self.final}.tmp-{uuid.uuid4().hex[:8]}"
        self._raw = open(self.tmp, "wb")
        self._hf = _HashingFile(self._raw)
        self._tar = tarfile.open(fileobj=self._hf, mode="w", format=tarfile.USTAR_FORMAT)
        self._samples = self._tokens = self._images = self._tiles = 0

    def write(self, key: str, files: dict[str, bytes], tokens: int = 0, images: int = 0, tiles: int = 0):
        if self._tar is None:
            self._open()
        key = safe_key(key)
        for ext in sorted(files):
            data = files[ext]
            ti = tarfile.TarInfo(f"{key}.{ext}")
            ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            self._tar.addfile(ti, io.BytesIO(data))
        self._samples += 1
        self._tokens += tokens
        self._images += images
        self._tiles += tiles
        if self._samples >= self.max_samples or self._hf.n >= self.max_bytes:
            self._commit()

    def _commit(self):
        self._tar.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.tmp, self.final)
        self.infos.append(ShardInfo(os.path.basename(self.final), self.partition, self._samples,
                                    self._tokens, self._images, self._tiles, self._hf.n,
                                    self._hf.h.hexdigest()))
        self._tar = None
        self._seq += 1

    def close(self) -> list[ShardInfo]:
        if self._tar is not None:
            self._commit()
        return self.infos

    def abort(self):
        if self._tar is not None:
            self._raw.close()
            if os.path.exists(self.tmp):
                os.remove(self.tmp)
            self._tar = None


def info_dicts(infos: list[ShardInfo]) -> list[dict]:
    return [asdict(i) for i in infos]
