"""WARC files (gzip per record, or plain) -> document records.

Units are `response` records; warcinfo, request and metadata records are not documents
and are passed over. Every response becomes a row: a document, or a rejection with the
reason it was not one.
"""

from __future__ import annotations

import io
from typing import BinaryIO, Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipelines.readers import stable_id
from pipelines.readers.gzip_members import MAGIC, MemberError, iter_members
from pipelines.readers.html import decode_html, extract_text
from pipelines.schema import record, text_part

HTML_TYPES = ("text/html", "application/xhtml+xml")


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


def response_to_record(rec, source: str, relpath: str, offset: int, max_bytes: int) -> dict:
    uri = rec.rec_headers.get_header("WARC-Target-URI") or f"{relpath}#{offset}"
    rid = stable_id(source, relpath, offset)
    status = rec.http_headers.get_statuscode() if rec.http_headers else None
    if status and not str(status).startswith("2"):
        return _reject(source, relpath, offset, uri, "http_status")
    mime, charset = _content_type(rec)
    if mime not in HTML_TYPES:
        return _reject(source, relpath, offset, uri, "not_html")
    body = rec.content_stream().read(max_bytes + 1)
    if len(body) > max_bytes:
        return _reject(source, relpath, offset, uri, "record_too_large")
    html, _ = decode_html(body, charset)
    try:
        text = extract_text(html)
    except Exception:  # trafilatura raises assorted lxml errors on broken markup
        return _reject(source, relpath, offset, uri, "html_parse_error")
    if not text or not text.strip():
        return _reject(source, relpath, offset, uri, "no_text")
    out = record(rid, source, uri, [text_part(text)])
    return out


def _records_in(stream: BinaryIO):
    try:
        yield from ArchiveIterator(stream, arc2warc=True)
    except ArchiveLoadFailed:
        return


def read_warc(f: BinaryIO, source: str, relpath: str, max_bytes: int) -> Iterator[dict]:
    head = f.read(3)
    f.seek(0)
    if head != MAGIC:
        yield from _read_plain(f, source, relpath, max_bytes)
        return
    for offset, member in iter_members(f, max_bytes):
        if isinstance(member, MemberError):
            yield _reject(source, relpath, offset, f"{relpath}#{offset}", member.reason)
            continue
        try:
            for rec in _records_in(io.BytesIO(member)):
                if rec.rec_type == "response":
                    yield response_to_record(rec, source, relpath, offset, max_bytes)
        except Exception as e:  # a malformed record inside a good gzip member
            yield _reject(source, relpath, offset, f"{relpath}#{offset}",
                          "bad_warc_record" if not isinstance(e, MemoryError) else "record_too_large")


def _read_plain(f: BinaryIO, source: str, relpath: str, max_bytes: int) -> Iterator[dict]:
    # warcio's record offset is only known once the record has been read, so plain files
    # use the record's ordinal position as its offset; ids stay stable all the same.
    it = ArchiveIterator(f, arc2warc=True)
    try:
        for n, rec in enumerate(it):
            if rec.rec_type == "response":
                yield response_to_record(rec, source, relpath, n, max_bytes)
    except ArchiveLoadFailed:
        yield _reject(source, relpath, 0, relpath, "bad_warc_record")
