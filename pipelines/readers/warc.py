"""WARC files (gzip per record, or plain) -> document records.

Units are `response` records; warcinfo, request and metadata records are not documents
and are passed over. Every response becomes a row: a document, or a rejection with the
reason it was not one.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from filters.urlkey import crawl_date
from pipelines.readers import stable_id
from pipelines.readers.gzip_members import MAGIC, MemberError, iter_members
from pipelines.readers.html import decode_html, extract_parts
from pipelines.schema import image_part, record, text_part

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Image responses are not documents; they are the pixels of the pages that show them.
RESOURCE_STATUS = "ingest:image_resource"
# An ARC (v1) record header: `<url> <ip> <14-digit date> <mime> <length>`. warcio reads any
# line of text as one (arc2warc), so bytes that start neither like this nor with `WARC/`
# are one bad record, not a response per line of garbage.
_ARC_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*:\S* \S+ \d{14} \S+ \d+\r?\n")


def looks_like_archive(head: bytes) -> bool:
    head = head.lstrip(b"\r\n")
    return head.startswith(b"WARC/") or _ARC_HEADER.match(head) is not None


def _reject(source: str, relpath: str, offset: int, uri: str, reason: str) -> dict:
    return record(stable_id(source, relpath, offset), source, uri, [], status=f"ingest:{reason}")


def _content_type(rec) -> tuple[str, str | None]:
    ctype = (rec.http_headers.get_header("Content-Type") or "") if rec.http_headers else ""
    mime, _, params = ctype.partition(";")
    charset = None
    for p in params.split(";"):
        k, _, v = p.strip().partition("=")
        if k.lower() == "charset" and v:
            charset = v.strip("\"' ")
    return mime.strip().lower(), charset


def _from_image_root(root: str, url: str, max_bytes: int) -> bytes | None:
    """A mirror folder keyed by URL (wget's layout): <root>/<host>/<path>."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    rel = os.path.normpath(f"{u.netloc}/{u.path.lstrip('/')}")
    if not u.netloc or rel.startswith(".."):
        return None
    path = os.path.join(root, rel)
    if os.path.isfile(path) and os.path.getsize(path) <= max_bytes:
        with open(path, "rb") as f:
            return f.read()
    return None


def html_parts(html: str, base_url: str, image_root: str, max_bytes: int,
               extractor: str = "trafilatura") -> list[dict]:
    from urllib.parse import urljoin

    parts = []
    for kind, value in extract_parts(html, extractor=extractor, inline_max_bytes=max_bytes):
        if kind == "text":
            parts.append(text_part(value))
            continue
        if value.get("data") is not None:  # a data: URI, decoded in place: nothing to fetch
            parts.append(image_part(value["data"], alt=value["alt"], inline="data_uri"))
            continue
        src = urljoin(base_url, value["src"]) if value["src"] else ""
        data = _from_image_root(image_root, src, max_bytes) if image_root and src else None
        parts.append(image_part(data, src=src, alt=value["alt"]))
    return parts


def response_to_record(rec, source: str, relpath: str, offset: int, max_bytes: int,
                       image_root: str = "", extractor: str = "trafilatura") -> dict:
    uri = rec.rec_headers.get_header("WARC-Target-URI") or f"{relpath}#{offset}"
    rid = stable_id(source, relpath, offset)
    status = rec.http_headers.get_statuscode() if rec.http_headers else None
    if status and not str(status).startswith("2"):
        return _reject(source, relpath, offset, uri, "http_status")
    mime, charset = _content_type(rec)
    is_image = mime.startswith("image/")
    if mime not in HTML_TYPES and not is_image:
        return _reject(source, relpath, offset, uri, "not_html")
    body = rec.content_stream().read(max_bytes + 1)
    if len(body) > max_bytes:
        return _reject(source, relpath, offset, uri, "record_too_large")
    if is_image:
        return record(rid, source, uri, [image_part(body, src=uri, mime=mime)], status=RESOURCE_STATUS)
    html, _ = decode_html(body, charset)
    try:
        parts = html_parts(html, uri, image_root, max_bytes, extractor)
    except Exception:  # noqa: BLE001 - trafilatura raises assorted lxml errors, Resiliparse DOM errors
        return _reject(source, relpath, offset, uri, "html_parse_error")
    if not parts:
        return _reject(source, relpath, offset, uri, "no_text")
    date = crawl_date(rec.rec_headers.get_header("WARC-Date"))
    return record(rid, source, uri, parts, signals=None if date is None else {"crawl.date": date})


def read_warc(f: BinaryIO, source: str, relpath: str, max_bytes: int,
              image_root: str = "", extractor: str = "trafilatura") -> Iterator[dict]:
    """`extractor`: one of pipelines.readers.html.EXTRACTORS (the input's `extractor`)."""
    head = f.read(3)
    f.seek(0)
    if head != MAGIC:
        yield from _read_plain(f, source, relpath, max_bytes, image_root, extractor)
        return
    for offset, member in iter_members(f, max_bytes):
        if isinstance(member, MemberError):
            yield _reject(source, relpath, offset, f"{relpath}#{offset}", member.reason)
            continue
        if not looks_like_archive(member[:4096]):
            yield _reject(source, relpath, offset, f"{relpath}#{offset}", "bad_warc_record")
            continue
        n = 0
        try:
            for rec in ArchiveIterator(io.BytesIO(member), arc2warc=True):
                n += 1
                if rec.rec_type == "response":
                    yield response_to_record(rec, source, relpath, offset, max_bytes, image_root,
                                             extractor)
        except Exception as e:  # noqa: BLE001 - a malformed record inside a good gzip member
            # Bytes after a record that was read are noise in its member, not another unit.
            if n == 0 or not isinstance(e, ArchiveLoadFailed):
                yield _reject(source, relpath, offset, f"{relpath}#{offset}",
                              "bad_warc_record" if not isinstance(e, MemoryError) else "record_too_large")


def _read_plain(f: BinaryIO, source: str, relpath: str, max_bytes: int,
                image_root: str = "", extractor: str = "trafilatura") -> Iterator[dict]:
    # warcio's record offset is only known once the record has been read, so plain files
    # use the record's ordinal position as its offset; ids stay stable all the same.
    head = f.read(4096)
    f.seek(0)
    if not head:
        return  # an empty file holds no record
    if not looks_like_archive(head):
        yield _reject(source, relpath, 0, relpath, "bad_warc_record")
        return
    it = ArchiveIterator(f, arc2warc=True)
    n = 0
    try:
        for n, rec in enumerate(it):
            if rec.rec_type == "response":
                yield response_to_record(rec, source, relpath, n, max_bytes, image_root, extractor)
    except ArchiveLoadFailed:
        # The rest of the file cannot be read: one rejection, at the next ordinal, so its
        # id is not the id of a record read before it.
        yield _reject(source, relpath, n + 1, f"{relpath}#{n + 1}", "bad_warc_record")
