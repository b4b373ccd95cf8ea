"""HTML bytes -> main text and image positions, with trafilatura (FineWeb's settings).

Images are kept where they stand in the text: each `<graphic>` trafilatura keeps is
swapped for a placeholder before the tree is turned into text, and the text is split at
the placeholders. The text between images is therefore exactly trafilatura's own plain
text output.
"""

from __future__ import annotations

import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)
# trafilatura's text conversion strips control and private-use characters, so the marker
# is plain ASCII that no real page contains.
_MARK = "qzEFIMGq{}qz"
_MARK_RE = re.compile(r"qzEFIMGq(\d+)qz")


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str]:
    """Bytes -> (text, how): UTF-8 if the bytes are valid UTF-8, else the declared charset
    if it decodes, else UTF-8 with replacement characters, or cp1252 for a page with no
    valid multi-byte UTF-8 sequence at all.

    A wrong declaration is common on the web: non-ASCII text that is valid UTF-8 is
    practically never meant as Latin-1 or cp1252 (whose accented letters are not valid
    UTF-8 sequences), so UTF-8 goes first unless a UTF-16/32 charset is declared; a page
    declared UTF-8 whose accented letters are all invalid UTF-8 is a legacy single-byte
    page. Trying strictly and falling back keeps one bad header from turning a page into
    mojibake or an error.
    """
    declared = []
    if header_charset:
        declared.append(header_charset.strip().lower())
    m = _META_CHARSET.search(body[:4096])
    if m:
        declared.append(m.group(1).decode("ascii").lower())
    if not any(d.replace("-", "").replace("_", "").startswith(("utf16", "utf32", "ucs")) for d in declared):
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    for enc in declared:
        try:
            return body.decode(enc), enc
        except (LookupError, UnicodeDecodeError):
            continue
    text = body.decode("utf-8", errors="replace")
    if not any(ord(c) > 127 and c != "\ufffd" for c in text):
        try:
            return body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return text, "utf-8-replace"


def extract_parts(html: str, with_images: bool = True) -> list[tuple[str, object]]:
    """[("text", str) | ("image", {"src", "alt"})] in reading order; [] when no main text.

    deduplicate=False: trafilatura's dedup cache spans calls, which would make the output
    depend on which pages a worker saw before; dedup is our own later stage.
    """
    from lxml import etree
    from trafilatura import bare_extraction
    from trafilatura.xml import xmltotxt

    doc = bare_extraction(html, favor_precision=True, include_comments=False,
                          include_tables=False, include_images=with_images, deduplicate=False,
                          with_metadata=False)
    body = getattr(doc, "body", None) if doc is not None else None
    if body is None:
        return []
    images = []
    for el in list(body.iter("graphic")):
        images.append({"src": el.get("src") or "", "alt": el.get("alt") or el.get("title") or ""})
        # A paragraph holding only the marker takes the image's place, so the text
        # conversion puts it on its own line where the image stood.
        para = etree.Element("p")
        para.text = _MARK.format(len(images) - 1)
        para.tail = el.tail
        el.getparent().replace(el, para)
    text = xmltotxt(body, include_formatting=False) or ""
    parts: list[tuple[str, object]] = []
    pos = 0
    for m in _MARK_RE.finditer(text):
        chunk = text[pos:m.start()].strip()
        if chunk:
            parts.append(("text", chunk))
        parts.append(("image", images[int(m.group(1))]))
        pos = m.end()
    tail_text = text[pos:].strip()
    if tail_text:
        parts.append(("text", tail_text))
    if not any(kind == "text" for kind, _ in parts):
        return []
    return parts


def extract_text(html: str) -> str | None:
    parts = extract_parts(html, with_images=False)
    return "\n".join(t for k, t in parts if k == "text") or None
