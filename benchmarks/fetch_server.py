"""A loopback HTTP server with planted responses for the fetch tests and benchmark: good images, errors that
heal, slow and oversized bodies, opt-out headers, robots.txt and redirect chains. It counts
hits per path and the requests in flight, so tests can tell what was (not) fetched."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def image_bytes(fmt: str, size=(240, 180), color=(200, 30, 90)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


JPEG, PNG, WEBP = image_bytes("JPEG"), image_bytes("PNG"), image_bytes("WEBP")
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients abort on purpose (caps, timeouts): their broken pipes are expected


class FetchServer:
    def __init__(self, delay: float = 0.0, image: bytes = b""):
        self.delay = delay  # added to every response: a network's latency
        self.image = image  # served for /img/*.jpg when given
        self.hits: Counter[str] = Counter()
        self.hosts: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.starts: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> FetchServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path
                with server.lock:
                    server.hits[path] += 1
                    server.hosts.append(self.headers.get("Host", ""))
                    server.starts.setdefault(path.split("?")[0].rsplit("/", 1)[0], []).append(time.monotonic())
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if server.delay:
                        time.sleep(server.delay)
                    server.respond(self, path, server.hits[path])
                finally:
                    with server.lock:
                        server.in_flight -= 1

        return Handler

    def respond(self, h: BaseHTTPRequestHandler, path: str, hit: int) -> None:
        route = path.split("?")[0]
        if route == "/robots.txt":
            return send(h, 200, ROBOTS, "text/plain")
        if route.startswith(("/img/", "/private/")):
            return send(h, 200, {"png": PNG, "webp": WEBP}.get(route.rsplit(".", 1)[-1], self.image or JPEG),
                        "image/" + route.rsplit(".", 1)[-1].replace("jpg", "jpeg"))
        if route == "/missing.jpg":
            return send(h, 404, b"not here", "text/plain")
        if route == "/flaky.jpg":
            return send(h, 500, b"oops", "text/plain") if hit == 1 else send(h, 200, JPEG, "image/jpeg")
        if route == "/busy.jpg":
            if hit == 1:
                return send(h, 429, b"slow down", "text/plain", {"Retry-After": "1"})
            return send(h, 200, JPEG, "image/jpeg")
        if route == "/down.jpg":
            return send(h, 503, b"down", "text/plain")
        if route == "/slow.jpg":  # past the tests' 2 s read timeout
            time.sleep(3.0)
            return send(h, 200, JPEG, "image/jpeg")
        if route == "/drip.jpg":
            h.send_response(200)
            h.send_header("Content-Type", "image/jpeg")
            h.send_header("Content-Length", str(len(JPEG)))
            h.end_headers()
            for i in range(len(JPEG)):
                h.wfile.write(JPEG[i:i + 1])
                h.wfile.flush()
                time.sleep(0.1)
            return None
        if route == "/huge.jpg":  # declared too large
            return send(h, 200, JPEG + b"\0" * 300_000, "image/jpeg")
        if route == "/huge-undeclared.jpg":  # no length: the cap must stop the read
            h.send_response(200)
            h.send_header("Content-Type", "image/jpeg")
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(JPEG)
            for _ in range(40):
                h.wfile.write(b"\0" * 10_000)
            h.close_connection = True
            return None
        if route == "/html-as-jpeg.jpg":
            return send(h, 200, b"<html><body>not an image</body></html>", "image/jpeg")
        if route == "/page.html":
            return send(h, 200, b"<html></html>", "text/html; charset=utf-8")
        if route == "/noai.jpg":
            return send(h, 200, JPEG, "image/jpeg", {"X-Robots-Tag": "noai"})
        if route == "/otherbot.jpg":
            return send(h, 200, JPEG, "image/jpeg", {"X-Robots-Tag": "otherbot: noai"})
        if route == "/ours.jpg":
            return send(h, 200, JPEG, "image/jpeg", {"X-Robots-Tag": "earlyfuse: noimageai"})
        if route.startswith("/loop/"):
            n = int(route.rsplit("/", 1)[-1].split(".")[0])
            return send(h, 302, b"", "text/plain", {"Location": f"/loop/{n + 1}"})
        if route.startswith("/redirect-ok"):
            return send(h, 301, b"", "text/plain", {"Location": "img/moved.png"})
        if route.startswith("/to-metadata"):
            return send(h, 302, b"", "text/plain", {"Location": "http://169.254.169.254/latest/meta-data/"})
        return send(h, 404, b"", "text/plain")


def send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)
