"""The fetcher against a loopback server: every planted outcome, retries, caps, opt-out,
redirects and the per-host limits."""

from __future__ import annotations

import socket

import pytest

from benchmarks.fetch_server import JPEG, PNG, WEBP, FetchServer
from pipelines.config import FetchConfig
from pipelines.fetch.client import REASONS, Fetcher, _Hosts, image_format, retry_after_seconds

LOOPBACK = ["127.0.0.1/32"]


@pytest.fixture(scope="module")
def server():
    with FetchServer() as s:
        yield s


def options(**kw) -> FetchConfig:
    base = {"allow_networks": LOOPBACK, "backoff": 0.01, "connect_timeout": 2.0, "read_timeout": 2.0,
            "total_timeout": 3.0, "max_bytes": 100_000, "max_redirects": 3}
    return FetchConfig(**{**base, **kw})


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_every_planted_outcome(server):
    cases = {
        "/img/a.jpg": "ok", "/img/b.png": "ok", "/img/c.webp": "ok",
        "/missing.jpg": "http_4xx", "/down.jpg": "http_5xx", "/flaky.jpg": "ok", "/busy.jpg": "ok",
        "/slow.jpg": "timeout", "/drip.jpg": "timeout", "/huge.jpg": "too_large",
        "/huge-undeclared.jpg": "too_large", "/html-as-jpeg.jpg": "not_image", "/page.html": "not_image",
        "/noai.jpg": "opt_out_header", "/otherbot.jpg": "ok", "/ours.jpg": "opt_out_header",
        "/private/secret.jpg": "opt_out_robots", "/loop/0": "too_many_redirects", "/redirect-ok": "ok",
        "/to-metadata": "private_address",
    }
    sleeps = Sleeps()
    with Fetcher(options(retries=1), sleep=sleeps) as f:
        results = f.fetch_all([server.url(p) for p in cases])
    got = {p: r.reason for p, r in zip(cases, results)}
    assert got == cases
    assert set(got.values()) <= set(REASONS)
    by = dict(zip(cases, results))
    assert by["/img/a.jpg"].body == JPEG and by["/img/a.jpg"].format == "jpeg"
    assert by["/img/b.png"].body == PNG and by["/img/c.webp"].body == WEBP and by["/img/c.webp"].format == "webp"
    assert by["/flaky.jpg"].attempts == 2 and server.hits["/flaky.jpg"] == 2
    assert by["/busy.jpg"].attempts == 2 and 1.0 in sleeps            # Retry-After honoured
    assert by["/down.jpg"].attempts == 2 and by["/down.jpg"].status == 503
    assert by["/missing.jpg"].attempts == 1                            # a 404 is not retried
    assert by["/noai.jpg"].attempts == 1 and server.hits["/noai.jpg"] == 1  # blocked: never retried
    assert server.hits["/private/secret.jpg"] == 0                     # robots: never requested
    assert server.hits["/robots.txt"] == 1                             # once per origin
    assert by["/redirect-ok"].final_url == server.url("/img/moved.png")
    assert sum(server.hits[f"/loop/{i}"] for i in range(10)) == 4      # the first and 3 redirects
    assert "169.254.169.254" in by["/to-metadata"].detail


def test_private_addresses_are_refused_by_default(server):
    with Fetcher(FetchConfig()) as f:
        r = f.fetch(server.url("/img/a.jpg"))
    assert r.reason == "private_address" and r.attempts == 1


def test_names_resolve_once_and_the_host_header_names_them(server):
    calls = []

    def resolver(host, port):
        calls.append(host)
        return ["127.0.0.1"] if host == "images.test" else []

    with Fetcher(options(), resolver=resolver) as f:
        r = f.fetch(server.url("/img/named.jpg", host="images.test"))
        bad = f.fetch(server.url("/img/a.jpg", host="nowhere.test"))
    assert r.reason == "ok" and r.body == JPEG
    assert f"images.test:{server.port}" in server.hosts
    assert bad.reason == "dns_error"
    assert "images.test" in calls


def test_connection_refused_is_retried_then_counted():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    sleeps = Sleeps()
    with Fetcher(options(retries=2), sleep=sleeps) as f:
        r = f.fetch(f"http://127.0.0.1:{port}/a.jpg")
    assert r.reason == "connect_error" and r.attempts == 1  # robots.txt found the host down: cached
    with Fetcher(options(retries=2, robots=False), sleep=sleeps) as f:
        r = f.fetch(f"http://127.0.0.1:{port}/a.jpg")
    assert r.reason == "connect_error" and r.attempts == 3 and sleeps == [0.01, 0.02]


def test_bad_urls():
    with Fetcher(options()) as f:
        results = f.fetch_all(["ftp://x/a.jpg", "not a url", "http:///a.jpg", "javascript:alert(1)"])
    assert [r.reason for r in results] == ["bad_url"] * 4


def test_per_host_limit_and_concurrency():
    with FetchServer(delay=0.05) as s:
        with Fetcher(options(concurrency=8, per_host=2, robots=False)) as f:
            assert all(r.reason == "ok" for r in f.fetch_all([s.url(f"/img/{i}.jpg") for i in range(16)]))
        assert s.max_in_flight == 2
        s.max_in_flight = 0
        with Fetcher(options(concurrency=8, per_host=8, robots=False)) as f:
            assert all(r.reason == "ok" for r in f.fetch_all([s.url(f"/img/{i}.png") for i in range(32)]))
        assert s.max_in_flight > 2  # many in flight, not one after another


def test_host_delay_spaces_request_starts():
    now = [100.0]
    sleeps = Sleeps()
    hosts = _Hosts(per_host=4, delay=0.25, clock=lambda: now[0], sleep=sleeps)
    for _ in range(4):
        with hosts.slot("a.example"):
            pass
    with hosts.slot("b.example"):  # another host: no wait
        pass
    assert sleeps == [0.25, 0.5, 0.75]
    with FetchServer() as s:
        with Fetcher(options(concurrency=4, per_host=4, host_delay=0.1, robots=False)) as f:
            f.fetch_all([s.url(f"/img/{i}.jpg") for i in range(5)])
        starts = sorted(s.starts["/img"])
    assert len(starts) == 5 and starts[-1] - starts[0] > 0.3  # four gaps of 0.1 s, give or take


def test_image_formats_by_magic_bytes():
    assert image_format(JPEG) == "jpeg" and image_format(PNG) == "png" and image_format(WEBP) == "webp"
    assert image_format(b"GIF89a....") == "gif"
    assert image_format(b"\0\0\0\x1cftypavif....") == "heif"
    assert image_format(b"<svg xmlns=") is None and image_format(b"") is None


def test_retry_after_forms():
    now = 1_000_000_000.0
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Sun, 09 Sep 2001 01:46:50 GMT", now) == pytest.approx(10.0)
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_an_unforeseen_error_is_one_counted_result(server, monkeypatch, capsys):
    with Fetcher(options(robots=False)) as f:
        real = f._send

        def broken(target, url):
            if url.endswith("/img/boom.jpg"):
                raise RuntimeError("a bug nobody foresaw")
            return real(target, url)

        monkeypatch.setattr(f, "_send", broken)
        results = f.fetch_all([server.url("/img/boom.jpg"), server.url("/img/fine.jpg")])
    assert [r.reason for r in results] == ["error", "ok"]
    assert "a bug nobody foresaw" in capsys.readouterr().err
