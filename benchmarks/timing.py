"""Timing shared by the benchmarks: both sides warmed up alike, runs interleaved (so that a
drifting machine load hits both), every run kept, and ratios reported as the median and
the range over runs, never the best run.

A run's ratio pairs ours and the baseline of the same round (adjacent in time); the row's
ratio is the median of those, its range their min and max.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

RUNS = 5


def interleaved(fns: dict[str, Callable[[], object]], runs: int = RUNS, warmup: int = 1,
                clock: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """Seconds of each call per round: `warmup` untimed rounds, then `runs` timed ones."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = clock()
            fn()
            times[name].append(clock() - start)
    return times


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": len(values)}


def ratio_row(base: list[float], ours: list[float]) -> dict:
    """The row fields for a higher-is-better ratio baseline/ours (both lists of seconds)."""
    ratios = [b / o for b, o in zip(base, ours)]
    s = spread(ratios)
    return {"ratio": s["median"], "ratio_min": s["min"], "ratio_max": s["max"], "runs": s["runs"]}


def rate(amount: float, seconds: list[float], unit: str, fmt: str = ",.0f") -> str:
    """'1,234 docs/s (1,100-1,300)': the median rate and its range over runs."""
    rates = [amount / t for t in seconds]
    s = spread(rates)
    return f"{s['median']:{fmt}} {unit} ({s['min']:{fmt}}-{s['max']:{fmt}})"


def ratio_text(row: dict) -> str:
    if "ratio_min" in row:
        return f"{row['ratio']:.2f}x ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
    return f"{row['ratio']:.2f}x"
