"""JSONL and Parquet document files -> records."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import BinaryIO, Iterator

from pipelines.readers import stable_id
from pipelines.schema import record, text_part


def _reject(source, relpath, offset, reason, uri=None):
    return record(stable_id(source, relpath, offset), source, uri or f"{relpath}#{offset}", [],
                  status=f"ingest:{reason}")


def _doc(source, relpath, offset, obj, inp) -> dict:
    if not isinstance(obj, dict):
        return _reject(source, relpath, offset, "not_an_object")
    text = obj.get(inp.text_field)
    if not isinstance(text, str):
        return _reject(source, relpath, offset, "missing_text")
    uri = obj.get(inp.url_field)
    uri = str(uri) if uri else f"{relpath}#{offset}"
    if not text.strip():
        return _reject(source, relpath, offset, "no_text", uri)
    meta = {}
    if obj.get(inp.id_field) is not None:
        meta["source_id"] = str(obj[inp.id_field])
    return record(stable_id(source, relpath, offset), source, uri, [text_part(text, **meta)])


def read_jsonl(f: BinaryIO, source: str, relpath: str, inp) -> Iterator[dict]:
    stream = f
    if relpath.endswith(".gz"):
        stream = gzip.GzipFile(fileobj=f)
    offset = 0
    try:
        for raw in stream:
            line_offset, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            if len(raw) > inp.max_record_bytes:
                yield _reject(source, relpath, line_offset, "record_too_large")
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield _reject(source, relpath, line_offset, "invalid_utf8")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                yield _reject(source, relpath, line_offset, "bad_json")
                continue
            yield _doc(source, relpath, line_offset, obj, inp)
    except (OSError, EOFError, zlib.error):
        # gzip.BadGzipFile is an OSError: the rest of this file cannot be read.
        yield _reject(source, relpath, offset, "corrupt_gzip")


def read_parquet(f: BinaryIO, source: str, relpath: str, inp) -> Iterator[dict]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(f)
    except Exception:
        yield _reject(source, relpath, 0, "bad_parquet")
        return
    names = pf.schema_arrow.names
    if inp.text_field not in names:
        yield _reject(source, relpath, 0, "missing_text_column")
        return
    cols = [c for c in (inp.text_field, inp.id_field, inp.url_field) if c in names]
    row = 0
    for batch in pf.iter_batches(batch_size=1024, columns=cols):
        for obj in batch.to_pylist():
            yield _doc(source, relpath, row, obj, inp)
            row += 1
