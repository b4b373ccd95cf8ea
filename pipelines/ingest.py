"""Ingest stage: input files -> one record per unit, in Spark, one task per file."""

from __future__ import annotations

import sys
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import storage
from pipelines.config import InputConfig
from pipelines.faults import InjectedFault, maybe_fail
from pipelines.readers import stable_id
from pipelines.readers.documents import read_jsonl, read_parquet
from pipelines.readers.images import IMAGE_EXTS, read_image_file, read_webdataset_tar
from pipelines.readers.videos import VIDEO_EXTS, read_video_file
from pipelines.readers.warc import RESOURCE_STATUS, read_warc
from pipelines.schema import KEEP, MEDIA_KINDS, RECORD_DDL, record, records_to_batch
from pipelines.stage import BatchStage, Stage, apply_to_batch
from pipelines.storage import InputNotFound, StorageError, list_files


TASK_SCHEMA = pa.schema([("source", pa.string()), ("paths", pa.list_(pa.string())),
                         ("relpaths", pa.list_(pa.string()))])

# Formats whose files are small units are read many files to a task.
FILES_PER_TASK = {"images": 256, "video": 64}


def wanted(path: str, fmt: str) -> bool:
    """Which files of a folder or glob are inputs (an image folder also holds its captions)."""
    if fmt == "images":
        return path.rsplit(".", 1)[-1].lower() in IMAGE_EXTS
    if fmt == "video":
        return path.rsplit(".", 1)[-1].lower() in VIDEO_EXTS
    return True


def read_file(path: str, relpath: str, inp: InputConfig) -> Iterator[dict]:
    if inp.format == "images":
        yield from read_image_file(path, inp.name, relpath, inp.max_record_bytes)
        return
    if inp.format == "video":
        yield from read_video_file(path, inp.name, relpath, inp.max_record_bytes)
        return
    with storage.open_read(path) as f:
        if inp.format == "warc":
            yield from read_warc(f, inp.name, relpath, inp.max_record_bytes, inp.image_root,
                                 inp.extractor)
        elif inp.format == "jsonl":
            yield from read_jsonl(f, inp.name, relpath, inp)
        elif inp.format == "parquet":
            yield from read_parquet(f, inp.name, relpath, inp, storage.parent(path))
        elif inp.format == "webdataset":
            yield from read_webdataset_tar(f, inp.name, relpath, inp.max_record_bytes)
        else:  # config validation makes this unreachable; keep the failure loud
            raise ValueError(f"unknown input format {inp.format}")


def retryable(e: BaseException) -> bool:
    """I/O failures fail the task so Spark retries it; anything else a reader raises is a
    property of the file's bytes, which a retry cannot change. Decoders reuse OSError for
    bad bytes (gzip.BadGzipFile, PIL's UnidentifiedImageError) but without an errno."""
    if isinstance(e, (InjectedFault, MemoryError, ConnectionError, TimeoutError, StorageError)):
        return True
    if type(e).__module__.split(".")[0] == "av":  # FFmpeg's codes ride on OSError
        return False
    return isinstance(e, OSError) and isinstance(e.errno, int) and e.errno > 0


def guarded(records: Iterator[dict], source: str, relpath: str) -> Iterator[dict]:
    """A reader's records; if it breaks on an input it did not foresee, the rest of that file
    becomes one `ingest:reader_error` rejection (the exception named in the log) instead of
    a dead task and a failed job. What was read before the error stays counted."""
    n = 0
    try:
        for rec in records:
            n += 1
            yield rec
    except Exception as e:  # noqa: BLE001 - the point is to contain what nobody foresaw
        if retryable(e):
            raise
        print(f"earlyfuse: {source}:{relpath}: reader failed after {n} records: "
              f"{type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
        yield record(stable_id(source, relpath, -1 - n), source, f"{relpath}#reader_error", [],
                     status="ingest:reader_error")


def media_tally(batch: pa.RecordBatch) -> tuple[int, int, int]:
    """(kept records with an image, frame or video part; image resources of a WARC set;
    their bytes)."""
    status = batch.column("status")
    is_resource = pc.equal(status, RESOURCE_STATUS).fill_null(False)
    resources = pc.sum(is_resource).as_py() or 0
    resource_bytes = 0
    if resources:
        first = pc.list_element(batch.column("parts").filter(is_resource), 0)
        resource_bytes = pc.sum(pc.binary_length(pc.struct_field(first, "data"))).as_py() or 0
    parts = batch.column("parts")
    is_media = pc.is_in(parts.flatten().field("kind"), pa.array(MEDIA_KINDS))
    rows = pc.list_parent_indices(parts).filter(is_media)
    with_media = np.zeros(batch.num_rows, dtype=bool)
    with_media[rows.to_numpy()] = True
    kept = pc.equal(status, KEEP).fill_null(False).to_numpy(zero_copy_only=False)
    return int((with_media & kept).sum()), int(resources), int(resource_bytes)


def read_files_batches(batches: Iterator[pa.RecordBatch], inputs: dict[str, InputConfig],
                       batch_rows: int, counter=None, storage_opts=None, steps=(),
                       tallies=None) -> Iterator[pa.RecordBatch]:
    """Records of the files the task batches name, in Arrow batches of `batch_rows`. `steps`
    ((name, processor) of batch stages) run on each batch here, in the reading process, so
    records reach the JVM once, filtered; `tallies` (three accumulators) count media
    records, image resources and their bytes, for the caller's choice of media pass."""
    if storage_opts is not None:
        storage.set_default_options(storage_opts)  # readers open s3:// paths with these

    def finish(rows):
        batch = records_to_batch(rows)
        if counter is not None:
            counter.add(len(rows))
        for name, processor in steps:
            batch = apply_to_batch(name, processor, batch)
        if tallies is not None:
            for acc, n in zip(tallies, media_tally(batch)):
                acc.add(n)
        return batch

    for batch in batches:
        for task in batch.to_pylist():
            maybe_fail("ingest")
            inp = inputs[task["source"]]
            rows = []
            for path, rel in zip(task["paths"], task["relpaths"]):
                for rec in guarded(read_file(path, rel, inp), inp.name, rel):
                    rows.append(rec)
                    if len(rows) >= batch_rows:
                        yield finish(rows)
                        rows = []
            if rows:
                yield finish(rows)


class Ingest(Stage):
    name = "ingest"
    reads = ()
    writes = ("id", "source", "uri", "parts", "status")

    def __init__(self, inputs: list[InputConfig], batch_rows: int = 512, counter=None, storage_opts=None,
                 tasks: list[dict] | None = None):
        self.inputs = inputs
        self.tasks = tasks  # a plan listed earlier, so the inputs are listed once
        self.batch_rows = batch_rows
        self.counter = counter  # a Spark accumulator of records read, for progress
        self.storage_opts = storage_opts
        self.steps: list[BatchStage] = []  # batch stages fused into the reading task
        self.tallies = None  # (media records, image resources, their bytes) accumulators, when asked for

    def fused_with(self, stages: list[BatchStage]) -> "Ingest":
        """The same ingest with these batch stages run on its batches before they leave Python."""
        fused = Ingest(self.inputs, self.batch_rows, self.counter, self.storage_opts, self.tasks)
        fused.steps = [*self.steps, *stages]
        fused.name = "+".join([self.name, *(s.name for s in stages)])
        return fused

    def plan(self) -> list[dict]:
        tasks = []
        for inp in self.inputs:
            files = [(p, r) for p, r in list_files(inp.path, self.storage_opts) if wanted(p, inp.format)]
            if not files:
                raise InputNotFound(f"{inp.path}: no {inp.format} files")
            step = FILES_PER_TASK.get(inp.format, 1)
            for i in range(0, len(files), step):
                chunk = files[i:i + step]
                tasks.append({"source": inp.name, "paths": [p for p, _ in chunk],
                              "relpaths": [r for _, r in chunk]})
        return tasks

    def apply(self, spark):
        """Takes the session (ingest has no input DataFrame) and returns the records."""
        tasks = self.tasks if self.tasks is not None else self.plan()
        by_name = {i.name: i for i in self.inputs}
        batch_rows, counter, opts, tallies = self.batch_rows, self.counter, self.storage_opts, self.tallies
        steps = [(s.name, s.make_processor()) for s in self.steps]
        # One file (or file group) per Spark task: files are the unit of parallelism, as in
        # datatrove's readers. spark.range places index i alone in slice i, and the plan
        # travels in the task's closure: a DataFrame made from a Python RDD would also run
        # the schema check in Python workers of their own (a second daemon, ~4 core-s).
        plan = pa.RecordBatch.from_pylist(tasks, schema=TASK_SCHEMA)

        def run(indices):
            return read_files_batches((plan.take(b.column(0)) for b in indices), by_name,
                                      batch_rows, counter, opts, steps, tallies)

        n = len(tasks)
        return spark.range(0, n, 1, max(n, 1)).mapInArrow(run, RECORD_DDL)
