"""Shard writing (tar headers, sha256, atomic commit) vs a raw sequential write of the same bytes."""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np

from benchmarks.timing import interleaved, rate, ratio_row
from pipelines.shards import ShardWriter, npy_bytes, sample_json

TARGET = 0.7


def _samples(n: int, rng: np.random.Generator):
    out = []
    for i in range(n):
        ids = rng.integers(0, 100_000, size=int(rng.integers(200, 4000)), dtype=np.uint32)
        files = {"tokens.npy": npy_bytes(ids),
                 "json": sample_json({"id": f"{i:012x}", "n_tokens": int(ids.size), "lang": "eng_Latn"})}
        out.append((f"{i:012x}", files, int(ids.size)))
    return out


def run(n_samples: int = 20000, per_shard: int = 2000) -> dict:
    samples = _samples(n_samples, np.random.default_rng(0))
    total = sum(len(b) for _, files, _ in samples for b in files.values())
    tmp = tempfile.mkdtemp(prefix="earlyfuse-bench-shards-")

    def ours():
        d = os.path.join(tmp, "ours")
        w = ShardWriter(d, "b", 0, max_samples=per_shard, max_bytes=1 << 40)
        for key, files, n in samples:
            w.write(key, files, tokens=n)
        return w.close()

    def raw():
        d = os.path.join(tmp, "raw")
        os.makedirs(d, exist_ok=True)
        for s in range(0, n_samples, per_shard):
            with open(os.path.join(d, f"raw-{s}.bin"), "wb") as f:
                for _, files, _ in samples[s:s + per_shard]:
                    for ext in sorted(files):
                        f.write(files[ext])
                f.flush()
                os.fsync(f.fileno())

    def fresh(fn):
        def call():
            for d in ("ours", "raw"):
                shutil.rmtree(os.path.join(tmp, d), ignore_errors=True)
            return fn()
        return call

    infos = []
    try:
        times = interleaved({"ours": fresh(lambda: infos.append(ours())), "raw": fresh(raw)})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert sum(i.samples for i in infos[-1]) == n_samples
    mb = total / 1e6
    row = ratio_row(times["raw"], times["ours"])
    return {"name": "shard writer vs raw sequential write",
            "ours": rate(mb, times["ours"], "MB/s"), "baseline": rate(mb, times["raw"], "MB/s"),
            **row, "target": TARGET,
            "detail": f"{n_samples} samples, {mb:.0f} MB, {len(infos[-1])} shards, fsync per file in both; "
                      f"{row['runs']} interleaved runs after a warm-up, median (min-max)"}
