"""Opt-out: X-Robots-Tag scoping as img2dataset reads it, robots.txt as RFC 9309 says."""

from __future__ import annotations

import pytest

from pipelines.fetch.optout import DEFAULT_DIRECTIVES, ROBOTS_MAX_BYTES, RobotsRules, header_opt_out, origin

TOKEN = "earlyfuse"


@pytest.mark.parametrize("values, blocked_by", [
    (["noai"], "noai"),
    (["NoImageAI"], "noimageai"),
    (["noindex, nofollow"], "noindex"),
    (["nofollow", "noimageindex"], "noimageindex"),   # several headers
    (["earlyfuse: noai"], "noai"),                    # our agent
    (["EarlyFuse: noimageai, nosnippet"], "noimageai"),
    (["none"], "none"),                               # Google's noindex, nofollow
    (["otherbot: noai", "noindex"], "noindex"),
    (["noindex, unavailable_after: 25 Jun 2030 15:00:00 PST"], "noindex"),
])
def test_blocking_headers(values, blocked_by):
    assert header_opt_out(values, TOKEN, DEFAULT_DIRECTIVES) == blocked_by


@pytest.mark.parametrize("values", [
    [], ["nofollow"], ["otherbot: noai"], ["otherbot: noimageai, noindex"], ["all"],
    ["unavailable_after: 25 Jun 2030 15:00:00 PST"], ["max-image-preview: large"], ["noarchive, nosnippet"],
])
def test_headers_that_do_not_block(values):
    assert header_opt_out(values, TOKEN, DEFAULT_DIRECTIVES) is None


def test_directives_are_configurable():
    assert header_opt_out(["noindex"], TOKEN, ["noai"]) is None
    assert header_opt_out(["noai"], TOKEN, []) is None
    assert header_opt_out(["nosnippet"], TOKEN, ["NoSnippet"]) == "nosnippet"


def fake_get(table: dict[str, tuple[int, bytes] | None]):
    hits: list[str] = []

    def get(url: str):
        hits.append(url)
        return table.get(url, (404, b""))

    get.hits = hits
    return get


ROBOTS = b"""User-agent: *
Disallow: /private/
Disallow: /*.gif$

User-agent: earlyfuse
Disallow: /no-ai/
"""


def test_robots_rules_per_origin_fetched_once():
    get = fake_get({"https://a.example:443/robots.txt": (200, ROBOTS)})
    rules = RobotsRules(get, TOKEN)
    assert rules.allowed("https://a.example/img/1.jpg")
    assert not rules.allowed("https://a.example/no-ai/2.jpg")          # our group
    assert rules.allowed("https://a.example/private/3.jpg")           # our group replaces '*'
    assert rules.allowed("https://a.example/x.gif")
    other = RobotsRules(fake_get({"https://a.example:443/robots.txt": (200, ROBOTS)}), "somebot")
    assert not other.allowed("https://a.example/private/3.jpg")
    assert not other.allowed("https://a.example/anim/x.gif")          # wildcard and end anchor
    assert other.allowed("https://a.example/anim/x.gif?v=2")
    for _ in range(3):
        rules.allowed("https://A.example:443/img/4.jpg")
    assert get.hits == ["https://a.example:443/robots.txt"]
    assert rules.fetched == 1


def test_robots_status_rules():
    get = fake_get({"http://gone.example:80/robots.txt": (404, b""),
                    "http://down.example:80/robots.txt": (503, b""),
                    "http://deny.example:80/robots.txt": (403, b"")})
    down = {"http://unreachable.example:80/robots.txt"}
    rules = RobotsRules(lambda url: "connect_error" if url in down else get(url), TOKEN)
    assert rules.allowed("http://gone.example/a.jpg")      # 4xx: no rules
    assert rules.allowed("http://deny.example/a.jpg")      # 4xx, 403 included (RFC 9309)
    assert not rules.allowed("http://down.example/a.jpg")  # 5xx: everything disallowed
    assert not rules.allowed("http://unreachable.example/a.jpg")
    assert rules.check("http://unreachable.example/b.jpg") == "connect_error"  # down, not opting out
    assert rules.check("http://down.example/b.jpg") == "opt_out_robots"


def test_robots_body_is_read_up_to_the_rfc_limit():
    padding = b"# " + b"x" * (ROBOTS_MAX_BYTES + 10) + b"\n"
    body = b"User-agent: *\nDisallow: /a/\n" + padding + b"Disallow: /b/\n"
    rules = RobotsRules(fake_get({"http://big.example:80/robots.txt": (200, body)}), TOKEN)
    assert not rules.allowed("http://big.example/a/1.jpg")
    assert rules.allowed("http://big.example/b/1.jpg")     # past 500 KiB: not read


def test_origin_normalises_scheme_host_and_port():
    assert origin("HTTPS://Img.Example.com./a?b") == "https://img.example.com:443"
    assert origin("http://img.example.com:8080/a") == "http://img.example.com:8080"
