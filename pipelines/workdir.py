"""The run's work folder: a local path, or any Hadoop URI the cluster can write (`hdfs://`,
`s3a://`, `gs://`, `abfs://`, `file://`; docs/deploy.md).

Spark writes and reads the Parquet checkpoints at the URI itself. The driver's small files
(run.json, the curation and dedup summaries, failure logs) and its folder operations
(remove, rename, exists) go through the same file system: the os module for a plain path,
Hadoop's FileSystem API through the driver's JVM for a URI, so whatever connector and
credentials the cluster has configured apply, and nothing needs a second client (fsspec
would need its own per scheme, configured apart from Spark's).
"""

from __future__ import annotations

import os
import re
import shutil

from pipelines.config import ConfigError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class WorkDirError(ConfigError):
    """The work folder cannot be opened or written; the message is one line."""


def is_uri(path: str) -> bool:
    return bool(_SCHEME.match(path))


def work_for_workers(work: str | None) -> str | None:
    """The work folder as Python workers reach it (a local path or s3://): a Hadoop URI's
    `s3a://` is S3 and `file://` a path; HDFS, GCS or Azure are the JVM's alone, so the
    fetch cache then needs `fetch.cache_dir` and payloads stay in the records."""
    if not work:
        return None
    work = work.rstrip("/")
    if work.startswith(("s3a://", "s3n://")):
        return "s3://" + work.split("://", 1)[1]
    if work.startswith("file://"):
        return work[len("file://"):]
    return None if "://" in work and not work.startswith("s3://") else work


class WorkDir:
    def __init__(self, root: str):
        self.root = root.rstrip("/") if is_uri(root) else root
        self.uri = is_uri(root)
        self._fs = self._jvm = None

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts]) if self.uri else os.path.join(self.root, *parts)

    def bind(self, spark) -> None:
        """Open a URI's file system through the driver's JVM and check that it takes a
        write, so an unknown scheme or a missing connector is found at the start."""
        if not self.uri:
            return
        from py4j.protocol import Py4JJavaError

        sc = spark.sparkContext
        self._jvm = sc._jvm
        try:
            self._fs = self._jvm.org.apache.hadoop.fs.Path(self.root).getFileSystem(sc._jsc.hadoopConfiguration())
            probe = self.path(".write-test")
            self.write_bytes(probe, b"ok")
            self.remove(probe)
        except Py4JJavaError as e:
            java = e.java_exception
            raise WorkDirError(f"run.work_dir {self.root}: the cluster cannot use it ({java.getClass().getName()}: "
                               f"{java.getMessage()}); give a URI whose file system the cluster has (hdfs://, s3a://, "
                               "gs://, abfs://, file://) with its connector and credentials") from None

    def _p(self, path: str):
        return self._jvm.org.apache.hadoop.fs.Path(path)

    def _need_fs(self) -> None:
        if self._fs is None:
            raise RuntimeError(f"work folder {self.root} used before its file system was opened (bind)")

    def exists(self, path: str) -> bool:
        if not self.uri:
            return os.path.exists(path)
        self._need_fs()
        return bool(self._fs.exists(self._p(path)))

    def remove(self, path: str) -> None:
        """A file or a whole folder; nothing if it is not there."""
        if not self.uri:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.exists(path):
                os.remove(path)
            return
        self._need_fs()
        self._fs.delete(self._p(path), True)

    def makedirs(self, path: str) -> None:
        if not self.uri:
            os.makedirs(path, exist_ok=True)
            return
        self._need_fs()
        self._fs.mkdirs(self._p(path))

    def rename(self, src: str, dst: str) -> None:
        """Replace `dst` by `src` (a folder: a checkpoint taking its final name)."""
        if not self.uri:
            shutil.rmtree(dst, ignore_errors=True)
            os.replace(src, dst)
            return
        self._need_fs()
        self._fs.delete(self._p(dst), True)
        if not self._fs.rename(self._p(src), self._p(dst)):
            raise OSError(f"could not rename {src} to {dst}")

    def read_bytes(self, path: str) -> bytes | None:
        """The file's bytes, or None if it is not there."""
        if not self.uri:
            try:
                with open(path, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return None
        self._need_fs()
        p = self._p(path)
        if not self._fs.exists(p):
            return None
        stream = self._fs.open(p)
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def write_bytes(self, path: str, data: bytes) -> None:
        """Written whole under a temporary name, then renamed: never seen half written."""
        if not self.uri:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            tmp = f"{path}.tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            return
        self._need_fs()
        tmp = self._p(f"{path}.tmp")
        out = self._fs.create(tmp, True)
        try:
            out.write(bytearray(data))
        finally:
            out.close()
        self._fs.delete(self._p(path), False)
        if not self._fs.rename(tmp, self._p(path)):
            raise OSError(f"could not rename {path}.tmp to {path}")

    def copy_to_local(self, src: str, dst: str) -> None:
        """A folder (Spark's output) copied to a local folder, e.g. to publish it to S3."""
        shutil.rmtree(dst, ignore_errors=True)
        if not self.uri:
            shutil.copytree(src, dst)
            return
        self._need_fs()
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        self._fs.copyToLocalFile(False, self._p(src), self._p(os.path.abspath(dst)), True)
