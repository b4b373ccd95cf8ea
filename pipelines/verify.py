"""`earlyfuse stats --verify`: check every shard of a finished output against its manifest.

Per shard: the bytes hash to the manifest's sha256 and have its size; the tar reads to its
end (a truncated or corrupt shard fails here); every sample has its JSON and tokens, token
ids are below the vocabulary size and as many as the JSON says, and the tiles array has
the shape the JSON's images add up to. Shards are read as streams, in parallel threads
(hashing and file reads release the GIL), so memory does not grow with the shard count.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from pipelines.io import storage


@dataclass
class ShardCheck:
    name: str
    samples: int = 0
    problems: list[str] = field(default_factory=list)


class _Hashing(io.RawIOBase):
    """Reads a file while hashing every byte that passes, for one-pass sha256 + tar parse."""

    def __init__(self, f):
        self.f, self.sha, self.n = f, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.f.read(len(b))
        b[:len(data)] = data
        self.sha.update(data)
        self.n += len(data)
        return len(data)


def _check_sample(key: str, members: dict[str, bytes], vocab: int, tile_size: int) -> list[str]:
    problems = []
    if "json" not in members or "tokens.npy" not in members:
        return [f"{key}: incomplete sample (members: {', '.join(sorted(members)) or 'none'})"]
    meta = json.loads(members["json"])
    ids = np.load(io.BytesIO(members["tokens.npy"]), allow_pickle=False)
    if ids.dtype != np.uint32 or ids.ndim != 1:
        problems.append(f"{key}: tokens.npy is {ids.dtype}{list(ids.shape)}, expected 1-D uint32")
    elif len(ids) != meta.get("n_tokens"):
        problems.append(f"{key}: {len(ids)} tokens, json says {meta.get('n_tokens')}")
    elif len(ids) and int(ids.max()) >= vocab:
        problems.append(f"{key}: token id {int(ids.max())} >= vocabulary size {vocab}")
    n_tiles = sum(int(m.get("n_tiles", 0)) for m in meta.get("images", []))
    if "tiles.npy" in members:
        shape = np.lib.format.read_array_header_1_0(_npy_header(members["tiles.npy"]))[0]
        if tuple(shape) != (n_tiles, 3, tile_size, tile_size):
            problems.append(f"{key}: tiles.npy shape {tuple(shape)}, json's images need "
                            f"{(n_tiles, 3, tile_size, tile_size)}")
    elif n_tiles and not any(k.startswith(("patches", "tile_")) for k in members):
        problems.append(f"{key}: {n_tiles} tiles in json but no tiles member")
    return problems


def _npy_header(data: bytes) -> io.BytesIO:
    buf = io.BytesIO(data)
    np.lib.format.read_magic(buf)
    return buf


def check_shard(uri: str, expected: dict, vocab: int, tile_size: int, opts=None) -> ShardCheck:
    check = ShardCheck(expected["name"])
    try:
        f = storage.open_read(uri, opts)
    except FileNotFoundError:
        check.problems.append("missing")
        return check
    samples: dict[str, dict[str, bytes]] = defaultdict(dict)
    with f:
        hashing = _Hashing(f)
        try:
            with tarfile.open(fileobj=io.BufferedReader(hashing, 1 << 20), mode="r|") as tar:
                for member in tar:
                    key, _, ext = member.name.partition(".")
                    data = tar.extractfile(member).read() if member.isfile() else b""
                    # Only what the checks read is kept: no tile bytes beyond the header.
                    samples[key][ext] = data if ext != "tiles.npy" else data[:256]
        except (tarfile.TarError, EOFError, OSError) as e:
            check.problems.append(f"not a valid tar ({type(e).__name__}: {e}): truncated or corrupt")
        while hashing.readinto(bytearray(1 << 20)):  # hash the padding after the end marker
            pass
    if hashing.n != expected.get("bytes"):
        check.problems.append(f"{hashing.n} bytes, manifest says {expected.get('bytes')}")
    if hashing.sha.hexdigest() != expected.get("sha256"):
        check.problems.append("sha256 differs from the manifest")
    check.samples = len(samples)
    if not check.problems and len(samples) != expected.get("samples"):
        check.problems.append(f"{len(samples)} samples, manifest says {expected.get('samples')}")
    for key, members in samples.items():
        try:
            check.problems += _check_sample(key, members, vocab, tile_size)
        except (ValueError, KeyError) as e:
            check.problems.append(f"{key}: unreadable member ({e})")
    return check


def verify_output(root: str, workers: int = 4, opts=None, progress=None) -> dict:
    manifest = json.loads(storage.read_bytes(storage.join(root, "manifest.json"), opts))
    vocab = int(manifest["tokenizer"]["vocab_size"])
    tile = int(manifest.get("vision", {}).get("tile_size", 336))
    shards = manifest["shards"]

    def one(s):
        c = check_shard(storage.join(root, "shards", s["name"]), s, vocab, tile, opts)
        if progress:
            progress()
        return c

    with ThreadPoolExecutor(max_workers=workers) as pool:
        checks = list(pool.map(one, shards))
    failed = [{"shard": c.name, "problems": c.problems} for c in checks if c.problems]
    return {"shards": len(checks), "samples": sum(c.samples for c in checks),
            "failed_shards": len(failed), "failures": failed, "ok": not failed}
