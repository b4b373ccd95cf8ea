"""Image-text pairs: img2dataset webdataset tars and image folders with sidecar captions.

A pair becomes one document `[image, caption]`; the caption part carries `role=caption`
so that text-quality rules meant for prose leave it alone.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterator
from typing import BinaryIO

from pipelines.io import storage
from pipelines.readers import stable_id
from pipelines.schema import caption_part, image_part, record

IMAGE_EXTS = ("jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff")
CAPTION_EXTS = ("txt", "json")


def _reject(source, relpath, offset, reason, uri=None):
    return record(stable_id(source, relpath, offset), source, uri or f"{relpath}#{offset}", [],
                  status=f"ingest:{reason}")


def _caption_from(files: dict[str, bytes]) -> tuple[str | None, dict]:
    meta = {}
    if "json" in files:
        try:
            meta = json.loads(files["json"].decode("utf-8"))
            if not isinstance(meta, dict):
                meta = {}
        except (UnicodeDecodeError, ValueError):
            meta = {}
    if "txt" in files:
        try:
            return files["txt"].decode("utf-8").strip(), meta
        except UnicodeDecodeError:
            return None, meta
    caption = meta.get("caption")
    return (caption.strip() if isinstance(caption, str) else None), meta


def pair_record(source: str, relpath: str, offset: int, key: str, files: dict[str, bytes],
                max_bytes: int) -> dict:
    """One img2dataset-style sample -> a document, or a rejection saying what is missing."""
    ext = next((e for e in IMAGE_EXTS if e in files), None)
    caption, meta = _caption_from(files)
    uri = str(meta.get("url") or f"{relpath}#{key}")
    if ext is None:
        return _reject(source, relpath, offset, "missing_image", uri)
    data = files[ext]
    if len(data) > max_bytes:
        return _reject(source, relpath, offset, "record_too_large", uri)
    parts = [image_part(data, src=meta.get("url"), key=key, ext=ext)]
    if caption:
        parts.append(caption_part(caption))
    return record(stable_id(source, relpath, offset), source, uri, parts)


def _split_name(name: str) -> tuple[str, str]:
    """webdataset's rule: key = path up to the first dot of the basename, ext = the rest."""
    d, base = os.path.split(name)
    stem, _, ext = base.partition(".")
    return (f"{d}/{stem}" if d else stem), ext.lower()


def read_webdataset_tar(f: BinaryIO, source: str, relpath: str, max_bytes: int) -> Iterator[dict]:
    """Stream a tar once; samples are runs of consecutive members sharing a key."""
    key, files, start = None, {}, 0
    end = 0  # where the next member's header starts: no sample has that offset yet
    try:
        with tarfile.open(fileobj=f, mode="r|*") as tar:
            for member in tar:
                end = tar.offset
                if not member.isfile():
                    continue
                k, ext = _split_name(member.name)
                if k != key:
                    if key is not None:
                        yield pair_record(source, relpath, start, key, files, max_bytes)
                    key, files, start = k, {}, member.offset
                if member.size > max_bytes:
                    # Not read: the member counts as its own rejection, the sample goes on.
                    # (At its data offset: its header offset may be the sample's own id.)
                    yield _reject(source, relpath, member.offset_data, "record_too_large", f"{relpath}#{k}")
                    continue
                files[ext] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError) as e:
        if key is not None and files:
            yield pair_record(source, relpath, start, key, files, max_bytes)
            key = None
        # Streamed, tarfile says a tar ends too soon with ReadError("unexpected end of data").
        cut = isinstance(e, EOFError) or "unexpected end of data" in str(e)
        yield _reject(source, relpath, max(start, end), "truncated_tar" if cut else "corrupt_tar")
        return
    if key is not None:
        yield pair_record(source, relpath, start, key, files, max_bytes)


def read_image_file(path: str, source: str, relpath: str, max_bytes: int) -> Iterator[dict]:
    """An image file plus `<stem>.txt` or `<stem>.json` beside it (local or s3://)."""
    stem = os.path.splitext(path)[0]
    files: dict[str, bytes] = {}
    if storage.size(path) > max_bytes:
        yield _reject(source, relpath, 0, "record_too_large", relpath)
        return
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    files[ext if ext in IMAGE_EXTS else "jpg"] = storage.read_bytes(path)
    for cext in CAPTION_EXTS:
        side = f"{stem}.{cext}"
        if storage.exists(side) and storage.size(side) <= max_bytes:
            files[cext] = storage.read_bytes(side)
    yield pair_record(source, relpath, 0, os.path.basename(stem), files, max_bytes)
