"""S3 for tests without a network: moto's real HTTP server, and a proxy that misbehaves on cue.

    with moto_server() as endpoint:                       # fake credentials in the env
        with FaultyProxy(endpoint, [Fault("503", kinds=("get",), first=2)]) as proxy:
            opts = StorageOptions(endpoint_url=proxy.url)
            ...
            assert proxy.injected[("get", "503")] == 2

The proxy is deterministic: a fault fires for the first `first` requests of the kinds it
names, and then for every `every`-th one, counted per fault.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Distinctive values, so a test can prove they never reach an error message.
ACCESS_KEY = "AKIAEARLYFUSETEST0001"
SECRET_KEY = "earlyfuse/test+Secret0KeyThatMustNeverLeak"
SESSION_TOKEN = "earlyfuse-test-session-token-never-log-me"

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_SESSION_TOKEN": SESSION_TOKEN,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # Keep the developer's own AWS setup (profiles, SSO, instance metadata) out of tests.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL",
         "AWS_ENDPOINT_URL_S3")


@contextmanager
def fake_credentials(endpoint_url: str = "") -> Iterator[None]:
    """Fake AWS credentials (and optionally EARLYFUSE_S3_ENDPOINT_URL) in os.environ."""
    from pipelines.io import s3

    env = dict(FAKE_ENV)
    if endpoint_url:
        env["EARLYFUSE_S3_ENDPOINT_URL"] = endpoint_url
    saved = {k: os.environ.get(k) for k in [*env, *UNSET]}
    os.environ.update(env)
    for k in UNSET:
        os.environ.pop(k, None)
    s3.reset_clients()  # cached clients hold the credentials they were built with
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        s3.reset_clients()


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 on 127.0.0.1 (a free port, real HTTP); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with fake_credentials(endpoint):
            yield endpoint
    finally:
        server.stop()


# ---------------------------------------------------------------- the faulty proxy

ACTIONS = ("500", "503", "drop", "echo_auth", "no_such_upload")


@dataclass
class Fault:
    """action: "500" InternalError, "503" SlowDown (neither reaches moto); "drop": forward,
    then send the headers and half the body and close the socket (no body: close before
    answering, so the request took effect but its response is lost); "echo_auth": 403 whose
    message quotes the request's Authorization header, as a careless server might;
    "no_such_upload": 404 NoSuchUpload, what real S3 answers when a retried
    CompleteMultipartUpload finds the upload already completed (moto completes it again).
    kinds: request kinds it applies to (see request_kind); empty = all."""

    action: str
    kinds: tuple[str, ...] = ()
    first: int = 0
    every: int = 0
    seen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}")

    def fires(self, kind: str) -> bool:
        """Counts the request if it is of our kind; True if this one gets the fault."""
        if self.kinds and kind not in self.kinds:
            return False
        self.seen += 1
        return self.seen <= self.first or (self.every > 0 and self.seen % self.every == 0)


def request_kind(method: str, path: str) -> str:
    """The S3 operation a path-style request is, coarsely: list, get, head, put, upload_part,
    create_mpu, complete_mpu, abort_mpu, list_mpu, delete, delete_objects, bucket, other."""
    parts = urlsplit(path)
    query = parse_qs(parts.query, keep_blank_values=True)
    on_object = "/" in parts.path.strip("/")
    if method == "GET":
        if "uploads" in query:
            return "list_mpu"
        return "get" if on_object else "list"
    if method == "HEAD":
        return "head" if on_object else "bucket"
    if method == "PUT":
        if "partNumber" in query:
            return "upload_part"
        return "put" if on_object else "bucket"
    if method == "POST":
        if "uploads" in query:
            return "create_mpu"
        if "uploadId" in query:
            return "complete_mpu"
        if "delete" in query:
            return "delete_objects"
    if method == "DELETE":
        if "uploadId" in query:
            return "abort_mpu"
        return "delete" if on_object else "bucket"
    return "other"


HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length"}

ERROR_XML = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
             "<Message>{message}</Message><RequestId>faulty-proxy</RequestId></Error>")


class FaultyProxy:
    """A threaded HTTP proxy in front of an S3 endpoint that injects faults by plan."""

    def __init__(self, upstream: str, faults: list[Fault] | None = None):
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self.faults = list(faults or [])
        self.requests: Counter[str] = Counter()
        self.injected: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def total_injected(self, action: str = "") -> int:
        return sum(n for (_, a), n in self.injected.items() if not action or a == action)

    def set_faults(self, faults: list[Fault]) -> None:
        with self._lock:
            self.faults = list(faults)

    def start(self) -> FaultyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _decide(self, kind: str) -> str:
        """The fault for this request ("" for none); the first matching fault wins."""
        with self._lock:
            self.requests[kind] += 1
            for fault in self.faults:
                if fault.fires(kind):
                    self.injected[(kind, fault.action)] += 1
                    return fault.action
        return ""

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real endpoint

            def log_message(self, format: str, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._proxy()

            do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

            def _proxy(self) -> None:
                body = self._read_body()
                kind = request_kind(self.command, self.path)
                action = proxy._decide(kind)
                if action == "500":
                    return self._error(500, "InternalError", "We encountered an internal error.")
                if action == "503":
                    return self._error(503, "SlowDown", "Please reduce your request rate.")
                if action == "no_such_upload":
                    return self._error(404, "NoSuchUpload", "The specified upload does not exist.")
                if action == "echo_auth":
                    return self._error(403, "AccessDenied",
                                       f"Denied for {self.headers.get('Authorization', '')} "
                                       f"token {self.headers.get('X-Amz-Security-Token', '')}")
                status, reason, headers, payload = self._forward(body)
                if action == "drop":
                    return self._drop(status, reason, headers, payload)
                self._respond(status, reason, headers, payload)

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if n == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(n))
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    if body or self.command in ("PUT", "POST"):
                        headers["Content-Length"] = str(len(body))
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    payload = resp.read()
                    out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                    if self.command == "HEAD":
                        # HEAD announces the object's size but carries no body.
                        out.append(("Content-Length", resp.getheader("Content-Length", "0")))
                    else:
                        out.append(("Content-Length", str(len(payload))))
                    return resp.status, resp.reason, out, payload
                finally:
                    conn.close()

            def _respond(self, status: int, reason: str, headers: list[tuple[str, str]],
                         payload: bytes) -> None:
                self.send_response(status, reason)
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD" and payload:
                    self.wfile.write(payload)

            def _error(self, status: int, code: str, message: str) -> None:
                payload = ERROR_XML.format(code=code, message=message).encode()
                self._respond(status, code, [("Content-Type", "application/xml"),
                                             ("Content-Length", str(len(payload)))], payload)

            def _drop(self, status: int, reason: str, headers: list[tuple[str, str]],
                      payload: bytes) -> None:
                if payload and self.command != "HEAD":
                    # Promise the whole body, deliver half, hang up.
                    self.send_response(status, reason)
                    for k, v in headers:
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        return Handler
