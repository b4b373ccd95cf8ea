"""URL keys and crawl dates for URL-level dedup (docs/stages/dedup.md, "URL dedup").

Two crawls of one page must give one key however the crawler spelled the address: scheme
and host are case-insensitive (RFC 3986 6.2.2.1), a default port says nothing, a fragment
never reaches the server, and percent-escapes differ only in the case of their hex digits.
The query is kept: `?page=2` is another page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE_RE = re.compile(r"%[0-9a-fA-F]{2}")


def url_key(url: str | None, trailing_slash: bool = True) -> str | None:
    """The normalised form of a web URL, or None for anything that is not http(s) (a file
    path has no crawl to deduplicate). With `trailing_slash`, `/a/` and `/a` are one key."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = _ESCAPE_RE.sub(lambda m: m.group(0).upper(), parts.path) or "/"
    if trailing_slash and len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = _ESCAPE_RE.sub(lambda m: m.group(0).upper(), parts.query)
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")


def crawl_date(value) -> float | None:
    """Unix seconds of a crawl date: ISO 8601 (`WARC-Date`'s `2024-05-01T12:00:00Z`, with or
    without a zone, which is then UTC), a bare date, or a number of Unix seconds. None when
    it is none of those: a document without a date loses to any dated copy."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value else None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
