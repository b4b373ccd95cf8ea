"""HTML bytes -> main text and image positions, with trafilatura (FineWeb's settings) or
Resiliparse (DCLM's extractor, many times faster).

Images are kept where they stand in the text, the same way with both extractors: each
image the extractor keeps is swapped for a plain-text marker before the page is turned into
text, and the text is split at the markers. The text between images is therefore exactly
the extractor's own plain text output.

- trafilatura: each `<graphic>` of its extracted tree becomes a paragraph holding the marker.
- resiliparse: each `<img>` gets the marker as its alt text and alt texts are emitted in
  place (all other alt texts are removed first), so an image stays exactly when its
  element survives Resiliparse's main-content rules, at its position in the text. Which
  `<img>` count as images follows trafilatura's rule (`data-src`, `src` or a `data-src*`
  attribute naming an image file), so both extractors agree on what an image is.
"""

from __future__ import annotations

import re

from pipelines.readers.img_sources import Inline, chosen_src

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


EXTRACTORS = ("trafilatura", "resiliparse")


def extract_parts(html: str, with_images: bool = True, extractor: str = "trafilatura",
                  inline_max_bytes: int = 20_000_000) -> list[tuple[str, object]]:
    """[("text", str) | ("image", {"src", "alt"} or, for a `data:` URI, {"src": "", "data",
    "alt"})] in reading order; [] when no main text. An `<img>` with a `srcset` stands for
    its largest candidate (pipelines/readers/img_sources.py)."""
    inline = Inline(inline_max_bytes)
    if extractor == "trafilatura":
        text, images = _trafilatura_marked(html, with_images, inline)
    elif extractor == "resiliparse":
        text, images = _resiliparse_marked(html, with_images, inline)
    else:
        raise ValueError(f"unknown HTML extractor {extractor!r} (known: {', '.join(EXTRACTORS)})")
    return _split_at_marks(text, images)


def _split_at_marks(text: str, images: list[dict]) -> list[tuple[str, object]]:
    parts: list[tuple[str, object]] = []
    pos = 0
    for m in _MARK_RE.finditer(text):
        i = int(m.group(1))
        if i >= len(images):
            continue  # the page's own text happens to look like a marker: it stays text
        chunk = text[pos:m.start()].strip()
        if chunk:
            parts.append(("text", chunk))
        parts.append(("image", images[i]))
        pos = m.end()
    tail_text = text[pos:].strip()
    if tail_text:
        parts.append(("text", tail_text))
    if not any(kind == "text" for kind, _ in parts):
        return []
    return parts


def _trafilatura_marked(html: str, with_images: bool, inline: Inline) -> tuple[str, list[dict]]:
    """deduplicate=False: trafilatura's dedup cache spans calls, which would make the output
    depend on which pages a worker saw before; dedup is our own later stage. A page with a
    `srcset` or a `data:` image is parsed here (with trafilatura's own loader, so the tree is
    the one it would build) and its `<img>` sources chosen before extraction.
    """
    from lxml import etree
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html
    from trafilatura.xml import xmltotxt

    source = html
    if with_images and ("srcset" in html or "data:image" in html):
        tree = load_html(html)
        if tree is not None:
            for img in tree.iter("img"):
                src = chosen_src(img.get, inline)
                if src is not None:
                    for attr in [a for a in img.attrib if a.startswith("data-src")]:
                        del img.attrib[attr]
                    img.set("src", src)
            source = tree
    doc = bare_extraction(source, favor_precision=True, include_comments=False,
                          include_tables=False, include_images=with_images, deduplicate=False,
                          with_metadata=False)
    body = getattr(doc, "body", None) if doc is not None else None
    if body is None:
        return "", []
    images = []
    for el in list(body.iter("graphic")):
        images.append({**inline.image(el.get("src") or ""), "alt": el.get("alt") or el.get("title") or ""})
        # A paragraph holding only the marker takes the image's place, so the text
        # conversion puts it on its own line where the image stood.
        para = etree.Element("p")
        para.text = _MARK.format(len(images) - 1)
        para.tail = el.tail
        el.getparent().replace(el, para)
    return xmltotxt(body, include_formatting=False) or "", images


# trafilatura.utils.IMAGE_EXTENSION / image_src: what counts as an image link.
_IMAGE_FILE = re.compile(r"[^\s]+\.(avif|bmp|gif|hei[cf]|jpe?g|png|webp)(\b|$)", re.I)


def _is_image_file(src: str | None) -> bool:
    return bool(src) and len(src) <= 8192 and _IMAGE_FILE.search(src) is not None


def _image_src(el, inline: Inline) -> str | None:
    chosen = chosen_src(el.getattr, inline)
    if chosen is not None:
        return chosen if _is_image_file(chosen) else None
    for attr in ("data-src", "src"):
        src = el.getattr(attr)
        if _is_image_file(src):
            return src
    for attr in el.attrs:
        if attr.startswith("data-src") and _is_image_file(el.getattr(attr)):
            return el.getattr(attr)
    return None


_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*")


def _resiliparse_marked(html: str, with_images: bool, inline: Inline) -> tuple[str, list[dict]]:
    """Resiliparse's main-content extraction with trafilatura's choices where they differ
    from its defaults: no comment sections, no link targets, no form fields, no noscript,
    no alt texts in the text (they belong to the image parts)."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    images: list[dict] = []
    for el in tree.document.query_selector_all("img"):
        src = _image_src(el, inline) if with_images else None
        if src is None:
            if el.hasattr("alt"):
                el.delattr("alt")
            continue
        images.append({**inline.image(src), "alt": el.getattr("alt") or el.getattr("title") or ""})
        el.setattr("alt", _MARK.format(len(images) - 1))
    for el in tree.document.query_selector_all("[alt]:not(img)"):  # <area>, <input type=image>
        el.delattr("alt")
    text = extract_plain_text(tree, preserve_formatting=True, main_content=True, list_bullets=True,
                              alt_texts=True, links=False, form_fields=False, noscript=False,
                              comments=False)
    # One line per block, as trafilatura writes it, so the line- and paragraph-level quality
    # rules see the same shape of text whichever extractor ran.
    return _BLANK_LINES.sub("\n", text), images


def extract_text(html: str, extractor: str = "trafilatura") -> str | None:
    parts = extract_parts(html, with_images=False, extractor=extractor)
    return "\n".join(t for k, t in parts if k == "text") or None
