"""Small WARC files written by the tests themselves, one gzip member per record."""

from __future__ import annotations

import gzip
import io

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def warc_record(url: str, body: bytes, content_type: str = "text/html; charset=utf-8",
                status: str = "200 OK") -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    http = StatusAndHeaders(status, [("Content-Type", content_type),
                                     ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
    rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
    writer.write_record(rec)
    return buf.getvalue()


def html_page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>").encode()


def write_warc(path, records: list[bytes], corrupt: set[int] = frozenset()) -> None:
    """Each record its own gzip member; members listed in `corrupt` get their deflate data damaged."""
    with open(path, "wb") as f:
        for i, raw in enumerate(records):
            member = bytearray(gzip.compress(raw, mtime=0))
            if i in corrupt:
                mid = len(member) // 2
                member[mid: mid + 16] = b"\xff" * 16
            f.write(member)
