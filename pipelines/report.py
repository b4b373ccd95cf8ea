"""Per-stage counts from the `status` column: rows in, kept, rejected by reason."""

from __future__ import annotations

from collections import defaultdict

from pipelines.schema import KEEP


def stage_counts(status_counts: dict[str, int], stages: list[str]) -> list[dict]:
    """status -> count (over all rows) -> one entry per stage, in pipeline order.

    A row rejected by stage k never reaches stage k+1, so a stage's input is the previous
    stage's kept count; a status naming no known stage is an error, not a silent loss.
    """
    rejected: dict[str, dict[str, int]] = defaultdict(dict)
    total = 0
    for status, n in status_counts.items():
        total += n
        if status == KEEP:
            continue
        stage, _, reason = status.partition(":")
        if stage not in stages:
            raise ValueError(f"status {status!r} names no stage of this pipeline {stages}")
        rejected[stage][reason] = rejected[stage].get(reason, 0) + n
    out, rows_in = [], total
    for stage in stages:
        reasons = dict(sorted(rejected.get(stage, {}).items()))
        n_rej = sum(reasons.values())
        out.append({"stage": stage, "in": rows_in, "kept": rows_in - n_rej,
                    "rejected": n_rej, "reasons": reasons})
        rows_in -= n_rej
    if rows_in != status_counts.get(KEEP, 0):
        raise AssertionError(f"kept rows {status_counts.get(KEEP, 0)} != last stage's kept {rows_in}")
    return out
