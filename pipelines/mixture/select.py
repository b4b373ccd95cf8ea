"""Which documents of a bucket take the extra copy (docs/stages/mixture.md, "Sampling").

Every document of a bucket with rate r gets floor(r) copies; the extra copies go to the
documents first in priority order (a seeded hash of id and copy index, ties by id) until
the bucket's target: a Bernoulli(frac(r)) draw per document, conditioned on the total, so a
bucket lands within one document of its target. The cut is a (priority, id) threshold every
worker compares against, so the decision needs no state and no order of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

NO_PRIORITY = -1  # a threshold below every priority: no extra copies


@dataclass(frozen=True)
class Cut:
    """Documents with (priority, id) <= (priority, id) take the extra copy; `id` None means
    every document of that priority."""

    priority: int
    id: str | None
    docs: int
    tokens: int


NONE = Cut(NO_PRIORITY, None, 0, 0)


def closest_prefix(tokens: np.ndarray, residual: float) -> int:
    """How many leading documents sum closest to `residual` tokens (ties: fewer)."""
    if residual <= 0 or tokens.size == 0:
        return 0
    c = np.cumsum(tokens, dtype=np.int64)
    i = int(np.searchsorted(c, residual))  # c[i] >= residual: i + 1 documents
    if i >= c.size:
        return int(c.size)
    below = c[i - 1] if i else 0
    return i + 1 if c[i] - residual < residual - below else i


def cuts(rows: pa.Table, residuals: dict[str, float], before: dict[str, tuple[int, int, int]] | None = None
         ) -> dict[str, Cut]:
    """rows (bucket, priority, id, n_tokens) of candidate documents -> the cut per bucket.

    `before[b]` = (docs, tokens, lowest candidate priority) when the candidates are a range of
    priorities and the documents before it are already counted (the Spark refinement);
    `residuals[b]` is the bucket's extra tokens wanted.
    """
    before = before or {}
    rows = rows.sort_by([("bucket", "ascending"), ("priority", "ascending"), ("id", "ascending")])
    buckets = rows.column("bucket").to_numpy(zero_copy_only=False)
    prio = rows.column("priority").to_numpy()
    ids = rows.column("id").to_pylist()
    tokens = rows.column("n_tokens").to_numpy().astype(np.int64)
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]]) if len(buckets) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(buckets)]
    out: dict[str, Cut] = {}
    for s, e in zip(starts, ends):
        b = str(buckets[s])
        d0, t0, lo = before.get(b, (0, 0, 0))
        m = closest_prefix(tokens[s:e], residuals[b] - t0)
        if m:
            out[b] = Cut(int(prio[s + m - 1]), ids[s + m - 1], d0 + m, t0 + int(tokens[s:s + m].sum()))
        elif d0:
            out[b] = Cut(lo - 1, None, d0, t0)
        else:
            out[b] = NONE
    for b in residuals:
        if b not in out:
            d0, t0, lo = before.get(b, (0, 0, 0))
            out[b] = Cut(lo - 1, None, d0, t0) if d0 else NONE
    return out
