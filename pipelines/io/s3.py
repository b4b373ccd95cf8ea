"""boto3 plumbing: cached clients, retries botocore does not do, safe errors.

Nothing here logs or formats credentials: error messages are built from the operation, the
error code and the server's message, and anything that looks like the process's own
credentials is scrubbed out of them (a proxy or a misbehaving server can echo headers back).
"""

from __future__ import annotations

import http.client
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
import botocore.exceptions as bex
import urllib3.exceptions
from botocore.config import Config

from pipelines.io.options import StorageError, StorageOptions
from pipelines.io.paths import split

log = logging.getLogger(__name__)

T = TypeVar("T")

# Our own backoff (on top of botocore's): full jitter, delay = U(0, min(MAX, BASE * 2**n)).
BACKOFF_BASE = 0.2
BACKOFF_MAX = 20.0

CONNECT_TIMEOUT = 10
READ_TIMEOUT = 120

# Error codes worth another attempt: throttling and server-side trouble.
RETRY_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "RequestThrottled", "RequestTimeout", "InternalError",
    "ServiceUnavailable", "500", "502", "503", "504",
})
NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})

# Failures of the connection or of a response body: botocore retries some of these while
# sending, but a body that breaks after the headers arrived surfaces raw, so we retry it.
TRANSIENT_EXCEPTIONS: tuple[type[BaseException], ...] = (
    bex.ConnectionError,          # EndpointConnectionError, ProxyConnectionError, ...
    bex.HTTPClientError,          # ConnectionClosedError, ReadTimeoutError, ResponseStreamingError
    bex.IncompleteReadError,
    urllib3.exceptions.HTTPError,  # ProtocolError ("Connection broken: IncompleteRead")
    http.client.HTTPException,     # IncompleteRead, RemoteDisconnected
    ConnectionError,               # reset/aborted/refused sockets
    socket.timeout,
)


_lock = threading.Lock()
_clients: dict[tuple[int, StorageOptions], Any] = {}
_sessions: dict[tuple[int, StorageOptions], boto3.Session] = {}


def client(opts: StorageOptions):
    """One S3 client per process and options (clients are thread-safe; building one is slow).

    Keyed by pid too: Spark forks Python workers, and a client's connection pool must not be
    shared across a fork.
    """
    key = (os.getpid(), opts)
    c = _clients.get(key)
    if c is not None:
        return c
    with _lock:  # boto3 sessions are not thread-safe while creating clients
        c = _clients.get(key)
        if c is None:
            session = boto3.Session(profile_name=opts.profile or None)
            c = session.client("s3", config=_config(opts), endpoint_url=opts.endpoint_url or None,
                               region_name=_region(opts, session))
            _sessions[key] = session
            _clients[key] = c
    return c


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials)."""
    with _lock:
        _clients.clear()
        _sessions.clear()


def _region(opts: StorageOptions, session: boto3.Session) -> str | None:
    # S3-compatible servers (MinIO, Ceph, moto) sign as us-east-1 unless told otherwise.
    if opts.region:
        return opts.region
    if opts.endpoint_url and not session.region_name:
        return "us-east-1"
    return None


def _config(opts: StorageOptions) -> Config:
    s3: dict[str, Any] = {}
    checksums: dict[str, str] = {}
    if opts.endpoint_url:
        # Self-hosted servers rarely have wildcard DNS for virtual-hosted buckets.
        s3["addressing_style"] = "path"
        # botocore >= 1.36 adds CRC checksums to every upload by default, which several
        # S3-compatible servers (older MinIO, Ceph, R2) reject; send them only when required.
        checksums = {"request_checksum_calculation": "when_required",
                     "response_checksum_validation": "when_required"}
    return Config(
        retries={"max_attempts": opts.max_attempts, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        tcp_keepalive=True,
        max_pool_connections=16,
        s3=s3 or None,
        **checksums,
    )


def error_code(exc: BaseException) -> str:
    if isinstance(exc, bex.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def error_status(exc: BaseException) -> int:
    if isinstance(exc, bex.ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0


def is_not_found(exc: BaseException) -> bool:
    # By code, not status: NoSuchUpload is a 404 too, and is no missing object.
    return error_code(exc) in NOT_FOUND_CODES


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, bex.ClientError):
        return error_code(exc) in RETRY_CODES or error_status(exc) >= 500
    return isinstance(exc, TRANSIENT_EXCEPTIONS)


def backoff_delay(attempt: int) -> float:
    """Full-jitter exponential backoff for the attempt-th retry (0-based)."""
    return random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt))


def sleep_backoff(attempt: int) -> None:
    time.sleep(backoff_delay(attempt))


def retrying(fn: Callable[[], T], opts: StorageOptions, what: str = "") -> T:
    """Call fn until it succeeds, retrying transient failures up to opts.max_attempts times.

    botocore retries requests it could not send or that came back 5xx/throttled; this covers
    what it lets through: bodies that break mid-read, and its own retries running out during
    a long brownout.
    """
    attempts = max(1, opts.max_attempts)
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc) or attempt == attempts - 1:
                raise
            delay = backoff_delay(attempt)
            # The exception's type only: its text may quote request headers.
            log.debug("retrying %s after %s (attempt %d, %.2fs)", what, type(exc).__name__,
                      attempt + 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _secrets(opts: StorageOptions) -> list[str]:
    session = _sessions.get((os.getpid(), opts))
    try:
        creds = (session or boto3.Session(profile_name=opts.profile or None)).get_credentials()
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except Exception:  # noqa: BLE001 - scrubbing must never be the thing that fails
        return []
    if frozen is None:
        return []
    return [s for s in (frozen.access_key, frozen.secret_key, frozen.token) if s]


def scrub(text: str, opts: StorageOptions) -> str:
    for secret in _secrets(opts):
        text = text.replace(secret, "***")
    return text


def storage_error(uri: str, action: str, exc: BaseException, opts: StorageOptions) -> StorageError:
    """A StorageError for a failed operation, with a message safe to log."""
    code, status = error_code(exc), error_status(exc)
    if isinstance(exc, bex.ClientError):
        message = str(exc.response.get("Error", {}).get("Message", "")) or code
        detail = f"{code} (HTTP {status}): {message}" if status else f"{code}: {message}"
    else:
        detail = f"{type(exc).__name__}: {exc}"
    return StorageError(scrub(f"{uri}: {action} failed: {detail}", opts), code=code, status=status)


def call(uri: str, action: str, opts: StorageOptions, fn: Callable[[], T]) -> T:
    """Run fn with retries; turn what is left into FileNotFoundError or a scrubbed StorageError.

    `from None`: the original botocore exception's text may quote request details.
    """
    try:
        return retrying(fn, opts, action)
    except (bex.ClientError, bex.BotoCoreError, *TRANSIENT_EXCEPTIONS) as exc:
        if error_code(exc) == "NoSuchBucket":
            raise FileNotFoundError(f"{uri}: no such bucket") from None
        if is_not_found(exc):
            raise FileNotFoundError(f"{uri}: no such object") from None
        raise storage_error(uri, action, exc, opts) from None


def raise_error(uri: str, action: str, exc: BaseException, opts: StorageOptions) -> None:
    if is_not_found(exc):
        raise FileNotFoundError(f"{uri}: no such object") from None
    raise storage_error(uri, action, exc, opts) from None


def head(uri: str, opts: StorageOptions) -> dict[str, Any] | None:
    bucket, key = split(uri)
    c = client(opts)
    try:
        return call(uri, "head", opts, lambda: c.head_object(Bucket=bucket, Key=key))
    except FileNotFoundError:
        return None
