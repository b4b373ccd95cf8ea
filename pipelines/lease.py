"""One run per output (docs/cluster.md, "One run per output"): a run holds a lease on its
output, and on its work folder when that lies elsewhere, from before it touches anything
to its end.

The lease is a small JSON object, `.earlyfuse-lease`, naming the holder (run id, host, pid,
start) with a heartbeat refreshed every `stale_after / 10` seconds by a thread.

- Local (or any POSIX folder): the lease file is read and written under an advisory lock
  (`flock`) on `.earlyfuse-lease.lock`, so check-and-take is one step for every run on the
  host, and the file is replaced atomically (`os.replace`).
- S3: the lease object is created with `If-None-Match: *` and replaced or deleted with
  `If-Match: <its ETag>` (S3's conditional writes; moto serves them too), so of two runs
  exactly one write succeeds. A store that does not enforce them is caught by reading the
  lease back a moment after taking it.

A lease is taken over, and the run says so, when its holder is gone: a pid no longer
alive on this host, or a heartbeat older than `stale_after` seconds. `force` takes it
whatever the holder. `stats` and `show` only read and take no lease.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass

from pipelines.io.paths import is_s3, join, split

LEASE = ".earlyfuse-lease"


class LeaseHeld(RuntimeError):
    """Another run holds the output; the message is one line for the user."""


@dataclass
class Holder:
    run_id: str
    host: str
    pid: int
    started: float
    heartbeat: float

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started))
        return (f"pid {self.pid} on {self.host}, running since {since}, last heartbeat "
                f"{max(0, time.time() - self.heartbeat):.0f} s ago")


def _parse(data: bytes) -> Holder | None:
    try:
        return Holder(**json.loads(data))
    except (ValueError, TypeError):
        return None  # a torn or foreign file: no live holder can be named from it


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gone(holder: Holder | None, stale_after: float) -> str:
    """Why the holder no longer holds the lease ('' while it does)."""
    if holder is None:
        return "an unreadable lease"
    if holder.host == socket.gethostname() and not _pid_alive(holder.pid):
        return f"its process is gone ({holder.describe()})"
    if time.time() - holder.heartbeat > stale_after:
        return f"its heartbeat stopped ({holder.describe()})"
    return ""


class _LocalStore:
    def __init__(self, folder: str):
        self.folder = folder
        self.path = os.path.join(folder, LEASE)

    @contextlib.contextmanager
    def locked(self):
        import fcntl

        os.makedirs(self.folder, exist_ok=True)
        with open(self.path + ".lock", "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def read(self) -> tuple[bytes | None, str]:
        try:
            with open(self.path, "rb") as f:
                return f.read(), ""
        except FileNotFoundError:
            return None, ""

    def create(self, data: bytes) -> str | None:
        return self.replace(data, "")

    def replace(self, data: bytes, tag: str) -> str | None:
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.path)
        return ""

    def delete(self, tag: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


class _S3Store:
    def __init__(self, prefix: str, opts):
        from pipelines.io import s3

        self.bucket, key = split(join(prefix, LEASE))
        self.key, self.opts, self.s3 = key, opts, s3

    @contextlib.contextmanager
    def locked(self):
        yield  # the conditional writes are the lock

    def _call(self, fn):
        return self.s3.retrying(fn, self.opts, f"s3://{self.bucket}/{self.key}")

    def read(self) -> tuple[bytes | None, str]:
        client = self.s3.client(self.opts)
        try:
            r = self._call(lambda: client.get_object(Bucket=self.bucket, Key=self.key))
        except Exception as e:
            if self.s3.is_not_found(e):
                return None, ""
            raise
        return r["Body"].read(), r["ETag"]

    def _put(self, data: bytes, **cond) -> str | None:
        client = self.s3.client(self.opts)
        try:
            r = self._call(lambda: client.put_object(Bucket=self.bucket, Key=self.key, Body=data, **cond))
        except Exception as e:
            if self.s3.error_status(e) in (409, 412):  # another run's write came first
                return None
            raise
        return r["ETag"]

    def create(self, data: bytes) -> str | None:
        return self._put(data, IfNoneMatch="*")

    def replace(self, data: bytes, tag: str) -> str | None:
        return self._put(data, IfMatch=tag) if tag else self.create(data)

    def delete(self, tag: str) -> None:
        client = self.s3.client(self.opts)
        with contextlib.suppress(Exception):
            client.delete_object(Bucket=self.bucket, Key=self.key, **({"IfMatch": tag} if tag else {}))


class Lease:
    """`with Lease(uri, opts) as lease:` holds `uri` for the block; `lease.note` says whose
    lease was taken over, if any."""

    def __init__(self, uri: str, opts=None, stale_after: float = 300.0, force: bool = False,
                 settle: float | None = None):
        self.uri, self.stale_after, self.force = uri, stale_after, force
        self.store = _S3Store(uri, opts) if is_s3(uri) else _LocalStore(uri)
        self.settle = (1.0 if is_s3(uri) else 0.0) if settle is None else settle
        now = time.time()
        self.me = Holder(uuid.uuid4().hex, socket.gethostname(), os.getpid(), now, now)
        self.note = ""
        self.lost = False
        self._tag = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _data(self) -> bytes:
        return json.dumps(asdict(self.me), sort_keys=True).encode()

    def acquire(self) -> Lease:
        for _ in range(5):
            with self.store.locked():
                data, tag = self.store.read()
                if data is None:
                    new = self.store.create(self._data())
                elif (holder := _parse(data)) is not None and holder.run_id == self.me.run_id:
                    new = tag  # our own write, its answer lost on the way (a retried request)
                else:
                    why = "forced (--force)" if self.force else gone(holder, self.stale_after)
                    if not why:
                        raise LeaseHeld(f"{self.uri} is held by another run: {holder.describe()}; wait for it "
                                        "to finish, or pass --force if it is gone")
                    new = self.store.replace(self._data(), tag)
                    if new is not None:
                        self.note = f"took over the lease of {self.uri}: {why}"
            if new is None:
                continue  # another run wrote first: look again
            self._tag = new
            if self.settle:
                time.sleep(self.settle)
                data, self._tag = self.store.read()
                holder = _parse(data) if data else None
                if holder is None or holder.run_id != self.me.run_id:
                    raise LeaseHeld(f"{self.uri} was taken by another run at the same moment"
                                    + (f": {holder.describe()}" if holder else ""))
            self._thread = threading.Thread(target=self._beat, name="earlyfuse-lease", daemon=True)
            self._thread.start()
            return self
        raise LeaseHeld(f"{self.uri}: could not take the lease (other runs kept writing it)")

    def _beat(self) -> None:
        while not self._stop.wait(self.stale_after / 10):
            with self.store.locked():
                data, tag = self.store.read()
                holder = _parse(data) if data else None
                if holder is None or holder.run_id != self.me.run_id:
                    self.lost = True  # forced out: the other run owns the output now
                    return
                self.me.heartbeat = time.time()
                new = self.store.replace(self._data(), tag or self._tag)
                if new is None:
                    self.lost = True
                    return
                self._tag = new

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.store.locked():
            data, tag = self.store.read()
            holder = _parse(data) if data else None
            if holder is not None and holder.run_id == self.me.run_id:
                self.store.delete(tag)

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
