"""Ingest: input files -> one record per unit, in Spark, one task per file (docs/stages/ingest.md)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.config import InputConfig
from pipelines.faults import InjectedFault, maybe_fail
from pipelines.io import storage
from pipelines.io.storage import InputNotFound, StorageError, list_files
from pipelines.readers import stable_id
from pipelines.readers.documents import read_jsonl, read_parquet
from pipelines.readers.images import IMAGE_EXTS, read_image_file, read_webdataset_tar
from pipelines.readers.videos import VIDEO_EXTS, read_video_file
from pipelines.readers.warc import RESOURCE_STATUS, read_warc
from pipelines.schema import KEEP, MEDIA_KINDS, RECORD_DDL, record, records_to_batch
from pipelines.stage import RECORD_COLUMNS, BatchStage, SourceStage, steps

TASK_SCHEMA = pa.schema([("source", pa.string()), ("paths", pa.list_(pa.string())),
                         ("relpaths", pa.list_(pa.string()))])

# Formats whose files are small units are read many files to a task.
FILES_PER_TASK = {"images": 256, "video": 64}
# Counters of ingest's pass the media pass is planned from (pipelines/phases.py).
MEDIA_TALLIES = ("media_records", "image_resources", "image_resource_bytes")


# Sidecars an image or video file carries beside it (`<stem>.<ext>`), read with it.
SIDECARS = {"images": ("txt", "json"), "video": ("txt", "json", "vtt", "srt")}
MEDIA_EXTS = {"images": IMAGE_EXTS, "video": VIDEO_EXTS}


def sort_files(files: list[tuple[str, str]], fmt: str) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """The files of an input that are read as records, and the others counted by why not.

    Image and video folders hold their sidecars too: a caption or subtitle file beside a
    picture or video of the same stem is read with it; one with no such file beside it is
    `orphan_sidecar`; anything else (an .svg, a .pdf, a README) is `unsupported_extension`.
    Every other format reads every file (a bad one becomes counted rejections)."""
    if fmt not in MEDIA_EXTS:
        return files, {}
    exts = MEDIA_EXTS[fmt]
    stems = {p.rsplit(".", 1)[0] for p, _ in files if "." in p and p.rsplit(".", 1)[1].lower() in exts}
    read, skipped = [], {}
    for path, rel in files:
        stem, _, ext = path.rpartition(".")
        ext = ext.lower() if stem else ""
        if ext in exts:
            read.append((path, rel))
            continue
        if ext in SIDECARS[fmt]:
            if stem in stems:
                continue  # read by its media file's reader
            reason = "orphan_sidecar"
        else:
            reason = "unsupported_extension"
        skipped[reason] = skipped.get(reason, 0) + 1
    return read, skipped


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
    except Exception as e:
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
                       batch_rows: int, counter=None, storage_opts=None, steps=(), tallies=None,
                       seconds=None, spill=None) -> Iterator[pa.RecordBatch]:
    """Records of the files the task batches name, in Arrow batches of `batch_rows`. `steps`
    (batch stages ready to run, pipelines.stage.Step) run on each batch here, in the reading
    process, so records reach the JVM once, filtered; `tallies` (three accumulators) count
    media records, image resources and their bytes, for the media pass; `seconds` the time
    spent reading; `spill` (pipelines.payloads.Spill) moves large payloads out of the batch
    before it leaves, so the resources' bytes counted are what the records carry."""
    if storage_opts is not None:
        storage.set_default_options(storage_opts)  # readers open s3:// paths with these

    def finish(rows):
        batch = records_to_batch(rows)
        if counter is not None:
            counter.add(len(rows))
        for step in steps:
            batch = step(batch)
        if spill is not None:
            batch = spill(batch)
        if tallies is not None:
            for acc, n in zip(tallies, media_tally(batch)):
                acc.add(n)
        return batch

    clock = [0.0]

    def timed(records):
        it = iter(records)
        while True:
            t0 = time.perf_counter()
            try:
                rec = next(it)
            except StopIteration:
                clock[0] += time.perf_counter() - t0
                return
            clock[0] += time.perf_counter() - t0
            yield rec

    for batch in batches:
        for task in batch.to_pylist():
            maybe_fail("ingest")
            inp = inputs[task["source"]]
            rows = []
            for path, rel in zip(task["paths"], task["relpaths"]):
                for rec in timed(guarded(read_file(path, rel, inp), inp.name, rel)):
                    rows.append(rec)
                    if len(rows) >= batch_rows:
                        yield finish(rows)
                        rows = []
            if rows:
                yield finish(rows)
    if seconds is not None:
        seconds.add(clock[0])


class Ingest(SourceStage):
    """Input files -> records: one Spark task per file (or group of small files), the batch
    stages it hosts run on the records before they leave the task."""

    name = "ingest"
    reads = ()
    writes = RECORD_COLUMNS

    def __init__(self, inputs: list[InputConfig], batch_rows: int = 512, hosted: tuple[BatchStage, ...] = ()):
        self.inputs = inputs
        self.batch_rows = batch_rows
        self.hosted = tuple(hosted)
        if hosted:
            self.name = "+".join(["ingest", *(s.name for s in hosted)])

    def host(self, stages: list[BatchStage]) -> Ingest:
        return Ingest(self.inputs, self.batch_rows, (*self.hosted, *stages))

    def plan(self, storage_opts=None, skipped: dict | None = None) -> list[dict]:
        """The read tasks of every input; files not read are counted in `skipped`
        (source -> reason -> files). An input with nothing to read is an InputNotFound."""
        tasks = []
        for inp in self.inputs:
            hidden: list[str] = []
            files, skips = sort_files(list_files(inp.path, storage_opts, hidden=hidden), inp.format)
            if hidden:
                skips["hidden"] = len(hidden)
            if skipped is not None and skips:
                skipped[inp.name] = dict(sorted(skips.items()))
            if not files:
                raise InputNotFound(f"{inp.path}: no {inp.format} files")
            step = FILES_PER_TASK.get(inp.format, 1)
            for i in range(0, len(files), step):
                chunk = files[i:i + step]
                tasks.append({"source": inp.name, "paths": [p for p, _ in chunk],
                              "relpaths": [r for _, r in chunk]})
        return tasks

    def apply(self, df, ctx):
        """`df` is ignored (ingest makes the records); the plan comes from `ctx.plan`, listed
        before the run touched its output, or is listed now."""
        tasks = ctx.plan if ctx.plan is not None else self.plan(ctx.storage_opts, ctx.report.skipped_files)
        by_name = {i.name: i for i in self.inputs}
        batch_rows, counter, opts, spill = self.batch_rows, ctx.records, ctx.storage_opts, ctx.payloads
        run_steps = steps(list(self.hosted), ctx)
        tallies = tuple(ctx.counter(n) for n in MEDIA_TALLIES)
        seconds = ctx.timer("ingest")
        # One file (or file group) per Spark task: files are the unit of parallelism, as in
        # datatrove's readers. spark.range places index i alone in slice i, and the plan
        # travels in the task's closure: a DataFrame made from a Python RDD would also run
        # the schema check in Python workers of their own (a second daemon, ~4 core-s).
        plan = pa.RecordBatch.from_pylist(tasks, schema=TASK_SCHEMA)

        def run(indices):
            return read_files_batches((plan.take(b.column(0)) for b in indices), by_name,
                                      batch_rows, counter, opts, run_steps, tallies, seconds, spill)

        n = len(tasks)
        return ctx.spark.range(0, n, 1, max(n, 1)).mapInArrow(run, RECORD_DDL)
