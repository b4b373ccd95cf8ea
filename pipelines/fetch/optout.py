"""Opt-out, respected by default: `X-Robots-Tag` response headers (checked before the body is
read) and each host's robots.txt (fetched once per host per task). An image blocked either
way is dropped with its reason and never retried."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable
from urllib.parse import urlsplit

from protego import Protego

DEFAULT_DIRECTIVES = ("noai", "noimageai", "noindex", "noimageindex")
# Directives that take a value after a colon: "unavailable_after: 25 Jun 2030" is not an agent.
_VALUED = {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
# Google's shorthands, so that blocking "noindex" also blocks "none".
_IMPLIES = {"none": ("noindex", "nofollow"), "all": ()}
# RFC 9309: crawlers parse at least the first 500 KiB of a robots.txt.
ROBOTS_MAX_BYTES = 500 * 1024


def header_opt_out(values: Iterable[str], token: str, directives: Collection[str]) -> str | None:
    """The directive of `directives` that these X-Robots-Tag header values apply to our
    agent, or None. As img2dataset reads them: "noai, noindex" applies to every agent, and
    "<agent>: noai" only to the agent whose token it names (case-insensitive)."""
    token = token.strip().lower()
    blocked = {d.strip().lower() for d in directives}
    if not blocked:
        return None
    for value in values:
        head, colon, tail = value.partition(":")
        scope, rest = None, value
        if colon and "," not in head and head.strip().lower() not in _VALUED:
            scope, rest = head.strip().lower(), tail
        if scope is not None and scope != token:
            continue
        for item in rest.split(","):
            directive = item.strip().lower()
            for name in (directive, *_IMPLIES.get(directive, ())):
                if name in blocked:
                    return directive
    return None


def origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').rstrip('.')}:{port}"


# What `get(url)` returns: the final status (after redirects) and up to ROBOTS_MAX_BYTES of
# body, or, when the host could not be reached at all, the reason (a fetch reason such as
# "connect_error" or "dns_error").
RobotsGet = Callable[[str], "tuple[int, bytes] | str"]


class RobotsRules:
    """robots.txt per origin, each fetched once and kept for the task (failures too). The
    status rules are RFC 9309's: a 4xx means no rules (everything allowed), a 5xx or an
    unreachable host means everything disallowed. `check` says why a URL may not be fetched:
    "opt_out_robots" for the rules, or the reason the host was unreachable (so that a host
    that is down is counted as down, not as opting out)."""

    def __init__(self, get: RobotsGet, agent_token: str):
        self.get, self.agent = get, agent_token
        self.rules: dict[str, Protego | bool | str] = {}
        self.fetched = 0
        self.lock = threading.Lock()
        self.loading: dict[str, threading.Lock] = {}

    def allowed(self, url: str) -> bool:
        return self.check(url) is None

    def check(self, url: str) -> str | None:
        key = origin(url)
        rules = self.rules.get(key)
        if rules is None:
            # One fetch per origin even when many threads ask at once; other origins wait not.
            with self.lock:
                lock = self.loading.setdefault(key, threading.Lock())
            with lock:
                rules = self.rules.get(key)
                if rules is None:
                    rules = self.rules[key] = self._load(key)
        if isinstance(rules, str):
            return rules
        if isinstance(rules, bool):
            return None if rules else "opt_out_robots"
        return None if rules.can_fetch(url, self.agent) else "opt_out_robots"

    def _load(self, key: str) -> Protego | bool | str:
        self.fetched += 1
        answer = self.get(f"{key}/robots.txt")
        if isinstance(answer, str):
            return answer
        status, body = answer
        if 400 <= status < 500:
            return True
        if not 200 <= status < 300:
            return False
        text = body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        return Protego.parse(text)
