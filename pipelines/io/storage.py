"""Finding and opening inputs, writing outputs: local paths and s3:// URIs (through boto3).

Everything here runs in the driver and in Python workers alike, so it stays free of Spark
(a test imports this package and checks that pyspark was not loaded). S3 access uses boto3
in-process (no s3a/Hadoop). This module is the surface; `s3_objects` does the S3 side.
"""

from __future__ import annotations

import glob
import io
import os
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from pipelines.io import s3, s3_objects
from pipelines.io.options import InputNotFound, StorageError, StorageOptions, resolve_options, set_default_options
from pipelines.io.paths import glob_base, has_magic, is_s3, join, parent, resolve
from pipelines.io.writers import LocalWriter, Writer, unlink_quietly

__all__ = [
    "StorageOptions", "InputNotFound", "StorageError", "is_s3", "join", "list_files",
    "open_read", "read_bytes", "size", "exists", "open_write", "write_bytes", "upload_dir",
    "download", "delete_prefix", "listdir_names", "set_default_options", "parent", "resolve",
]

READ_BUFFER = 4 * 1024 * 1024      # BufferedReader size: one ranged GET per buffer refill
COPY_CHUNK = 8 * 1024 * 1024
UPLOAD_THREADS = 4


def list_files(pattern: str, opts: StorageOptions | None = None,
               hidden: list[str] | None = None) -> list[tuple[str, str]]:
    """(absolute path or s3 URI, path relative to the input's root) for a file, folder or glob,
    sorted. Hidden files (a name starting with ".") are left out; under a folder they are
    appended to `hidden`, so a caller can count them.

    Ids derive from the relative path, so moving a dataset does not change them.
    """
    if is_s3(pattern):
        return s3_objects.list_files_or_missing(pattern, resolve_options(opts), hidden)
    path = Path(pattern).expanduser()
    if has_magic(pattern):
        base = glob_base(str(path))
        found = [Path(p) for p in glob.glob(str(path), recursive=True)]
    elif path.is_dir():
        base = str(path)
        found = list(path.rglob("*"))
    elif path.is_file():
        base = str(path.parent)
        found = [path]
    else:
        raise InputNotFound(f"{pattern}: no such file or folder")
    files = sorted(p for p in found if p.is_file() and not p.name.startswith("."))
    if hidden is not None:
        hidden += sorted(str(p) for p in found if p.is_file() and p.name.startswith("."))
    if not files:
        raise InputNotFound(f"{pattern}: matches no files")
    return [(str(p.resolve()), os.path.relpath(p, base)) for p in files]


def listdir_names(uri: str, opts: StorageOptions | None = None) -> list[str]:
    """Names directly under a folder or prefix, sorted; [] when there is nothing there."""
    if not is_s3(uri):
        return sorted(os.listdir(uri)) if os.path.isdir(uri) else []
    return s3_objects.listdir_names(uri, resolve_options(opts))


def open_read(uri: str, opts: StorageOptions | None = None) -> BinaryIO:
    """A binary, seekable reader. Local: the file itself. S3: buffered ranged GETs."""
    if not is_s3(uri):
        return open(uri, "rb")
    return io.BufferedReader(s3_objects.S3RawReader(uri, resolve_options(opts)), buffer_size=READ_BUFFER)  # type: ignore[return-value]


def read_bytes(uri: str, opts: StorageOptions | None = None) -> bytes:
    with open_read(uri, opts) as f:
        return f.read()


def size(uri: str, opts: StorageOptions | None = None) -> int:
    if not is_s3(uri):
        return os.path.getsize(uri)
    head = s3.head(uri, resolve_options(opts))
    if head is None:
        raise FileNotFoundError(f"{uri}: no such object")
    return int(head["ContentLength"])


def exists(uri: str, opts: StorageOptions | None = None) -> bool:
    """Local: os.path.exists. S3: an object at exactly this key, one HEAD (callers ask about
    files: sidecar captions, shards; a folder's content is listdir_names' question)."""
    if not is_s3(uri):
        return os.path.exists(uri)
    return s3.head(uri, resolve_options(opts)) is not None


def download(uri: str, local_path: str, opts: StorageOptions | None = None) -> None:
    """Copy uri to a local file (streamed; the file appears complete or not at all)."""
    os.makedirs(os.path.dirname(os.path.abspath(local_path)), exist_ok=True)
    tmp = f"{local_path}.tmp-{secrets.token_hex(6)}"
    try:
        with open_read(uri, opts) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, COPY_CHUNK)
        os.replace(tmp, local_path)
    except BaseException:
        unlink_quietly(tmp)
        raise


def open_write(uri: str, opts: StorageOptions | None = None) -> Writer:
    """A writer whose close() publishes atomically and whose abort() leaves no trace.

    Use as a context manager: an exception inside the block aborts.
    """
    if not is_s3(uri):
        return LocalWriter(uri)
    return s3_objects.S3Writer(uri, resolve_options(opts))


def write_bytes(uri: str, data: bytes, opts: StorageOptions | None = None) -> None:
    with open_write(uri, opts) as w:
        w.write(data)


def _copy_to(src_path: str, dest: str, opts: StorageOptions | None) -> None:
    chunk = opts.part_size if opts is not None else COPY_CHUNK
    with open(src_path, "rb") as src, open_write(dest, opts) as dst:
        while block := src.read(chunk):
            dst.write(block)


def upload_dir(local_dir: str, uri: str, opts: StorageOptions | None = None) -> None:
    """Copy every file under local_dir to uri/<relpath> (Spark writes locally, we publish)."""
    if not os.path.isdir(local_dir):
        raise FileNotFoundError(f"{local_dir}: no such folder")
    o = resolve_options(opts) if is_s3(uri) else None
    jobs = []
    for root, _dirs, files in os.walk(local_dir):
        for name in files:
            src = os.path.join(root, name)
            rel = os.path.relpath(src, local_dir).replace(os.sep, "/")
            jobs.append((src, join(uri, rel)))
    if o is None:
        for src, dest in jobs:
            _copy_to(src, dest, None)
        return
    # Many small Parquet files: a few parallel uploads hide per-request latency.
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        for f in [pool.submit(_copy_to, src, dest, o) for src, dest in jobs]:
            f.result()


def delete_prefix(uri: str, opts: StorageOptions | None = None) -> None:
    """Remove a file or folder, or every key at or under an S3 prefix. Missing is fine."""
    if not is_s3(uri):
        if os.path.isdir(uri) and not os.path.islink(uri):
            shutil.rmtree(uri)
        elif os.path.lexists(uri):
            os.unlink(uri)
        return
    s3_objects.delete_prefix(uri, resolve_options(opts))
