"""HTML bytes -> main text, with trafilatura (FineWeb's settings, made deterministic)."""

from __future__ import annotations

import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str]:
    """Bytes -> (text, how): the declared charset if it decodes, else UTF-8, else cp1252.

    A wrong declaration is common on the web; trying it strictly first and falling back
    keeps one bad header from turning a page into mojibake or an error.
    """
    candidates = []
    if header_charset:
        candidates.append(header_charset.strip().lower())
    m = _META_CHARSET.search(body[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii").lower())
    candidates += ["utf-8"]
    for enc in candidates:
        try:
            return body.decode(enc), enc
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace"), "utf-8-replace"


def extract_text(html: str) -> str | None:
    import trafilatura

    # deduplicate=False: trafilatura's dedup cache spans calls, which would make the output
    # depend on which pages a worker saw before; dedup is our own later stage.
    return trafilatura.extract(
        html,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        deduplicate=False,
        with_metadata=False,
    )
