"""Payloads kept beside the records (pipelines/payloads.py): no Spark."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

from pipelines.payloads import MAGIC, Spill, is_ref, resolve, spiller
from pipelines.schema import image_part, record, records_to_batch, text_part


def _batch(sizes: list[list[int | None]], seed: int = 0) -> tuple[pa.RecordBatch, list[list[bytes | None]]]:
    rows, payloads = [], []
    for r, doc in enumerate(sizes):
        parts, datas = [text_part(f"row {r}")], [None]
        for k, n in enumerate(doc):
            data = None if n is None else os.urandom(n) if seed else bytes([(r * 7 + k) % 256]) * n
            parts.append(image_part(data, alt=f"{r}-{k}"))
            datas.append(data)
        rows.append(record(f"id-{r}", "src", f"u{r}", parts, status="keep" if r % 3 else "quality:x"))
        payloads.append(datas)
    return records_to_batch(rows), payloads


def _datas(batch: pa.RecordBatch) -> list[list[bytes | None]]:
    return [[p["data"] for p in parts] for parts in batch.column("parts").to_pylist()]


def test_large_payloads_move_out_and_resolve_to_the_same_bytes(tmp_path):
    batch, payloads = _batch([[50_000, 10], [None, 20_000, 70_000], [], [16_384, 16_383]], seed=1)
    out = Spill(str(tmp_path / "p"), 16_384)(batch)
    got = _datas(out)
    for row, want in zip(got, payloads):
        for data, orig in zip(row, want):
            if orig is not None and len(orig) >= 16_384:
                assert is_ref(data) and len(data) < 200
            else:
                assert data == orig  # small ones and nulls stay as they were
            assert resolve(data) == orig
    # Everything else is untouched, row for row.
    for name in ("id", "status", "uri", "signals"):
        assert out.column(name).equals(batch.column(name))
    metas = [[(p["kind"], p["text"], p["meta"]) for p in ps] for ps in out.column("parts").to_pylist()]
    assert metas == [[(p["kind"], p["text"], p["meta"]) for p in ps] for ps in batch.column("parts").to_pylist()]
    assert len(os.listdir(tmp_path / "p")) == 1  # one file per batch
    assert out.schema == batch.schema


def test_same_batch_same_file_and_references(tmp_path):
    """Retried or resumed tasks rewrite nothing and give identical records."""
    batch, _ = _batch([[30_000], [40_000, 50_000]], seed=1)
    spill = Spill(str(tmp_path), 20_000)
    first = spill(batch)
    (path,) = tmp_path.iterdir()
    mtime = path.stat().st_mtime_ns
    again = spill(batch)
    assert again.equals(first)
    assert path.stat().st_mtime_ns == mtime and len(list(tmp_path.iterdir())) == 1
    # References are never spilled again, and a batch without large payloads is returned as is.
    assert spill(first).equals(first)
    small, _ = _batch([[100], [None]])
    assert spill(small) is small


def test_sliced_batches_and_null_lists(tmp_path):
    batch, payloads = _batch([[30_000], [25_000], [None, 40_000], [1_000]], seed=1)
    sliced = batch.slice(1, 2)
    out = Spill(str(tmp_path), 20_000)(sliced)
    assert out.num_rows == 2
    assert [[resolve(d) for d in row] for row in _datas(out)] == payloads[1:3]
    assert all(is_ref(row[-1]) for row in _datas(out))


def test_missing_or_truncated_payload_file_is_a_clear_error(tmp_path):
    batch, _ = _batch([[30_000]], seed=1)
    ref = _datas(Spill(str(tmp_path), 20_000)(batch))[0][1]
    (path,) = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(OSError, match="truncated"):
        resolve(ref)
    missing = MAGIC + f"{tmp_path}/gone.bin:0:10".encode()
    with pytest.raises(FileNotFoundError, match="payload file .* is gone"):
        resolve(missing)


def test_spiller_only_for_folders_python_workers_reach(tmp_path):
    assert spiller(str(tmp_path), 16384).folder == str(tmp_path / "payloads")
    assert spiller(str(tmp_path), 0) is None
    assert spiller(None, 16384) is None
    for uri in ("s3://bucket/work", "hdfs://nn/work", "gs://b/w"):
        assert spiller(uri, 16384) is None


@pytest.mark.spark
def test_sample_run_keeps_payloads_beside_narrow_checkpoints(sample_run):
    """The sample's images and frames travel as references: the checkpoints hold no payload
    of 1 KiB or more, each reference resolves, and the shards are the plain process's
    (tests/test_plain_pipeline.py compares them byte for byte)."""
    import pyarrow.parquet as pq

    result, _, _ = sample_run
    work = os.path.join(result.output, "_work")
    files = os.listdir(os.path.join(work, "payloads"))
    assert files and all(f.endswith(".bin") for f in files)
    table = pq.read_table(os.path.join(work, "docs"), columns=["parts"])
    datas = [p["data"] for parts in table.column("parts").to_pylist() for p in parts if p["data"] is not None]
    refs = [d for d in datas if is_ref(d)]
    assert refs and all(len(d) < 1024 for d in datas)
    assert all(len(resolve(d)) >= 1024 for d in refs)


def test_half_written_files_of_killed_tasks_are_cleared(tmp_path):
    from pipelines.payloads import clear_partial

    batch, payloads = _batch([[30_000]], seed=1)
    out = Spill(str(tmp_path), 20_000)(batch)
    (tmp_path / "0123abcd.bin.5f3e.tmp").write_bytes(b"half")
    assert clear_partial(str(tmp_path)) == 1
    assert [p.suffix for p in tmp_path.iterdir()] == [".bin"]
    assert resolve(_datas(out)[0][1]) == payloads[0][1]
    assert clear_partial(str(tmp_path / "none")) == 0
