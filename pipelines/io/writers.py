"""Write-then-commit writers: the base every storage writer follows, and the local one."""

from __future__ import annotations

import abc
import logging
import os
import secrets
from typing import Any

log = logging.getLogger(__name__)


class Writer(abc.ABC):
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

    def flush(self) -> None:  # noqa: B027 - a no-op by design, not an abstract method
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

    def __enter__(self) -> Writer:
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


class LocalWriter(Writer):
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
        fsync_dir(os.path.dirname(os.path.abspath(self.name)))

    def _abort(self) -> None:
        self._f.close()
        unlink_quietly(self._tmp)


def fsync_dir(path: str) -> None:
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


def unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
