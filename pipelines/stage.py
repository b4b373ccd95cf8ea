"""The stage contract (docs/design.md, "Stages").

Every stage is a small object with a name, its config, the record columns it reads and
writes, and one entry point of the same shape for all of them: `apply(df, ctx) -> df`,
where `ctx` (pipelines/context.py) carries the session, accumulators, broadcasts, work
paths and the report. Stages never drop rows: a rejected row keeps flowing with
`status = "<stage>:<reason>"`, so every stage's rows in = kept + rejected by construction
and the report is one group-by over `status`. Rows already rejected pass through a stage
untouched, which also makes every stage safe to retry.

`reads` names the record columns a stage looks at besides `id` and `status` (every stage
may read those); `writes` the columns it may change. Both are checked where the stage's
work is done: a batch stage's function is handed only the columns it reads and may return
only the columns it writes; a global stage's decision may mark only what it writes.

Kinds of stage:
- `BatchStage`: per-record Python work over Arrow batches (`mapInArrow`). Its function
  returns new column values and a reason per row (None = keep); the base sets `status`,
  merges signals and times the function, so filters never count anything themselves.
- `SourceStage`: makes the records (ingest). It hosts the batch stages that follow it, so
  records cross from Python to the JVM once, already filtered (`fuse`).
- `GlobalStage` (pipelines/global_stage.py): a decision over narrow keys of all documents.
- any other `Stage`: Spark SQL over the DataFrame (image resolution by a join, tokenize).

`prepare(ctx)` lets a stage specialise itself to the run's data once the stages before it
have run (image resolution: by broadcast, by join, or not at all; line dedup: the lines
counted over `ctx.tables["reaching"]`, the records that reach it); it returns the stage to
apply, or None to skip it.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.schema import KEEP, RECORD_ARROW

RECORD_COLUMNS = tuple(RECORD_ARROW.names)
ALWAYS_READ = ("id", "status")


class StageContractError(RuntimeError):
    """A stage read or wrote a column it did not declare: a bug in the stage, never the data."""


class Stage(abc.ABC):
    name: str = "stage"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    # "media": the stage only concerns records holding image, frame or video parts, and the
    # pipeline runs it over those alone (pipelines/phases.py).
    scope: str = "all"
    # True: the stage needs all the records that reach it before any is processed (`prepare`
    # counts them, or a global stage decides over them), so the record phase writes the
    # records to Parquet before it and reads them back (pipelines/phases.py).
    barrier: bool = False

    def prepare(self, ctx) -> Stage | None:
        return self

    @abc.abstractmethod
    def apply(self, df, ctx):
        """Return the DataFrame with this stage's columns written and rejections marked."""


class BatchStage(Stage):
    """Per-record Python work over Arrow batches.

    `make_processor(ctx)` runs on the driver and returns a picklable callable; on a worker
    it is given the kept rows' `id` and `reads` columns and returns a dict of new column
    values (lists, one per row) plus optional `reasons` (None = keep) and `signals` (dicts
    merged into the row's signals). Heavy objects (models, tokenizers) load lazily inside
    the processor, once per Python worker.
    """

    @abc.abstractmethod
    def make_processor(self, ctx):
        """A callable (pa.RecordBatch of kept rows) -> dict[str, list]."""

    def apply(self, df, ctx):
        return BatchRun([self]).apply(df, ctx)


class Step:
    """A batch stage ready to run in a worker: its processor, declared columns and the
    accumulator its time goes to."""

    def __init__(self, stage: BatchStage, ctx):
        self.name, self.reads, self.writes = stage.name, stage.reads, stage.writes
        unknown = set(self.reads) - set(RECORD_COLUMNS)
        if unknown:
            raise StageContractError(f"stage {self.name} reads {sorted(unknown)}, which records do not have")
        self.processor = stage.make_processor(ctx)
        self.seconds = ctx.timer(self.name) if ctx is not None else None

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return apply_to_batch(self, batch)


def steps(stages: list[BatchStage], ctx) -> list[Step]:
    return [Step(s, ctx) for s in stages]


class BatchRun(Stage):
    """Consecutive batch stages in one `mapInArrow`: each Arrow batch crosses from the JVM to
    Python and back once, not once per stage. Each stage still marks its own rejections, in
    order, so counts and statuses are those of the stages run one by one."""

    def __init__(self, stages: list[BatchStage]):
        self.stages = list(stages)
        self.name = "+".join(s.name for s in self.stages)
        self.reads = tuple(dict.fromkeys(c for s in self.stages for c in s.reads))
        self.writes = tuple(dict.fromkeys(c for s in self.stages for c in s.writes))
        self.scope = "media" if all(s.scope == "media" for s in self.stages) else "all"

    def apply(self, df, ctx):
        run_steps = steps(self.stages, ctx)
        schema = df.schema
        spill = getattr(ctx, "payloads", None)

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                for step in run_steps:
                    batch = step(batch)
                yield spill(batch) if spill is not None else batch

        return df.mapInArrow(run, schema)


class SourceStage(Stage):
    """A stage that makes records (it ignores its input DataFrame) and can run batch stages
    on them before they leave Python: `host(stages)` returns the source with those stages
    appended to the ones it already runs."""

    hosted: tuple[BatchStage, ...] = ()

    @abc.abstractmethod
    def host(self, stages: list[BatchStage]) -> SourceStage: ...


def fuse(stages: list[Stage]) -> list[Stage]:
    """The same stages with every run of consecutive batch stages in one `BatchRun`, and the
    run right after a source hosted by that source."""
    out: list[Stage] = []
    run: list[BatchStage] = []
    for stage in [*stages, None]:
        if isinstance(stage, BatchStage):
            run.append(stage)
            continue
        if run:
            if out and isinstance(out[-1], SourceStage):
                out[-1] = out[-1].host(run)
            else:
                out.append(BatchRun(run))
            run = []
        if stage is not None:
            out.append(stage)
    return out


def apply_to_batch(step: Step, batch: pa.RecordBatch) -> pa.RecordBatch:
    """One stage over one batch: its processor sees the kept rows' declared columns; what it
    returns is checked against `writes` and scattered back into the batch."""
    if batch.num_rows == 0:
        return batch
    status = batch.column("status")
    keep_mask = pc.equal(status, KEEP).fill_null(False)
    idx = pc.indices_nonzero(keep_mask).to_numpy()
    if len(idx) == 0:
        return batch
    kept = batch.take(pa.array(idx)).select(["id", *step.reads])
    t0 = time.perf_counter()
    result = step.processor(kept)
    if step.seconds is not None:
        step.seconds.add(time.perf_counter() - t0)
    written = set(result) - {"reasons", "signals"} | ({"status"} if result.get("reasons") is not None else set()) \
        | ({"signals"} if result.get("signals") is not None else set())
    undeclared = written - set(step.writes)
    if undeclared:
        raise StageContractError(f"stage {step.name} wrote {sorted(undeclared)}, which it does not declare in "
                                 f"writes {step.writes}")
    columns = {f.name: batch.column(i) for i, f in enumerate(batch.schema)}
    reasons = result.pop("reasons", None)
    signals = result.pop("signals", None)
    for name, values in result.items():
        columns[name] = _scatter(columns[name], idx, values)
    if signals is not None:
        columns["signals"] = _merge_signals(columns["signals"], idx, signals, batch.schema.field("signals").type)
    if reasons is not None:
        full = status.to_pylist()
        for j, i in enumerate(idx.tolist()):
            if reasons[j] is not None:
                full[i] = f"{step.name}:{reasons[j]}"
        columns["status"] = pa.array(full, type=pa.string())
    return pa.RecordBatch.from_arrays(list(columns.values()), schema=batch.schema)


def _merge_signals(column: pa.Array, idx, signals: list[dict], typ: pa.DataType) -> pa.Array:
    old = column.to_pylist()
    for j, i in enumerate(idx.tolist()):
        merged = dict(old[i] or [])
        merged.update(signals[j])
        old[i] = list(merged.items())
    return pa.array(old, type=typ)


def _scatter(column: pa.Array, idx, values: list) -> pa.Array:
    if len(idx) == len(column):  # every row was kept (the usual case): nothing to merge
        return pa.array(values, type=column.type)
    full = column.to_pylist()
    for j, i in enumerate(idx.tolist()):
        full[i] = values[j]
    return pa.array(full, type=column.type)
