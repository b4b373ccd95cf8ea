"""A reader that breaks on an unforeseen input costs one counted rejection, not the job."""

from __future__ import annotations

import errno
import gzip

import pytest
from PIL import UnidentifiedImageError

from pipelines.faults import InjectedFault
from pipelines.ingest import guarded, retryable
from pipelines.io.s3 import StorageError


def _reader(exc: BaseException, n: int = 2):
    for i in range(n):
        yield {"id": f"r{i}", "status": "keep"}
    raise exc


@pytest.mark.parametrize("exc", [ValueError("bad field"), KeyError("x"),
                                 UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x"),
                                 gzip.BadGzipFile("Not a gzipped file"), UnidentifiedImageError("?"), EOFError()])
def test_bytes_problems_become_one_rejection_after_the_records_read(exc, capsys):
    out = list(guarded(_reader(exc), "crawl", "a/b.warc.gz"))
    assert [r["status"] for r in out] == ["keep", "keep", "ingest:reader_error"]
    assert out[-1]["source"] == "crawl" and out[-1]["uri"] == "a/b.warc.gz#reader_error"
    assert out[-1]["id"] not in {"r0", "r1"}
    assert f"a/b.warc.gz: reader failed after 2 records: {type(exc).__name__}" in capsys.readouterr().err


@pytest.mark.parametrize("exc", [OSError(errno.EIO, "Input/output error"), ConnectionResetError(),
                                 TimeoutError(), StorageError("s3 gave up"), InjectedFault("ingest"), MemoryError()])
def test_io_failures_fail_the_task_for_spark_to_retry(exc):
    assert retryable(exc)
    with pytest.raises(type(exc)):
        list(guarded(_reader(exc), "crawl", "f"))


def test_ids_are_stable_and_distinct_per_file():
    a = list(guarded(_reader(ValueError(), 1), "s", "f1"))[-1]["id"]
    assert a == list(guarded(_reader(ValueError(), 1), "s", "f1"))[-1]["id"]
    assert a != list(guarded(_reader(ValueError(), 1), "s", "f2"))[-1]["id"]
