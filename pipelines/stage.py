"""The stage contract (DESIGN section 2).

A stage has a name, declares the columns it reads and writes, and has one entry point,
`apply(df) -> df`. Stages never drop rows: a rejected row keeps flowing with
`status = "<stage>:<reason>"`, so every stage's rows in = kept + rejected by construction
and the report is one group-by over `status`. Rows already rejected pass through a stage
untouched, which also makes every stage safe to retry.

`BatchStage` is the shape of all per-record Python work: a picklable function over Arrow
record batches that returns a reason (or None) per row; the base sets `status` and merges
signals, so filters never count anything themselves.
"""

from __future__ import annotations

import abc
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.schema import KEEP


class Stage(abc.ABC):
    name: str = "stage"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()

    @abc.abstractmethod
    def apply(self, df):
        """Return the DataFrame with this stage's columns written and rejections marked."""


class BatchStage(Stage):
    """Per-record Python work over Arrow batches via `mapInArrow`.

    Subclasses implement `make_processor()`, which runs on the driver and returns a
    picklable callable; on a worker that callable is given the batch restricted to kept
    rows and returns a dict of new column values (lists) plus `reasons` (None = keep).
    Heavy objects (models, tokenizers) are loaded lazily inside the processor, once per
    Python worker.
    """

    @abc.abstractmethod
    def make_processor(self):
        """A callable (pa.RecordBatch of kept rows) -> dict[str, list]."""

    def apply(self, df):
        name = self.name
        processor = self.make_processor()
        schema = df.schema

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                yield apply_to_batch(name, processor, batch)

        return df.mapInArrow(run, schema)


class FusedBatchStages(Stage):
    """Consecutive batch stages in one `mapInArrow`: each Arrow batch crosses from the JVM to
    Python and back once, not once per stage. Each stage still marks its own rejections
    (`apply_to_batch` per stage, in order), so counts and statuses are unchanged."""

    def __init__(self, stages: list[BatchStage]):
        self.stages = stages
        self.name = "+".join(s.name for s in stages)
        self.reads = tuple(dict.fromkeys(c for s in stages for c in s.reads))
        self.writes = tuple(dict.fromkeys(c for s in stages for c in s.writes))

    def apply(self, df):
        steps = [(s.name, s.make_processor()) for s in self.stages]
        schema = df.schema

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                for name, processor in steps:
                    batch = apply_to_batch(name, processor, batch)
                yield batch

        return df.mapInArrow(run, schema)


def fuse(stages: list[Stage]) -> list[Stage]:
    """The same stages with every run of two or more batch stages fused into one, and the
    batch stages right after a source that can run them (ingest) fused into that source."""
    out: list[Stage] = []
    run: list[BatchStage] = []
    for stage in [*stages, None]:
        if isinstance(stage, BatchStage):
            run.append(stage)
            continue
        if run:
            if out and hasattr(out[-1], "fused_with"):
                out[-1] = out[-1].fused_with(run)
            else:
                out.append(run[0] if len(run) == 1 else FusedBatchStages(run))
            run = []
        if stage is not None:
            out.append(stage)
    return out


def apply_to_batch(name: str, processor, batch: pa.RecordBatch) -> pa.RecordBatch:
    if batch.num_rows == 0:
        return batch
    status = batch.column("status")
    keep_mask = pc.equal(status, KEEP).fill_null(False)
    idx = pc.indices_nonzero(keep_mask).to_numpy()
    if len(idx) == 0:
        return batch
    kept = batch.take(pa.array(idx))
    result = processor(kept)
    columns = {f.name: batch.column(i) for i, f in enumerate(batch.schema)}
    reasons = result.pop("reasons", None)
    signals = result.pop("signals", None)
    for col, values in result.items():
        columns[col] = _scatter(columns[col], idx, values)
    if signals is not None:
        old = columns["signals"].to_pylist()
        merged = []
        it = iter(signals)
        idx_set = set(idx.tolist())
        for i, prev in enumerate(old):
            if i in idx_set:
                m = dict(prev or [])
                m.update(next(it))
                merged.append(list(m.items()))
            else:
                merged.append(prev)
        columns["signals"] = pa.array(merged, type=batch.schema.field("signals").type)
    if reasons is not None:
        new_status = [None if r is None else f"{name}:{r}" for r in reasons]
        full = status.to_pylist()
        for j, i in enumerate(idx.tolist()):
            if new_status[j] is not None:
                full[i] = new_status[j]
        columns["status"] = pa.array(full, type=pa.string())
    return pa.RecordBatch.from_arrays(list(columns.values()), schema=batch.schema)


def _scatter(column: pa.Array, idx, values: list) -> pa.Array:
    if len(idx) == len(column):  # every row was kept (the usual case): nothing to merge
        return pa.array(values, type=column.type)
    full = column.to_pylist()
    for j, i in enumerate(idx.tolist()):
        full[i] = values[j]
    return pa.array(full, type=column.type)
