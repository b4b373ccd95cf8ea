"""Fault injection for testing retries: make one task fail once, on purpose.

`EARLYFUSE_FAIL_ONCE` names injection points (comma-separated: `ingest`, `dedup`,
`shard`, `shard_commit`); the first task that reaches a named point raises `InjectedFault`, and
later attempts pass, because the failure is remembered as a marker file in
`EARLYFUSE_FAULT_DIR` (which must be visible to every attempt: local disk for local mode,
shared storage on a cluster). Spark then retries the task as it would after a real crash,
which is what the tests check: the output must equal a clean run's. Unset, it costs one
environment lookup.
"""

from __future__ import annotations

import os

POINTS = ("ingest", "dedup", "shard", "shard_commit")


class InjectedFault(RuntimeError):
    pass


def maybe_fail(point: str) -> None:
    wanted = os.environ.get("EARLYFUSE_FAIL_ONCE")
    if not wanted or point not in wanted.split(","):
        return
    folder = os.environ.get("EARLYFUSE_FAULT_DIR") or "/tmp/earlyfuse-faults"
    os.makedirs(folder, exist_ok=True)
    marker = os.path.join(folder, f"failed-{point}")
    try:
        # O_EXCL: of concurrent tasks exactly one creates the marker, and only it fails.
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    raise InjectedFault(f"injected failure at {point!r} (EARLYFUSE_FAIL_ONCE); the retry will pass")
