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


def _check_packed(key: str, meta: dict, ids: np.ndarray, members: dict[str, bytes], tok: dict) -> list[str]:
    """A sequence: `seq_len` tokens, boundaries adding up to it minus the padding, pad ids
    after the last boundary, each document piece inside its segment and filling it."""
    if "cu_seqlens.npy" not in members:
        return [f"{key}: packed sample without cu_seqlens.npy"]
    cu = np.load(io.BytesIO(members["cu_seqlens.npy"]), allow_pickle=False)
    seq_len, end = int(meta.get("seq_len", -1)), int(meta.get("n_tokens", -1))
    problems = []
    if len(ids) != seq_len:
        problems.append(f"{key}: {len(ids)} tokens, seq_len is {seq_len}")
    if cu.dtype != np.int32 or cu.ndim != 1 or len(cu) < 2 or cu[0] != 0 or (np.diff(cu) <= 0).any():
        return problems + [f"{key}: cu_seqlens {cu.tolist()[:8]} is not int32, rising from 0"]
    if int(cu[-1]) != end or end + int(meta.get("padding", -1)) != seq_len:
        problems.append(f"{key}: boundaries end at {int(cu[-1])}, json says {end} tokens + {meta.get('padding')} "
                        f"padding of {seq_len}")
    pad = tok.get("pad_id")
    if pad is not None and (ids[end:] != pad).any():
        problems.append(f"{key}: padding holds tokens other than the pad id {pad}")
    filled = np.zeros(len(cu) - 1, dtype=np.int64)
    for d in meta.get("documents", []):
        s = int(d["segment"])
        if not (0 <= s < len(filled) and cu[s] <= d["offset"] and d["offset"] + d["length"] <= cu[s + 1]):
            problems.append(f"{key}: document {d.get('id')} at {d['offset']}+{d['length']} outside segment {s}")
            continue
        filled[s] += d["length"]
    if (filled != np.diff(cu)).any():
        problems.append(f"{key}: document pieces do not fill their segments ({filled.tolist()[:8]} "
                        f"vs {np.diff(cu).tolist()[:8]})")
    return problems


def _check_images(key: str, ids: np.ndarray, images: list[dict], tok: dict) -> list[str]:
    """Each image's token block starts and ends where the JSON says, with its markers."""
    special = tok.get("special_ids") or {}
    start, end = special.get("<|image_start|>"), special.get("<|image_end|>")
    if start is None:
        return []
    for m in images:
        a, n = int(m["token_offset"]), int(m["n_tokens"])
        if a + n > len(ids) or ids[a] != start or ids[a + n - 1] != end:
            return [f"{key}: image block at {a}+{n} does not match <|image_start|>..<|image_end|>"]
    return []


def _check_sample(key: str, members: dict[str, bytes], vocab: int, tile_size: int,
                  tok: dict | None = None) -> list[str]:
    problems = []
    tok = tok or {}
    if "json" not in members or "tokens.npy" not in members:
        return [f"{key}: incomplete sample (members: {', '.join(sorted(members)) or 'none'})"]
    meta = json.loads(members["json"])
    ids = np.load(io.BytesIO(members["tokens.npy"]), allow_pickle=False)
    packed = "seq_len" in meta
    images = [m for d in meta.get("documents", []) for m in d.get("images", [])] if packed else meta.get("images", [])
    if ids.dtype != np.uint32 or ids.ndim != 1:
        problems.append(f"{key}: tokens.npy is {ids.dtype}{list(ids.shape)}, expected 1-D uint32")
    elif packed:
        problems += _check_packed(key, meta, ids, members, tok)
    elif len(ids) != meta.get("n_tokens"):
        problems.append(f"{key}: {len(ids)} tokens, json says {meta.get('n_tokens')}")
    if ids.ndim == 1 and len(ids) and int(ids.max()) >= vocab:
        problems.append(f"{key}: token id {int(ids.max())} >= vocabulary size {vocab}")
    if not problems:
        problems += _check_images(key, ids, images, tok)
    n_tiles = sum(int(m.get("n_tiles", 0)) for m in images)
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


def check_shard(uri: str, expected: dict, vocab: int, tile_size: int, opts=None, tok: dict | None = None) -> ShardCheck:
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
            check.problems += _check_sample(key, members, vocab, tile_size, tok)
        except (ValueError, KeyError) as e:
            check.problems.append(f"{key}: unreadable member ({e})")
    return check


def verify_output(root: str, workers: int = 4, opts=None, progress=None) -> dict:
    manifest = json.loads(storage.read_bytes(storage.join(root, "manifest.json"), opts))
    vocab = int(manifest["tokenizer"]["vocab_size"])
    tile = int(manifest.get("vision", {}).get("tile_size", 336))
    shards = manifest["shards"]

    def one(s):
        c = check_shard(storage.join(root, "shards", s["name"]), s, vocab, tile, opts, manifest["tokenizer"])
        if progress:
            progress()
        return c

    with ThreadPoolExecutor(max_workers=workers) as pool:
        checks = list(pool.map(one, shards))
    failed = [{"shard": c.name, "problems": c.problems} for c in checks if c.problems]
    return {"shards": len(checks), "samples": sum(c.samples for c in checks),
            "failed_shards": len(failed), "failures": failed, "ok": not failed}
