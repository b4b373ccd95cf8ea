"""Materialising intermediate DataFrames (dedup candidates, edges, component rounds).

`localCheckpoint` keeps the data in executors' block managers: fast, but an executor lost
mid-job takes the blocks with it and the job fails. When the run has a work folder the
data goes to Parquet there instead (what Spark's reliable checkpoint does, without a
checkpoint dir to configure), so a killed executor costs only recomputed tasks.
"""

from __future__ import annotations

import itertools
import os

_root: str | None = None
_counter = itertools.count()


def use(root: str | None) -> None:
    """Where to write (None = in executors' memory, for tests and notebooks)."""
    global _root
    _root = root


def materialize(df, name: str):
    if _root is None:
        return df.localCheckpoint()
    path = os.path.join(_root, f"{next(_counter):05d}-{name}")
    df.write.mode("overwrite").parquet(path)
    return df.sparkSession.read.parquet(path)
