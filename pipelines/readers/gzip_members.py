"""Split a multi-member gzip stream (a .warc.gz) into members, surviving corrupt ones.

A corrupt member does not end the file: the reader reports it and resynchronises on the
next gzip header, which is what makes one bad record cost one record, not a whole WARC.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO

MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 16
OUT_STEP = 1 << 20


class MemberError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def iter_members(f: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | MemberError]]:
    """Yield (compressed offset, decompressed bytes or MemberError) per member.

    Decompressed output beyond `max_bytes` is discarded as it is produced (the member
    becomes a `record_too_large` error), so a decompression bomb cannot exhaust memory.
    """
    pending = b""   # raw bytes read but not yet consumed
    offset = 0      # file offset of pending[0]
    eof = False

    def fill() -> bool:
        nonlocal pending, eof
        if eof:
            return False
        chunk = f.read(CHUNK)
        if not chunk:
            eof = True
            return False
        pending += chunk
        return True

    while True:
        while len(pending) < 3 and fill():
            pass
        if not pending:
            return
        if not pending.startswith(MAGIC):
            start = offset
            while True:
                pos = pending.find(MAGIC, 1)
                if pos >= 0:
                    offset += pos
                    pending = pending[pos:]
                    break
                keep = pending[-2:]
                offset += len(pending) - len(keep)
                pending = keep
                if not fill():
                    offset += len(pending)
                    pending = b""
                    break
            yield start, MemberError("not_gzip", f"{offset - start} bytes without a gzip header")
            continue

        start = offset
        raw = bytearray()          # this member's compressed bytes, for resynchronising
        d = zlib.decompressobj(31)
        out = bytearray()
        size = 0
        error: MemberError | None = None
        data = pending
        pending = b""
        while True:
            raw += data
            try:
                # Output is bounded per call: 64 KB of a bomb can inflate to 64 MB at once.
                while True:
                    piece = d.decompress(data, OUT_STEP)
                    size += len(piece)
                    if size <= max_bytes:
                        out += piece
                    else:
                        out = bytearray()
                    data = d.unconsumed_tail
                    if not data or d.eof:
                        break
            except zlib.error as e:
                error = MemberError("corrupt_gzip", str(e))
                break
            if d.eof:
                break
            data = f.read(CHUNK) if not eof else b""
            if not data:
                eof = True
                error = MemberError("truncated_gzip", f"member ends after {len(raw)} bytes")
                break
        if error is None:
            used = len(raw) - len(d.unused_data)
            pending = d.unused_data
            offset = start + used
            if size > max_bytes:
                yield start, MemberError("record_too_large", f"{size} bytes > {max_bytes}")
            else:
                yield start, bytes(out)
            continue
        # Resynchronise: the next member starts at the next gzip header after this one.
        nxt = bytes(raw).find(MAGIC, 1)
        if nxt >= 0:
            pending = bytes(raw[nxt:])
            offset = start + nxt
        else:
            pending = b""
            offset = start + len(raw)
        yield start, error
