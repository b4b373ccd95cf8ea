"""The run context every stage's `apply(df, ctx)` receives (docs/design.md, "Stages").

It carries what a stage may need beyond its DataFrame and config: the Spark session, the
storage options readers use, named accumulators (counters and per-stage timers), broadcasts
(released when their phase ends), frames an earlier phase left for a later stage (`tables`),
checkpoints (Parquet under the work folder on a cluster, executors' memory in local mode)
and the report the stage adds to. Stages never set attributes on each other; what one
stage learns for another goes through here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field


@dataclass
class GlobalResult:
    """What a global stage reports: its statistics, its clusters (id, root, survivor; an
    Arrow table when decided on the driver, else a DataFrame), where its decision ran
    ("driver" or "spark") and its seconds."""

    family: str
    kind: str
    stats: dict
    clusters: object
    seconds: float
    where: str = "driver"


@dataclass
class RunReport:
    """What the stages of a run add for `report/stages.json` and the summary."""

    globals: dict[str, GlobalResult] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)     # per stage, fused or not
    notes: dict[str, object] = field(default_factory=dict)      # facts of this run's data
    curation: dict[str, dict] = field(default_factory=dict)     # line dedup's counts, ...
    skipped_files: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> reason -> files

    def add_global(self, stage, stats: dict, clusters, seconds: float, where: str) -> None:
        self.globals[stage.name] = GlobalResult(stage.family, stage.kind, dict(stats), clusters, seconds, where)
        self.seconds[stage.name] = round(seconds, 3)

    def skip(self, source: str, reason: str, n: int = 1) -> None:
        by = self.skipped_files.setdefault(source, {})
        by[reason] = by.get(reason, 0) + n


class RunContext:
    def __init__(self, spark, storage_opts=None, report: RunReport | None = None, checkpoints: str | None = None,
                 records=None, plan: list[dict] | None = None, work: str | None = None, workdir=None,
                 payloads=None):
        from pipelines.workdir import WorkDir

        self.spark = spark
        self.work = work                # the run's work folder (caches that outlive a task)
        self.workdir = workdir or WorkDir(work or "")  # its file operations (pipelines/workdir.py)
        self.storage_opts = storage_opts
        self.report = report if report is not None else RunReport()
        self.checkpoints = checkpoints  # a folder for Parquet checkpoints; None: executors' memory
        self.records = records          # accumulator of records read, for progress
        self.plan = plan                # ingest's file plan, listed once before the output is touched
        self.payloads = payloads        # pipelines.payloads.Spill, or None: payloads stay in the records
        self.tables: dict[str, object] = {}
        self._accumulators: dict[str, object] = {}
        self._timers: dict[str, object] = {}
        self._broadcasts: list = []
        self._checkpoint_ids = itertools.count()

    def counter(self, name: str):
        """An integer accumulator, created on first use; read with `count(name)` after the
        Spark action that fed it."""
        if name not in self._accumulators:
            self._accumulators[name] = self.spark.sparkContext.accumulator(0)
        return self._accumulators[name]

    def count(self, name: str) -> int:
        acc = self._accumulators.get(name)
        return acc.value if acc is not None else 0

    def timer(self, name: str):
        """A float accumulator of seconds spent in a stage's function, summed over tasks."""
        if name not in self._timers:
            self._timers[name] = self.spark.sparkContext.accumulator(0.0)
        return self._timers[name]

    def collect_timers(self) -> None:
        """Add the timers' values to the report (after the actions that ran the stages)."""
        for name, acc in self._timers.items():
            self.report.seconds[name] = round(acc.value, 3)

    def broadcast(self, value):
        b = self.spark.sparkContext.broadcast(value)
        self._broadcasts.append(b)
        return b

    def release(self) -> None:
        """Destroy this phase's broadcasts, on the driver and the workers."""
        for b in self._broadcasts:
            b.destroy()
        self._broadcasts.clear()

    def materialize(self, df, name: str):
        """df computed once and kept: Parquet under `checkpoints` (what Spark's reliable
        checkpoint does, without a checkpoint dir to configure: a lost executor costs only
        recomputed tasks), or `localCheckpoint` when there is no such folder."""
        if self.checkpoints is None:
            return df.localCheckpoint()
        path = f"{self.checkpoints.rstrip('/')}/{next(self._checkpoint_ids):05d}-{name}"
        df.write.mode("overwrite").parquet(path)
        return df.sparkSession.read.parquet(path)
