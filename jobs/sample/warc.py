"""A minimal, byte-exact WARC/1.1 writer and the sample crawl's two WARC files."""

from __future__ import annotations

import base64
import gzip
import hashlib
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from jobs.sample.common import uid
from jobs.sample.common import write as _write
from jobs.sample.pages import Page, render_html
from jobs.sample.pictures import encode_image as _encode_image
from jobs.sample.tables import CRAWL_START, WARC_FILES


def _sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _record_id(*parts: str) -> str:
    return f"<urn:uuid:{uid('|'.join(parts))}>"


def _warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    """One record as its own gzip member, so readers can seek to any record like in Common Crawl."""
    head = ["WARC/1.1", *(f"{k}: {v}" for k, v in headers),
            f"WARC-Block-Digest: {_sha1_b32(block)}", f"Content-Length: {len(block)}"]
    raw = "\r\n".join(head).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"
    return gzip.compress(raw, compresslevel=9, mtime=0)


def _http_exchange(url: str, content_type: str, payload: bytes, when: datetime) -> tuple[bytes, bytes]:
    host, _, path = url.removeprefix("https://").partition("/")
    request = (f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: earlyfuse-sample/1.0\r\n"
               f"Accept: */*\r\nAccept-Encoding: identity\r\n\r\n").encode()
    response = (f"HTTP/1.1 200 OK\r\nDate: {format_datetime(when, usegmt=True)}\r\nServer: nginx\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
    return request, response


class WarcWriter:
    """Minimal byte-exact WARC/1.1 writer (warcio would add wall-clock dates and random ids)."""

    def __init__(self, filename: str, day: int):
        self.filename = filename
        self.start = CRAWL_START + timedelta(days=day)
        self.count = 0
        self.info_id = _record_id(filename, "warcinfo")
        fields = ("software: earlyfuse sample_data\r\n"
                  "format: WARC File Format 1.1\r\n"
                  "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
                  "isPartOf: earlyfuse-sample-crawl\r\n"
                  "description: synthetic crawl for the earlyfuse sample pipeline\r\n")
        self.chunks = [_warc_record([
            ("WARC-Type", "warcinfo"), ("WARC-Date", self._date(self.start)), ("WARC-Filename", Path(filename).name),
            ("WARC-Record-ID", self.info_id), ("Content-Type", "application/warc-fields"),
        ], fields.encode())]

    @staticmethod
    def _date(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def add(self, url: str, content_type: str, payload: bytes) -> None:
        self.count += 1
        when = self.start + timedelta(seconds=7 * self.count)
        request, response = _http_exchange(url, content_type, payload, when)
        request_id = _record_id(self.filename, "request", url)
        common = [("WARC-Date", self._date(when)), ("WARC-Warcinfo-ID", self.info_id), ("WARC-Target-URI", url)]
        self.chunks.append(_warc_record([
            ("WARC-Type", "request"), ("WARC-Record-ID", request_id), *common,
            ("Content-Type", "application/http; msgtype=request"),
        ], request))
        self.chunks.append(_warc_record([
            ("WARC-Type", "response"), ("WARC-Record-ID", _record_id(self.filename, "response", url)), *common,
            ("WARC-Concurrent-To", request_id), ("WARC-Payload-Digest", _sha1_b32(payload)),
            ("Content-Type", "application/http; msgtype=response"),
        ], response))

    def bytes(self) -> bytes:
        return b"".join(self.chunks)


def write_warcs(root: Path, pages: list[Page], stored_images: list[dict]) -> list[dict]:
    alts = {img["url"]: img["alt"] for img in stored_images}
    by_url = {img["url"]: img for img in stored_images}
    writers = {name: WarcWriter(name, day) for day, name in enumerate(WARC_FILES)}
    written: list[dict] = []
    for page in pages:
        writer = writers[page.file]
        writer.add(page.url, "text/html; charset=utf-8", render_html(page, alts).encode("utf-8"))
        # An image is crawled right after the first page that links it; dup
        # pages link the same image but it is fetched only once.
        for _, url in page.images:
            img = by_url.get(url)
            if img is None or img.get("file"):
                continue
            img["file"] = page.file
            content_type = "image/png" if img["fmt"] == "png" else "image/jpeg"
            writer.add(url, content_type, _encode_image(img["image"], img["fmt"]))
            written.append({"url": url, "file": page.file, "content_type": content_type,
                            "width": img["image"].width, "height": img["image"].height, "alpha": img["alpha"]})
    for name, writer in writers.items():
        _write(root / name, writer.bytes())
    return written
