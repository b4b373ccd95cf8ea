"""Image resolution from a broadcast lookup: the same choices as the join, and the tallies
that decide between them."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa

from pipelines.ingest import media_tally
from pipelines.readers.warc import RESOURCE_STATUS
from pipelines.schema import image_part, record, records_to_batch, text_part
from pipelines.stages.resolve_images import fill as _fill
from pipelines.stages.resolve_images import resource_lookup


def test_lookup_keeps_the_lowest_id_per_url_as_the_join_does():
    got = resource_lookup(["u1", "u1", "u2", "u3", "u3"], ["b", "a", "c", "e", "d"],
                          [b"from-b", b"from-a", b"c", b"e", None])
    # u3's lowest id holds no bytes: the join's min_by picks it too, so u3 stays unresolved.
    assert got == {"u1": b"from-a", "u2": b"c", "u3": None}


def test_fill_sets_only_missing_bytes_of_known_sources():
    lookup = SimpleNamespace(value={"http://x/a.jpg": b"A", "http://x/none.jpg": None})
    rows = [record("p1", "crawl", "u", [text_part("t"), image_part(None, src="http://x/a.jpg"),
                                        image_part(None, src="http://x/other.jpg"),
                                        image_part(b"own", src="http://x/a.jpg"),
                                        image_part(None, src="http://x/none.jpg"), image_part(None)])]
    parts = _fill(lookup, records_to_batch(rows))["parts"][0]
    assert [p["data"] for p in parts] == [None, b"A", None, b"own", None, None]
    assert [p["text"] for p in parts] == ["t", None, None, None, None, None]
    assert dict(parts[1]["meta"]) == {"src": "http://x/a.jpg"}


def test_media_tally_counts_resource_bytes():
    rows = [record("r1", "crawl", "http://x/a.jpg", [image_part(b"12345", src="http://x/a.jpg")],
                   status=RESOURCE_STATUS),
            record("r2", "crawl", "http://x/b.jpg", [image_part(b"123", src="http://x/b.jpg")],
                   status=RESOURCE_STATUS),
            record("p1", "crawl", "u", [text_part("t"), image_part(None, src="http://x/a.jpg")]),
            record("p2", "crawl", "u", [text_part("t")]),
            record("p3", "crawl", "u", [text_part("t"), image_part(None, src="s")], status="quality:short")]
    assert media_tally(records_to_batch(rows)) == (1, 2, 8)
    assert media_tally(records_to_batch(rows[2:])) == (1, 0, 0)
    assert isinstance(records_to_batch(rows), pa.RecordBatch)
