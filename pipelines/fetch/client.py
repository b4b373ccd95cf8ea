"""The image fetcher that runs in a Python worker: many requests in flight (threads, as
img2dataset does it: waiting on the network releases the GIL), a per-host limit and delay,
timeouts, retries with backoff that honour Retry-After, a byte cap enforced while reading,
opt-out checked before the body, and the address check at every redirect hop.

urllib3, not a higher-level client: it is already installed (boto3 depends on it), its pools
can be pointed at the address the check approved while TLS and the Host header still name
the host (so a name cannot resolve differently between check and connection), and it leaves
redirects to us, so each hop is checked. Each outcome is a `FetchResult` whose `reason` is one
of REASONS ("ok" for an image). The settings are the config's `[fetch]` section
(pipelines/config/sections.py, FetchConfig)."""

from __future__ import annotations

import email.utils
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from pipelines.config.sections import FetchConfig
from pipelines.fetch.addresses import AddressRefused, Resolver, Target, check_url, system_resolver
from pipelines.fetch.optout import ROBOTS_MAX_BYTES, RobotsRules, header_opt_out

REASONS = ("ok", "http_4xx", "http_5xx", "timeout", "too_large", "not_image", "opt_out_header",
           "opt_out_robots", "private_address", "bad_url", "too_many_redirects", "dns_error",
           "connect_error", "error")
# Outcomes worth another attempt: the server or the network may answer next time.
_RETRYABLE = {"http_5xx", "timeout", "connect_error"}
_REDIRECTS = {301, 302, 303, 307, 308}
_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream"}
_CHUNK = 64 * 1024


@dataclass
class FetchResult:
    url: str
    reason: str
    body: bytes | None = None
    format: str = ""                 # the image format its first bytes show
    status: int | None = None
    final_url: str = ""
    attempts: int = 0
    detail: str = ""


class _Outcome(Exception):
    """Ends an attempt with a reason (and, for 429/503, the server's Retry-After)."""

    def __init__(self, reason: str, detail: str = "", status: int | None = None,
                 retry_after: float | None = None, final: bool = False):
        super().__init__(detail)
        self.reason, self.detail, self.status, self.retry_after = reason, detail, status, retry_after
        self.final = final  # not worth retrying whatever the reason (a cached robots.txt verdict)


def image_format(head: bytes) -> str | None:
    """The image format these first bytes begin, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1"):
        return "heif"
    return None


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class _Hosts:
    """At most `per_host` requests to a host at a time, their starts `delay` apart."""

    def __init__(self, per_host: int, delay: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        self.per_host, self.delay, self.clock, self.sleep = per_host, delay, clock, sleep
        self.lock = threading.Lock()
        self.slots: dict[str, threading.BoundedSemaphore] = {}
        self.next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self.lock:
            sem = self.slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        with sem:
            if self.delay:
                with self.lock:
                    now = self.clock()
                    start = max(now, self.next_start.get(host, now))
                    self.next_start[host] = start + self.delay
                if start > now:
                    self.sleep(start - now)
            yield


class Fetcher:
    """One per task: its connection pools, host slots and robots.txt rules are shared by the
    requests it runs. Use as a context manager, or call close()."""

    def __init__(self, options: FetchConfig | None = None, resolver: Resolver = system_resolver,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        options = options or FetchConfig()
        self.options, self.resolver, self.clock, self.sleep = options, resolver, clock, sleep
        self.hosts = _Hosts(options.per_host, options.host_delay, clock, sleep)
        self.robots = RobotsRules(self._get_robots, options.agent_token)
        self.pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="fetch")
        self.timeout = urllib3.Timeout(connect=options.connect_timeout, read=options.read_timeout)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for pool in self.pools.values():
            pool.close()

    def fetch_all(self, urls: Sequence[str]) -> list[FetchResult]:
        """Every URL fetched, results in the order given."""
        return list(self.pool.map(self.fetch, urls))

    def fetch(self, url: str) -> FetchResult:
        o = self.options
        attempts = 0
        while True:
            attempts += 1
            try:
                result = self._attempt(url)
                result.attempts = attempts
                return result
            except _Outcome as out:
                retryable = not out.final and (out.reason in _RETRYABLE or out.status == 429)
                wait = out.retry_after if out.retry_after is not None else o.backoff * 2 ** (attempts - 1)
                if not retryable or attempts > o.retries or wait > o.max_retry_after:
                    return FetchResult(url, out.reason, status=out.status, attempts=attempts, detail=out.detail)
                self.sleep(wait)
            except (ValueError, UnicodeError) as exc:  # a URL or header no parser accepts
                return FetchResult(url, "bad_url", attempts=attempts, detail=str(exc))
            except Exception as exc:  # noqa: BLE001 - one URL nobody foresaw must not fail the task
                print(f"earlyfuse fetch: {url}: {exc!r}", file=sys.stderr)
                return FetchResult(url, "error", attempts=attempts, detail=repr(exc))

    def _attempt(self, url: str) -> FetchResult:
        o = self.options
        current = url
        for _ in range(o.max_redirects + 1):
            target = self._check(current)
            if o.robots and (why := self.robots.check(current)) is not None:
                detail = f"robots.txt disallows {current}" if why == "opt_out_robots" else "robots.txt unreachable"
                raise _Outcome(why, detail, final=True)
            with self.hosts.slot(target.host):
                deadline = self.clock() + o.total_timeout
                resp = self._send(target, current)
                done = False
                try:
                    if resp.status in _REDIRECTS:
                        location = resp.headers.get("Location")
                        if not location:
                            raise _Outcome("bad_url", f"{resp.status} without Location", resp.status)
                        current = urljoin(current, location.strip())
                        continue
                    self._check_response(resp)
                    body = self._read(resp, o.max_bytes, deadline)
                    done = True
                finally:
                    # An unread body is not drained (it could be gigabytes): its connection goes.
                    if done:
                        resp.release_conn()
                    else:
                        resp.close()
            fmt = image_format(body[:16])
            if fmt is None:
                raise _Outcome("not_image", "the body is no image format", resp.status)
            return FetchResult(url, "ok", body=body, format=fmt, status=resp.status, final_url=current)
        raise _Outcome("too_many_redirects", f"more than {o.max_redirects} redirects")

    def _check(self, url: str) -> Target:
        o = self.options
        try:
            return check_url(url, o.allow_private, self.resolver, o.allow_networks)
        except AddressRefused as refused:
            raise _Outcome(refused.reason, refused.detail) from None

    def _check_response(self, resp) -> None:
        """Status, opt-out header and content type, all before the body is read."""
        status = resp.status
        if status >= 400 or status < 200:
            after = retry_after_seconds(resp.headers.get("Retry-After"), time.time())
            raise _Outcome("http_5xx" if status >= 500 else "http_4xx", f"HTTP {status}", status, after)
        o = self.options
        directive = header_opt_out(resp.headers.getlist("X-Robots-Tag"), o.agent_token, o.opt_out_directives)
        if directive is not None:
            raise _Outcome("opt_out_header", f"X-Robots-Tag {directive}", status)
        ctype = (resp.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if not (ctype.startswith("image/") or ctype in _GENERIC_TYPES):
            raise _Outcome("not_image", f"Content-Type {ctype}", status)
        length = resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > o.max_bytes:
            raise _Outcome("too_large", f"Content-Length {length} > {o.max_bytes}", status)

    def _read(self, resp, cap: int, deadline: float, truncate: bool = False) -> bytes:
        """The body, never more than cap + 1 bytes held, within the attempt's deadline; past
        the cap, too_large, or with `truncate` its first cap bytes."""
        chunks, total = [], 0
        try:
            while True:
                if self.clock() > deadline:
                    raise _Outcome("timeout", "body not read within total_timeout", resp.status)
                data = resp.read1(min(_CHUNK, cap + 1 - total))
                if not data:
                    return b"".join(chunks)
                total += len(data)
                chunks.append(data)
                if total > cap:
                    if truncate:
                        return b"".join(chunks)[:cap]
                    raise _Outcome("too_large", f"body over {cap} bytes", resp.status)
        except (Urllib3Timeout, TimeoutError) as exc:
            raise _Outcome("timeout", str(exc) or "read timed out", resp.status) from None
        except (ProtocolError, HTTPError, OSError) as exc:
            raise _Outcome("connect_error", str(exc), resp.status) from None

    def _send(self, target: Target, url: str):
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{target.host}]" if ":" in target.host else target.host
        default = {"http": 80, "https": 443}[target.scheme]
        headers = {"Host": host if target.port == default else f"{host}:{target.port}",
                   "User-Agent": self.options.user_agent, "Accept": "image/*,*/*;q=0.8"}
        error: _Outcome | None = None
        for addr in target.addresses:  # the next address when one does not answer
            try:
                return self._pool(target, addr).urlopen(
                    "GET", path, headers=headers, redirect=False, retries=False, preload_content=False,
                    timeout=self.timeout, assert_same_host=False, release_conn=False)
            except NewConnectionError as exc:  # refused or unreachable (urllib3 files it under timeouts)
                error = _Outcome("connect_error", str(exc))
            except (Urllib3Timeout, TimeoutError) as exc:
                error = _Outcome("timeout", str(exc) or "connect timed out")
            except (ProtocolError, HTTPError, OSError) as exc:
                error = _Outcome("connect_error", str(exc))
        raise error or _Outcome("dns_error", "no address")

    def _pool(self, target: Target, addr: str) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, addr, target.port, target.host)
        with self.lock:
            pool = self.pools.get(key)
            if pool is None:
                kw = {"maxsize": self.options.per_host, "block": False, "retries": False}
                if target.scheme == "https":
                    pool = urllib3.HTTPSConnectionPool(addr, target.port, server_hostname=target.host,
                                                       assert_hostname=target.host, cert_reqs="CERT_REQUIRED", **kw)
                else:
                    pool = urllib3.HTTPConnectionPool(addr, target.port, **kw)
                self.pools[key] = pool
        return pool

    def _get_robots(self, url: str) -> tuple[int, bytes] | str:
        """robots.txt through the same checks (address, host slot), redirects followed
        (RFC 9309: at least five), at most ROBOTS_MAX_BYTES kept; the reason when unreachable."""
        current = url
        for _ in range(6):
            try:
                target = self._check(current)
                with self.hosts.slot(target.host):
                    resp = self._send(target, current)
                    try:
                        if resp.status in _REDIRECTS and resp.headers.get("Location"):
                            current = urljoin(current, resp.headers["Location"].strip())
                            continue
                        if not 200 <= resp.status < 300:
                            return resp.status, b""
                        deadline = self.clock() + self.options.total_timeout
                        return resp.status, self._read(resp, ROBOTS_MAX_BYTES, deadline, truncate=True)
                    finally:
                        resp.close()
            except _Outcome as out:
                return out.reason
        return "too_many_redirects"
