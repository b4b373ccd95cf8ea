"""JSONL and Parquet document files -> records."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from filters.urlkey import crawl_date
from pipelines.io import storage
from pipelines.readers import stable_id
from pipelines.schema import caption_part, image_part, record, text_part


def _reject(source, relpath, offset, reason, uri=None):
    return record(stable_id(source, relpath, offset), source, uri or f"{relpath}#{offset}", [],
                  status=f"ingest:{reason}")


def _dated(rec: dict, obj: dict, inp) -> dict:
    """The row's crawl date, when the input names its field, as the `crawl.date` signal."""
    date = crawl_date(obj.get(inp.date_field)) if inp.date_field else None
    if date is not None:
        rec["signals"] = [*rec["signals"], ("crawl.date", date)]
    return rec


def _doc(source, relpath, offset, obj, inp) -> dict:
    if not isinstance(obj, dict):
        return _reject(source, relpath, offset, "not_an_object")
    return _dated(_doc_record(source, relpath, offset, obj, inp), obj, inp)


def _doc_record(source, relpath, offset, obj, inp) -> dict:
    if inp.image_url_field:
        return _url_pair(source, relpath, offset, obj, inp)
    uri = obj.get(inp.url_field)
    uri = str(uri) if uri else f"{relpath}#{offset}"
    text = obj.get(inp.text_field)
    if not isinstance(text, str):
        return _reject(source, relpath, offset, "missing_text", uri)
    if not text.strip():
        return _reject(source, relpath, offset, "no_text", uri)
    meta = {}
    if obj.get(inp.id_field) is not None:
        meta["source_id"] = str(obj[inp.id_field])
    return record(stable_id(source, relpath, offset), source, uri, [text_part(text, **meta)])


def _lines(stream, limit: int) -> Iterator[tuple[bytes | None, int]]:
    """(line, length) per line; a line longer than `limit` is (None, length), read past in
    pieces and never held whole."""
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield raw, len(raw)
            continue
        n = len(raw)
        while not raw.endswith(b"\n"):
            raw = stream.readline(1 << 20)
            if not raw:
                break
            n += len(raw)
        yield None, n


def read_jsonl(f: BinaryIO, source: str, relpath: str, inp) -> Iterator[dict]:
    stream = f
    if relpath.endswith(".gz"):
        stream = gzip.GzipFile(fileobj=f)
    offset = 0
    try:
        for raw, n in _lines(stream, inp.max_record_bytes):
            line_offset, offset = offset, offset + n
            if raw is None:
                yield _reject(source, relpath, line_offset, "record_too_large")
                continue
            if not raw.strip():
                continue
            try:
                # A byte-order mark starts each file that was concatenated into this one.
                line = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                yield _reject(source, relpath, line_offset, "invalid_utf8")
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                yield _reject(source, relpath, line_offset, "bad_json")
                continue
            yield _doc(source, relpath, line_offset, obj, inp)
    except (OSError, EOFError, zlib.error) as e:
        # gzip.BadGzipFile is an OSError: the rest of this file cannot be read. A stream that
        # ends before its end-of-stream marker (a cut download) is EOFError.
        yield _reject(source, relpath, offset, "truncated_gzip" if isinstance(e, EOFError) else "corrupt_gzip")


def _url_pair(source, relpath, offset, obj, inp) -> dict:
    """A row of an image URL and its caption (img2dataset's `url_list`): an image-text pair
    whose image the fetch stage downloads."""
    url = obj.get(inp.image_url_field)
    page = obj.get(inp.url_field)
    uri = str(page or url or f"{relpath}#{offset}")
    if not isinstance(url, str) or not url.strip():
        return _reject(source, relpath, offset, "missing_image_url", uri)
    parts = [image_part(None, src=url.strip(), key=str(obj.get(inp.id_field) or offset))]
    caption = obj.get(inp.text_field)
    if isinstance(caption, str) and caption.strip():
        parts.append(caption_part(caption))
    return record(stable_id(source, relpath, offset), source, uri, parts)


def read_parquet(f: BinaryIO, source: str, relpath: str, inp, base_dir: str = ".") -> Iterator[dict]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(f)
    except Exception:  # noqa: BLE001 - pyarrow raises assorted errors on bytes that are no Parquet
        yield _reject(source, relpath, 0, "bad_parquet")
        return
    names = pf.schema_arrow.names
    image_col = inp.image_field or inp.image_path_field or inp.image_url_field
    if image_col:
        if image_col not in names:
            yield _reject(source, relpath, 0, "missing_image_column")
            return
    elif inp.text_field not in names:
        yield _reject(source, relpath, 0, "missing_text_column")
        return
    cols = [c for c in (inp.text_field, inp.id_field, inp.url_field, image_col, inp.date_field) if c and c in names]
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=256, columns=cols):
            for obj in batch.to_pylist():
                if inp.image_url_field:
                    yield _dated(_url_pair(source, relpath, row, obj, inp), obj, inp)
                elif image_col:
                    yield _dated(_pair(source, relpath, row, obj, inp, base_dir), obj, inp)
                else:
                    yield _doc(source, relpath, row, obj, inp)
                row += 1
    except Exception:  # noqa: BLE001 - damaged pages or an undecodable value: the rest is lost
        # Rows read so far stay; the unreadable rest is one rejection (its id is the next row's).
        yield _reject(source, relpath, row, "bad_parquet")


def _pair(source, relpath, offset, obj, inp, base_dir) -> dict:
    """A Parquet row of image bytes (or a path relative to the file) and a caption."""

    from pipelines.readers.images import pair_record

    files: dict[str, bytes] = {}
    if inp.image_field:
        data = obj.get(inp.image_field)
        if isinstance(data, (bytes, bytearray)):
            files["jpg"] = bytes(data)
    else:
        rel = obj.get(inp.image_path_field)
        path = storage.resolve(base_dir, str(rel)) if rel else ""
        if path and storage.exists(path) and storage.size(path) <= inp.max_record_bytes:
            files["jpg"] = storage.read_bytes(path)
    caption = obj.get(inp.text_field)
    if isinstance(caption, str):
        files["txt"] = caption.encode("utf-8")
    url = obj.get(inp.url_field)
    if url:
        files["json"] = json.dumps({"url": str(url)}).encode()
    return pair_record(source, relpath, offset, str(obj.get(inp.id_field) or offset), files,
                       inp.max_record_bytes)
