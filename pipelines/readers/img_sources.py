"""Which picture an `<img>` stands for, before an extractor sees it: the largest candidate
of its `srcset` (or lazy `data-srcset`), and `data:` URIs decoded in place instead of being
fetched. A decoded picture gets a placeholder `src` with an image name, so both extractors
keep the element where it stands; the placeholder is swapped back for the bytes after."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

_PLACEHOLDER = "earlyfuse-inline-{}.png"
_PLACEHOLDER_RE = re.compile(r"earlyfuse-inline-(\d+)\.png")
_DESCRIPTOR = re.compile(r"^(\d+(?:\.\d+)?)([wx])$", re.I)


def largest_candidate(srcset: str) -> str | None:
    """The URL of the widest (`w`) or densest (`x`) candidate, following the HTML parsing
    rules: URLs end at whitespace, a URL ending in commas has no descriptor, descriptors run
    to the next comma. Width descriptors rank above density ones (mixing them is invalid)."""
    best, best_key = None, None
    pos, n = 0, len(srcset)
    while pos < n:
        while pos < n and (srcset[pos].isspace() or srcset[pos] == ","):
            pos += 1
        start = pos
        while pos < n and not srcset[pos].isspace():
            pos += 1
        url = srcset[start:pos]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start = pos
            depth = 0
            while pos < n and (srcset[pos] != "," or depth):
                depth += {"(": 1, ")": -1}.get(srcset[pos], 0)
                pos += 1
            descriptor = srcset[start:pos].strip()
        if not url:
            continue
        m = _DESCRIPTOR.match(descriptor)
        if descriptor and not m:
            continue  # an invalid descriptor drops the candidate, as browsers do
        kind, value = (m.group(2).lower(), float(m.group(1))) if m else ("x", 1.0)
        key = (kind == "w", value)
        if best_key is None or key > best_key:
            best, best_key = url, key
    return best


def decode_data_uri(uri: str, max_bytes: int) -> bytes | None:
    """The bytes of a `data:image/...` URI (base64 or percent-encoded), or None for another
    media type, a malformed URI or one decoding to more than max_bytes."""
    head, comma, payload = uri.partition(",")
    if not comma or not head.lower().startswith("data:"):
        return None
    params = [p.strip().lower() for p in head[5:].split(";")]
    if not params[0].startswith("image/"):
        return None
    if len(payload) > 2 * max_bytes:  # even percent-encoded, no larger than this
        return None
    try:
        if "base64" in params[1:]:
            data = base64.b64decode("".join(payload.split()), validate=False)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None
    return data if 0 < len(data) <= max_bytes else None


class Inline:
    """The pictures of one page decoded from `data:` URIs, by placeholder."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.data: list[bytes] = []

    def placeholder(self, uri: str) -> str | None:
        data = decode_data_uri(uri, self.max_bytes)
        if data is None:
            return None
        self.data.append(data)
        return _PLACEHOLDER.format(len(self.data) - 1)

    def image(self, src: str) -> dict:
        """{"src", "data"} for an image the extractor kept: the bytes for a placeholder."""
        m = _PLACEHOLDER_RE.fullmatch(src)
        if m and int(m.group(1)) < len(self.data):
            return {"src": "", "data": self.data[int(m.group(1))]}
        return {"src": src}


def chosen_src(get, inline: Inline) -> str | None:
    """The src an `<img>` should be read with (`get(attr)` reads its attributes), or None to
    leave it as it is: srcset's largest candidate, or a data: URI's placeholder."""
    srcset = get("srcset") or get("data-srcset")
    src = largest_candidate(srcset) if srcset else None
    src = src or get("data-src") or get("src")
    if src and src[:5].lower() == "data:":
        return inline.placeholder(src.strip())
    return src if srcset else None
