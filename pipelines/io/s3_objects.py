"""S3 objects through boto3: listing (with glob patterns), ranged reads, multipart writes,
deletes. storage.py dispatches here for s3:// URIs."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import botocore.exceptions as bex

from pipelines.io import s3
from pipelines.io.options import MAX_PART_SIZE, InputNotFound, StorageError, StorageOptions
from pipelines.io.paths import has_magic, match, split, visible
from pipelines.io.writers import Writer

T = TypeVar("T")

PARTS_PER_DOUBLING = 1000          # S3 allows 10,000 parts: grow them so big objects fit
DELETE_BATCH = 1000                # DeleteObjects' limit


def list_pages(bucket: str, prefix: str, opts: StorageOptions, uri: str,
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
        page = s3.call(uri, "list", opts, lambda kw=kwargs: c.list_objects_v2(**kw))
        yield page
        token = page.get("NextContinuationToken", "") if page.get("IsTruncated") else ""
        if not token:
            return


def list_keys(bucket: str, prefix: str, opts: StorageOptions, uri: str) -> Iterator[str]:
    for page in list_pages(bucket, prefix, opts, uri):
        for obj in page.get("Contents", ()):
            yield obj["Key"]


def list_files(pattern: str, opts: StorageOptions, hidden: list[str] | None = None) -> list[tuple[str, str]]:
    bucket, key = split(pattern)
    if has_magic(key):
        segs = key.split("/")
        literal = next(i for i, s in enumerate(segs) if has_magic(s))
        base = "/".join(segs[:literal])
        # List from the longest literal prefix, not just the base folder: "logs/2024-*" asks
        # for "logs/2024-" only.
        first_magic = min(i for i, ch in enumerate(key) if ch in "*?[")
        keys = [k for k in list_keys(bucket, key[:first_magic], opts, pattern)
                if visible(k) and match(segs, k.split("/"))]
    else:
        folder = key if key.endswith("/") or not key else key + "/"
        base = folder.rstrip("/")
        listed = list(list_keys(bucket, folder, opts, pattern))
        keys = [k for k in listed if visible(k)]
        if hidden is not None:
            hidden += [f"s3://{bucket}/{k}" for k in listed if not visible(k) and not k.endswith("/")]
        if not keys and key:
            if not key.endswith("/") and s3.head(pattern, opts) is not None:
                # One object: its folder is the base, as for a local file.
                keys, base = ([key] if visible(key) else []), key.rpartition("/")[0]
            elif not any_key(bucket, folder, opts, pattern):
                raise InputNotFound(f"{pattern}: no such file or folder")
    if not keys:
        raise InputNotFound(f"{pattern}: matches no files")
    cut = len(base) + 1 if base else 0
    return [(f"s3://{bucket}/{k}", k[cut:]) for k in sorted(keys)]


def any_key(bucket: str, prefix: str, opts: StorageOptions, uri: str) -> bool:
    c = s3.client(opts)
    page = s3.call(uri, "list", opts,
                    lambda: c.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1))
    return bool(page.get("KeyCount", 0))


def list_files_or_missing(pattern: str, opts: StorageOptions, hidden: list[str] | None = None
                          ) -> list[tuple[str, str]]:
    try:
        return list_files(pattern, opts, hidden)
    except FileNotFoundError as e:  # a missing bucket is a missing input, said once
        raise InputNotFound(str(e)) from None


def listdir_names(uri: str, o: StorageOptions) -> list[str]:
    """Names directly under a prefix, sorted; [] when there is nothing there."""
    bucket, key = split(uri)
    prefix = key if key.endswith("/") or not key else key + "/"
    names: set[str] = set()
    try:
        for page in list_pages(bucket, prefix, o, uri, delimiter="/"):
            names.update(p["Prefix"][len(prefix):].rstrip("/") for p in page.get("CommonPrefixes", ()))
            names.update(obj["Key"][len(prefix):] for obj in page.get("Contents", ()))
    except FileNotFoundError:
        return []
    names.discard("")  # the folder marker itself
    return sorted(names)


class S3RawReader(io.RawIOBase):
    """Seekable reads of one object by ranged GETs; each fill resumes where a broken body left
    off, so a dropped connection costs a retry, not a failed task."""

    def __init__(self, uri: str, opts: StorageOptions):
        super().__init__()
        self.name = uri
        self._opts = opts
        self._bucket, self._key = split(uri)
        head = s3.head(uri, opts)
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
            except Exception as exc:
                if isinstance(exc, bex.ClientError) and s3.error_code(exc) == "PreconditionFailed":
                    raise StorageError(f"{self.name}: object changed while being read",
                                       code="PreconditionFailed", status=412) from None
                if not s3.is_transient(exc):
                    if isinstance(exc, (bex.ClientError, bex.BotoCoreError)):
                        s3.raise_error(self.name, "read", exc, self._opts)
                    raise
                got = max(got, getattr(exc, "progress", got))
                failures = 0 if got > before else failures + 1
                if failures >= self._opts.max_attempts:
                    s3.raise_error(self.name, "read", exc, self._opts)
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


class S3Writer(Writer):
    """Multipart upload, one part_size part at a time; small objects take one PutObject."""

    def __init__(self, uri: str, opts: StorageOptions):
        super().__init__()
        self.name = uri
        self._opts = opts
        self._bucket, self._key = split(uri)
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
        return s3.call(self.name, action, self._opts, fn)

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
        head = s3.head(self.name, self._opts)
        if head is None or int(head["ContentLength"]) != self._written:
            return False
        expected = multipart_etag([p["ETag"] for p in self._parts])
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


def multipart_etag(part_etags: list[str]) -> str | None:
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


def delete_prefix(uri: str, o: StorageOptions) -> None:
    """Remove every key at or under an S3 prefix. Missing is fine."""
    bucket, key = split(uri)
    if not key.strip("/"):
        raise ValueError(f"{uri}: refusing to delete a whole bucket")
    folder = key if key.endswith("/") else key + "/"
    try:
        # "out/run1" must not take "out/run10/..." with it: keep the key itself and its folder.
        keys = [k for k in list_keys(bucket, key, o, uri) if k == key or k.startswith(folder)]
    except FileNotFoundError:
        return
    c = s3.client(o)
    for i in range(0, len(keys), DELETE_BATCH):
        batch = {"Objects": [{"Key": k} for k in keys[i:i + DELETE_BATCH]], "Quiet": True}
        resp = s3.call(uri, "delete", o, lambda b=batch: c.delete_objects(Bucket=bucket, Delete=b))
        errors = [e for e in resp.get("Errors", ()) if e.get("Code") != "NoSuchKey"]
        if errors:
            first = errors[0]
            raise StorageError(s3.scrub(
                f"{uri}: delete failed for {len(errors)} keys, e.g. s3://{bucket}/{first.get('Key')}: "
                f"{first.get('Code')}: {first.get('Message')}", o), code=str(first.get("Code", "")))
