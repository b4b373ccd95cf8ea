import gzip
import io

from pipelines.readers.gzip_members import MemberError, iter_members


def members(*payloads: bytes) -> list[bytes]:
    return [gzip.compress(p, mtime=0) for p in payloads]


def test_splits_members_with_offsets():
    parts = members(b"one", b"two" * 1000, b"three")
    data = b"".join(parts)
    got = list(iter_members(io.BytesIO(data), max_bytes=10**6))
    assert [m for _, m in got] == [b"one", b"two" * 1000, b"three"]
    assert [o for o, _ in got] == [0, len(parts[0]), len(parts[0]) + len(parts[1])]


def test_corrupt_member_is_reported_and_reading_continues():
    a, b, c = members(b"alpha " * 50, b"bravo " * 50, b"charlie " * 50)
    bad = bytearray(b)
    bad[len(bad) // 2: len(bad) // 2 + 8] = b"\xff" * 8   # damage the deflate stream
    got = list(iter_members(io.BytesIO(a + bytes(bad) + c), max_bytes=10**6))
    ok = [m for _, m in got if isinstance(m, bytes)]
    errors = [m for _, m in got if isinstance(m, MemberError)]
    assert ok[0] == b"alpha " * 50 and ok[-1] == b"charlie " * 50
    assert errors and all(e.reason in ("corrupt_gzip", "not_gzip") for e in errors)
    assert errors[0].reason == "corrupt_gzip"


def test_truncated_last_member():
    a, b = members(b"alpha", b"bravo " * 100)
    got = list(iter_members(io.BytesIO(a + b[: len(b) // 2]), max_bytes=10**6))
    assert got[0][1] == b"alpha"
    assert isinstance(got[1][1], MemberError) and got[1][1].reason == "truncated_gzip"


def test_decompression_bomb_is_capped():
    bomb = gzip.compress(b"\0" * 5_000_000, mtime=0)
    small = gzip.compress(b"after", mtime=0)
    got = list(iter_members(io.BytesIO(bomb + small), max_bytes=100_000))
    assert isinstance(got[0][1], MemberError) and got[0][1].reason == "record_too_large"
    assert got[1][1] == b"after"


def test_garbage_between_members():
    a, b = members(b"alpha", b"bravo")
    got = list(iter_members(io.BytesIO(a + b"garbage!" + b), max_bytes=1000))
    assert [m if isinstance(m, bytes) else m.reason for _, m in got] == [b"alpha", "not_gzip", b"bravo"]


def test_decompression_bomb_is_rejected_with_bounded_memory():
    """300 MB of zeros in 290 KB of gzip: rejected, with memory near the cap, not the bomb."""
    import gzip
    import io
    import tracemalloc

    bomb = gzip.compress(b"\0" * 300_000_000, 9) + gzip.compress(b"WARC/1.0 next")
    tracemalloc.start()
    try:
        got = list(iter_members(io.BytesIO(bomb), 4_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [m.reason if isinstance(m, MemberError) else m for _, m in got] == ["record_too_large", b"WARC/1.0 next"]
    assert peak < 12_000_000, peak
