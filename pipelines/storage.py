"""Finding and opening inputs, writing outputs: local paths and s3:// URIs (through boto3).

Everything here runs in the driver and in Python workers alike, so it must stay free of
Spark. S3 access uses boto3 in-process (no s3a/Hadoop); `StorageOptions` is a small frozen
dataclass so it can travel inside Spark closures and key the per-process client cache.
"""

from __future__ import annotations

import abc

import fnmatch
import glob
import hashlib
import io
import logging
import os
import posixpath
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, TypeVar

import botocore.exceptions as bex

from pipelines import s3
from pipelines.s3 import StorageError

__all__ = [
    "StorageOptions", "InputNotFound", "StorageError", "is_s3", "join", "list_files",
    "open_read", "read_bytes", "size", "exists", "open_write", "write_bytes", "upload_dir",
    "download", "delete_prefix", "listdir_names", "set_default_options", "parent", "resolve",
]

T = TypeVar("T")
log = logging.getLogger(__name__)

READ_BUFFER = 4 * 1024 * 1024      # BufferedReader size: one ranged GET per buffer refill
COPY_CHUNK = 8 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024    # S3's floor for every part but the last
MAX_PART_SIZE = 5 * 1024 ** 3      # and its ceiling
PARTS_PER_DOUBLING = 1000          # S3 allows 10,000 parts: grow them so big objects fit
DELETE_BATCH = 1000                # DeleteObjects' limit
UPLOAD_THREADS = 4


@dataclass(frozen=True)
class StorageOptions:
    """How to reach S3. Frozen and hashable: shipped to workers and used as a cache key."""

    endpoint_url: str = ""         # "" = AWS; e.g. http://127.0.0.1:9000 for MinIO
    region: str = ""
    profile: str = ""
    max_attempts: int = 8          # per request, throttling/5xx/connection errors
    part_size: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be {MIN_PART_SIZE}..{MAX_PART_SIZE} bytes (S3's limits)")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @classmethod
    def from_env(cls) -> "StorageOptions":
        return cls(
            endpoint_url=os.environ.get("EARLYFUSE_S3_ENDPOINT_URL", ""),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
            profile=os.environ.get("AWS_PROFILE", ""),
        )


class InputNotFound(FileNotFoundError):
    pass


_default_options: StorageOptions | None = None


def set_default_options(opts: StorageOptions | None) -> None:
    """Options for calls that pass none (readers deep inside a worker); None = from the env."""
    global _default_options
    _default_options = opts


def _opts(opts: StorageOptions | None) -> StorageOptions:
    if opts is not None:
        return opts
    return _default_options if _default_options is not None else StorageOptions.from_env()


def is_s3(uri: str) -> bool:
    return uri[:5].lower() == "s3://"


def join(base: str, *parts: str) -> str:
    """os.path.join for local paths; for s3:// one "/" between parts, whatever their slashes."""
    if not is_s3(base):
        return os.path.join(base, *parts)
    out = base.rstrip("/")
    for p in parts:
        p = p.strip("/")
        if p:
            out = f"{out}/{p}"
    return out


def parent(uri: str) -> str:
    """The folder holding a file or object: s3://b/d/x -> s3://b/d, s3://b/x -> s3://b."""
    if not is_s3(uri):
        return os.path.dirname(uri)
    bucket, key = s3.split(uri)
    folder = key.rstrip("/").rpartition("/")[0]
    return f"s3://{bucket}/{folder}" if folder else f"s3://{bucket}"


def resolve(base: str, rel: str) -> str:
    """rel against the folder base, normalised ("../x" climbs, never above an S3 bucket);
    an absolute path or s3:// URI in rel is returned as it is."""
    if is_s3(rel):
        return rel
    if not is_s3(base):
        return os.path.normpath(os.path.join(base, rel))
    bucket, key = s3.split(base)
    joined = posixpath.normpath(posixpath.join("/", key, rel)).lstrip("/")
    return f"s3://{bucket}/{joined}" if joined else f"s3://{bucket}"


def _s3_call(uri: str, action: str, opts: StorageOptions, fn: Callable[[], T]) -> T:
    """Run fn with retries; turn what is left into FileNotFoundError or a scrubbed StorageError.

    `from None`: the original botocore exception's text may quote request details.
    """
    try:
        return s3.retrying(fn, opts, action)
    except (bex.ClientError, bex.BotoCoreError, *s3.TRANSIENT_EXCEPTIONS) as exc:
        if s3.error_code(exc) == "NoSuchBucket":
            raise FileNotFoundError(f"{uri}: no such bucket") from None
        if s3.is_not_found(exc):
            raise FileNotFoundError(f"{uri}: no such object") from None
        raise s3.storage_error(uri, action, exc, opts) from None


# ---------------------------------------------------------------- listing

def _glob_base(pattern: str) -> str:
    parts = Path(pattern).parts
    base = []
    for p in parts:
        if any(c in p for c in "*?["):
            break
        base.append(p)
    return str(Path(*base)) if base else "."


def _has_magic(s: str) -> bool:
    return any(c in s for c in "*?[")


def list_files(pattern: str, opts: StorageOptions | None = None) -> list[tuple[str, str]]:
    """(absolute path or s3 URI, path relative to the input's root) for a file, folder or glob,
    sorted.

    Ids derive from the relative path, so moving a dataset does not change them.
    """
    if is_s3(pattern):
        return _list_files_or_missing(pattern, _opts(opts))
    path = Path(pattern).expanduser()
    if _has_magic(pattern):
        base = _glob_base(str(path))
        found = [Path(p) for p in glob.glob(str(path), recursive=True)]
    elif path.is_dir():
        base = str(path)
        found = [p for p in path.rglob("*")]
    elif path.is_file():
        base = str(path.parent)
        found = [path]
    else:
        raise InputNotFound(f"{pattern}: no such file or folder")
    files = sorted(p for p in found if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputNotFound(f"{pattern}: matches no files")
    return [(str(p.resolve()), os.path.relpath(p, base)) for p in files]


def _list_pages(bucket: str, prefix: str, opts: StorageOptions, uri: str,
                delimiter: str = "") -> Iterator[dict[str, Any]]:
    """ListObjectsV2 pages, each fetched with its own retries (a dropped page is re-asked,
    not the whole listing)."""
    c = s3.client(opts)
    token = ""
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        if token:
            kwargs["ContinuationToken"] = token
        page = _s3_call(uri, "list", opts, lambda: c.list_objects_v2(**kwargs))
        yield page
        token = page.get("NextContinuationToken", "") if page.get("IsTruncated") else ""
        if not token:
            return


def _list_keys(bucket: str, prefix: str, opts: StorageOptions, uri: str) -> Iterator[str]:
    for page in _list_pages(bucket, prefix, opts, uri):
        for obj in page.get("Contents", ()):
            yield obj["Key"]


def _visible(key: str) -> bool:
    """Objects, not folder markers or hidden files (same rule as the local walk)."""
    return not key.endswith("/") and not key.rsplit("/", 1)[-1].startswith(".")


def _match_segment(pat: str, name: str) -> bool:
    # Like glob: wildcards do not match names starting with "." unless the pattern does.
    if name.startswith(".") and not pat.startswith(".") and _has_magic(pat):
        return False
    return fnmatch.fnmatchcase(name, pat)


def _match(pats: list[str], names: list[str]) -> bool:
    """glob(recursive=True) semantics per path segment; "**" spans zero or more segments."""
    if not pats:
        return not names
    head = pats[0]
    if head == "**":
        for i in range(len(names) + 1):
            if i > 0 and names[i - 1].startswith("."):
                break  # ** does not descend into hidden folders
            if _match(pats[1:], names[i:]):
                return True
        return False
    return bool(names) and _match_segment(head, names[0]) and _match(pats[1:], names[1:])


def _s3_list_files(pattern: str, opts: StorageOptions) -> list[tuple[str, str]]:
    bucket, key = s3.split(pattern)
    if _has_magic(key):
        segs = key.split("/")
        literal = next(i for i, s in enumerate(segs) if _has_magic(s))
        base = "/".join(segs[:literal])
        # List from the longest literal prefix, not just the base folder: "logs/2024-*" asks
        # for "logs/2024-" only.
        first_magic = min(i for i, ch in enumerate(key) if ch in "*?[")
        keys = [k for k in _list_keys(bucket, key[:first_magic], opts, pattern)
                if _visible(k) and _match(segs, k.split("/"))]
    else:
        folder = key if key.endswith("/") or not key else key + "/"
        base = folder.rstrip("/")
        keys = [k for k in _list_keys(bucket, folder, opts, pattern) if _visible(k)]
        if not keys and key:
            if not key.endswith("/") and _head(pattern, opts) is not None:
                # One object: its folder is the base, as for a local file.
                keys, base = ([key] if _visible(key) else []), key.rpartition("/")[0]
            elif not _any_key(bucket, folder, opts, pattern):
                raise InputNotFound(f"{pattern}: no such file or folder")
    if not keys:
        raise InputNotFound(f"{pattern}: matches no files")
    cut = len(base) + 1 if base else 0
    return [(f"s3://{bucket}/{k}", k[cut:]) for k in sorted(keys)]


def _any_key(bucket: str, prefix: str, opts: StorageOptions, uri: str) -> bool:
    c = s3.client(opts)
    page = _s3_call(uri, "list", opts,
                    lambda: c.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1))
    return bool(page.get("KeyCount", 0))


def _list_files_or_missing(pattern: str, opts: StorageOptions) -> list[tuple[str, str]]:
    try:
        return _s3_list_files(pattern, opts)
    except FileNotFoundError as e:  # a missing bucket is a missing input, said once
        raise InputNotFound(str(e)) from None


def listdir_names(uri: str, opts: StorageOptions | None = None) -> list[str]:
    """Names directly under a folder or prefix, sorted; [] when there is nothing there."""
    if not is_s3(uri):
        return sorted(os.listdir(uri)) if os.path.isdir(uri) else []
    o = _opts(opts)
    bucket, key = s3.split(uri)
    prefix = key if key.endswith("/") or not key else key + "/"
    names: set[str] = set()
    try:
        for page in _list_pages(bucket, prefix, o, uri, delimiter="/"):
            names.update(p["Prefix"][len(prefix):].rstrip("/") for p in page.get("CommonPrefixes", ()))
            names.update(obj["Key"][len(prefix):] for obj in page.get("Contents", ()))
    except FileNotFoundError:
        return []
    names.discard("")  # the folder marker itself
    return sorted(names)


# ---------------------------------------------------------------- reading

def _head(uri: str, opts: StorageOptions) -> dict[str, Any] | None:
    bucket, key = s3.split(uri)
    c = s3.client(opts)
    try:
        return _s3_call(uri, "head", opts, lambda: c.head_object(Bucket=bucket, Key=key))
    except FileNotFoundError:
        return None


class _S3RawReader(io.RawIOBase):
    """Seekable reads of one object by ranged GETs; each fill resumes where a broken body left
    off, so a dropped connection costs a retry, not a failed task."""

    def __init__(self, uri: str, opts: StorageOptions):
        super().__init__()
        self.name = uri
        self._opts = opts
        self._bucket, self._key = s3.split(uri)
        head = _head(uri, opts)
        if head is None:
            raise FileNotFoundError(f"{uri}: no such object")
        self.size = int(head["ContentLength"])
        # Pin every range to this version: an object replaced mid-read must fail, not splice.
        self._etag = head.get("ETag", "")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError(22, f"{self.name}: negative seek position {pos}")
        self._pos = pos
        return pos

    def readinto(self, b: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        n = min(len(b), self.size - self._pos)
        if n <= 0:
            return 0
        self._fill(memoryview(b).cast("B")[:n], self._pos)
        self._pos += n
        return n

    def readall(self) -> bytes:
        # RawIOBase.readall would issue one GET per 8 KiB; fetch the rest in one range.
        n = max(0, self.size - self._pos)
        buf = bytearray(n)
        if n:
            self._fill(memoryview(buf), self._pos)
            self._pos += n
        return bytes(buf)

    def _fill(self, out: memoryview, start: int) -> None:
        """Fill out with bytes [start, start+len(out)), retrying from the first missing byte.

        Failures are counted only while no progress is made, so a flaky but moving stream
        finishes and a dead one gives up after max_attempts.
        """
        got, failures = 0, 0
        while got < len(out):
            before = got
            try:
                got = self._get_range(out, start, got)
            except Exception as exc:  # noqa: BLE001 - classified below
                if isinstance(exc, bex.ClientError) and s3.error_code(exc) == "PreconditionFailed":
                    raise StorageError(f"{self.name}: object changed while being read",
                                       code="PreconditionFailed", status=412) from None
                if not s3.is_transient(exc):
                    if isinstance(exc, (bex.ClientError, bex.BotoCoreError)):
                        _raise_s3(self.name, "read", exc, self._opts)
                    raise
                got = max(got, getattr(exc, "progress", got))
                failures = 0 if got > before else failures + 1
                if failures >= self._opts.max_attempts:
                    _raise_s3(self.name, "read", exc, self._opts)
                s3.sleep_backoff(failures)

    def _get_range(self, out: memoryview, start: int, got: int) -> int:
        end = start + len(out) - 1
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key,
                                  "Range": f"bytes={start + got}-{end}"}
        if self._etag:
            kwargs["IfMatch"] = self._etag
        body = s3.client(self._opts).get_object(**kwargs)["Body"]
        try:
            while got < len(out):
                try:
                    chunk = body.read(min(len(out) - got, 1024 * 1024))
                except Exception as exc:
                    exc.progress = got  # type: ignore[attr-defined]  # resume point for _fill
                    raise
                if not chunk:
                    err = bex.IncompleteReadError(actual_bytes=got, expected_bytes=len(out))
                    err.progress = got  # type: ignore[attr-defined]
                    raise err
                out[got:got + len(chunk)] = chunk
                got += len(chunk)
        finally:
            body.close()
        return got


def _raise_s3(uri: str, action: str, exc: BaseException, opts: StorageOptions) -> None:
    if s3.is_not_found(exc):
        raise FileNotFoundError(f"{uri}: no such object") from None
    raise s3.storage_error(uri, action, exc, opts) from None


def open_read(uri: str, opts: StorageOptions | None = None) -> BinaryIO:
    """A binary, seekable reader. Local: the file itself. S3: buffered ranged GETs."""
    if not is_s3(uri):
        return open(uri, "rb")
    return io.BufferedReader(_S3RawReader(uri, _opts(opts)), buffer_size=READ_BUFFER)  # type: ignore[return-value]


def read_bytes(uri: str, opts: StorageOptions | None = None) -> bytes:
    with open_read(uri, opts) as f:
        return f.read()


def size(uri: str, opts: StorageOptions | None = None) -> int:
    if not is_s3(uri):
        return os.path.getsize(uri)
    head = _head(uri, _opts(opts))
    if head is None:
        raise FileNotFoundError(f"{uri}: no such object")
    return int(head["ContentLength"])


def exists(uri: str, opts: StorageOptions | None = None) -> bool:
    """Local: os.path.exists. S3: an object at exactly this key, one HEAD (callers ask about
    files: sidecar captions, shards; a folder's content is listdir_names' question)."""
    if not is_s3(uri):
        return os.path.exists(uri)
    return _head(uri, _opts(opts)) is not None


def download(uri: str, local_path: str, opts: StorageOptions | None = None) -> None:
    """Copy uri to a local file (streamed; the file appears complete or not at all)."""
    os.makedirs(os.path.dirname(os.path.abspath(local_path)), exist_ok=True)
    tmp = f"{local_path}.tmp-{secrets.token_hex(6)}"
    try:
        with open_read(uri, opts) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, COPY_CHUNK)
        os.replace(tmp, local_path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


# ---------------------------------------------------------------- writing

class _Writer(abc.ABC):
    """Write-then-commit: nothing is visible under the final name until close() succeeds.

    Leaving a with-block by an exception aborts; so does being garbage-collected unclosed
    (an abandoned writer must not publish a half-written file).
    """

    name: str

    def __init__(self) -> None:
        self._done = False
        self._written = 0

    @property
    def closed(self) -> bool:
        return self._done

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        """Parts go out as they fill; there is nothing to push early."""

    def write(self, data: Any) -> int:
        if self._done:
            raise ValueError(f"{self.name}: write to a closed writer")
        n = self._write(memoryview(data).cast("B"))
        self._written += n
        return n

    def close(self) -> None:
        if self._done:
            return
        try:
            self._commit()
        except BaseException:
            self._abort_quietly()
            raise
        self._done = True

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._abort()

    def _abort_quietly(self) -> None:
        """Abort while another error is on its way out: that error is the one to report."""
        try:
            self.abort()
        except Exception as exc:  # noqa: BLE001
            log.warning("%s: abort failed (%s); a lifecycle rule must clean up",
                        self.name, type(exc).__name__)

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort_quietly()

    def __del__(self) -> None:
        if not getattr(self, "_done", True):
            self._abort_quietly()

    @abc.abstractmethod
    def _write(self, data: memoryview) -> int:
        """Take the bytes (buffer or upload them); return how many."""

    @abc.abstractmethod
    def _commit(self) -> None:
        """Make the object visible under its final name."""

    @abc.abstractmethod
    def _abort(self) -> None:
        """Drop everything written so far."""


class _LocalWriter(_Writer):
    def __init__(self, path: str):
        super().__init__()
        self.name = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._tmp = f"{path}.tmp-{secrets.token_hex(6)}"
        self._f = open(self._tmp, "wb")

    def _write(self, data: memoryview) -> int:
        return self._f.write(data)

    def _commit(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        os.replace(self._tmp, self.name)
        _fsync_dir(os.path.dirname(os.path.abspath(self.name)))

    def _abort(self) -> None:
        self._f.close()
        _unlink_quietly(self._tmp)


def _fsync_dir(path: str) -> None:
    # Makes the rename durable; some filesystems refuse to open folders, which is fine.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class _S3Writer(_Writer):
    """Multipart upload, one part_size part at a time; small objects take one PutObject."""

    def __init__(self, uri: str, opts: StorageOptions):
        super().__init__()
        self.name = uri
        self._opts = opts
        self._bucket, self._key = s3.split(uri)
        if not self._key or self._key.endswith("/"):
            raise ValueError(f"{uri}: not an object key")
        self._buf = bytearray()
        self._upload_id = ""
        self._parts: list[dict[str, Any]] = []

    def _write(self, data: memoryview) -> int:
        self._buf += data
        while len(self._buf) >= (part := self._part_size()):
            self._upload_part(bytes(self._buf[:part]))
            del self._buf[:part]
        return len(data)

    def _part_size(self) -> int:
        # Doubling every 1000 parts keeps memory at part_size for ordinary files and still
        # fits terabytes into S3's 10,000 parts.
        grown = self._opts.part_size << (len(self._parts) // PARTS_PER_DOUBLING)
        return min(grown, MAX_PART_SIZE)

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        return _s3_call(self.name, action, self._opts, fn)

    def _upload_part(self, data: bytes) -> None:
        c = s3.client(self._opts)
        if not self._upload_id:
            # Started lazily, so small objects never pay for it. If this request's response
            # is lost and retried, the first upload is orphaned under an id we never saw:
            # only a bucket lifecycle rule (AbortIncompleteMultipartUpload) can reap it.
            resp = self._call("create multipart upload",
                              lambda: c.create_multipart_upload(Bucket=self._bucket, Key=self._key))
            self._upload_id = resp["UploadId"]
        number = len(self._parts) + 1
        resp = self._call(f"upload part {number}", lambda: c.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
            PartNumber=number, Body=data))
        self._parts.append({"ETag": resp["ETag"], "PartNumber": number})

    def _commit(self) -> None:
        c = s3.client(self._opts)
        if not self._upload_id:
            data = bytes(self._buf)
            self._call("put", lambda: c.put_object(Bucket=self._bucket, Key=self._key, Body=data))
        else:
            if self._buf:
                self._upload_part(bytes(self._buf))
            self._complete()
        self._buf = bytearray()

    def _complete(self) -> None:
        c = s3.client(self._opts)

        def complete() -> None:
            try:
                c.complete_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts})
            except bex.ClientError as exc:
                # A retry (ours or botocore's) after a lost response finds the upload already
                # completed: that is success if the object there is the one we assembled.
                if s3.error_code(exc) == "NoSuchUpload" and self._landed():
                    return
                raise

        self._call("complete multipart upload", complete)
        self._upload_id = ""

    def _landed(self) -> bool:
        head = _head(self.name, self._opts)
        if head is None or int(head["ContentLength"]) != self._written:
            return False
        expected = _multipart_etag([p["ETag"] for p in self._parts])
        return expected is None or head.get("ETag", "").strip('"') == expected

    def _abort(self) -> None:
        self._buf = bytearray()
        if not self._upload_id:
            return
        c = s3.client(self._opts)
        upload_id, self._upload_id = self._upload_id, ""
        try:
            self._call("abort multipart upload", lambda: c.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=upload_id))
        except StorageError as exc:
            if exc.code != "NoSuchUpload":  # already gone: aborted, or reaped by a lifecycle rule
                raise


def _multipart_etag(part_etags: list[str]) -> str | None:
    """S3's ETag for an object assembled from these parts: md5 of the parts' md5s, "-N".

    None when the part ETags are not plain MD5s (SSE-KMS, some S3-compatible servers).
    """
    digests = []
    for etag in part_etags:
        tag = etag.strip('"')
        if len(tag) != 32 or any(ch not in "0123456789abcdef" for ch in tag.lower()):
            return None
        digests.append(bytes.fromhex(tag))
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def open_write(uri: str, opts: StorageOptions | None = None) -> _Writer:
    """A writer whose close() publishes atomically and whose abort() leaves no trace.

    Use as a context manager: an exception inside the block aborts.
    """
    if not is_s3(uri):
        return _LocalWriter(uri)
    return _S3Writer(uri, _opts(opts))


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
    o = _opts(opts) if is_s3(uri) else None
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


# ---------------------------------------------------------------- deleting

def delete_prefix(uri: str, opts: StorageOptions | None = None) -> None:
    """Remove a file or folder, or every key at or under an S3 prefix. Missing is fine."""
    if not is_s3(uri):
        if os.path.isdir(uri) and not os.path.islink(uri):
            shutil.rmtree(uri)
        elif os.path.lexists(uri):
            os.unlink(uri)
        return
    o = _opts(opts)
    bucket, key = s3.split(uri)
    if not key.strip("/"):
        raise ValueError(f"{uri}: refusing to delete a whole bucket")
    folder = key if key.endswith("/") else key + "/"
    try:
        # "out/run1" must not take "out/run10/..." with it: keep the key itself and its folder.
        keys = [k for k in _list_keys(bucket, key, o, uri) if k == key or k.startswith(folder)]
    except FileNotFoundError:
        return
    c = s3.client(o)
    for i in range(0, len(keys), DELETE_BATCH):
        batch = {"Objects": [{"Key": k} for k in keys[i:i + DELETE_BATCH]], "Quiet": True}
        resp = _s3_call(uri, "delete", o, lambda: c.delete_objects(Bucket=bucket, Delete=batch))
        errors = [e for e in resp.get("Errors", ()) if e.get("Code") != "NoSuchKey"]
        if errors:
            first = errors[0]
            raise StorageError(s3.scrub(
                f"{uri}: delete failed for {len(errors)} keys, e.g. s3://{bucket}/{first.get('Key')}: "
                f"{first.get('Code')}: {first.get('Message')}", o), code=str(first.get("Code", "")))
