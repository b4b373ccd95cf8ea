"""URL keys, crawl dates and the URL dedup stage: one document per URL, the newest kept."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from filters.urlkey import crawl_date, url_key
from pipelines.config import UrlDedupConfig
from pipelines.frames import LocalFrame
from pipelines.schema import record, records_to_batch, text_part
from pipelines.stages.dedup_url import UrlDedup


@pytest.mark.parametrize("a,b", [
    ("HTTP://Example.COM/a", "http://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/", "https://example.com"),
    ("https://example.com/a#section", "https://example.com/a"),
    ("https://example.com/a/", "https://example.com/a"),
    ("https://example.com/%7euser", "https://example.com/%7Euser"),
    ("https://example.com./a", "https://example.com/a"),
])
def test_spellings_of_one_url_share_a_key(a, b):
    assert url_key(a) == url_key(b) is not None


@pytest.mark.parametrize("a,b", [
    ("http://example.com/a", "https://example.com/a"),
    ("https://example.com/a?page=1", "https://example.com/a?page=2"),
    ("https://example.com:8443/a", "https://example.com/a"),
    ("https://example.com/A", "https://example.com/a"),
    ("https://a.example.com/x", "https://b.example.com/x"),
])
def test_other_pages_keep_other_keys(a, b):
    assert url_key(a) != url_key(b)


def test_trailing_slash_rule_is_configurable_and_non_web_uris_have_no_key():
    assert url_key("https://example.com/a/", trailing_slash=False) != url_key("https://example.com/a")
    assert url_key("https://example.com/", trailing_slash=False) == url_key("https://example.com")
    for uri in ("docs/file.jsonl#12", "file:///tmp/a.html", "", None, "http://[bad"):
        assert url_key(uri) is None


def test_crawl_dates():
    assert crawl_date("2024-05-01T12:00:00Z") == 1714564800.0
    assert crawl_date("2024-05-01T14:00:00+02:00") == 1714564800.0
    assert crawl_date("2024-05-01T12:00:00") == 1714564800.0  # no zone: UTC
    assert crawl_date(1714564800) == crawl_date("1714564800") == 1714564800.0
    assert crawl_date("yesterday") is None and crawl_date(None) is None and crawl_date(True) is None


def decide(rows):
    stage = UrlDedup(UrlDedupConfig(enabled=True))
    batch = records_to_batch([record(i, "s", uri, [text_part("t")], signals=None if d is None else
                                     {"crawl.date": crawl_date(d)}) for i, uri, d in rows])
    keys = stage.keys(batch.select(["id", *stage.reads]))
    (frame, reason), = stage.decide(LocalFrame(pa.Table.from_batches([keys])), None).rejects
    assert reason == "older_version"
    return sorted(frame.to_arrow().column("id").to_pylist())


def test_newest_wins_ties_by_id_undated_loses():
    assert decide([("a", "https://x.example/p", "2024-01-01"), ("b", "https://X.example/p/", "2024-03-01"),
                   ("c", "https://x.example/p#f", "2024-02-01"), ("d", "https://x.example/q", "2020-01-01")]) \
        == ["a", "c"]
    assert decide([("b", "https://x.example/p", "2024-01-01"), ("a", "https://x.example/p", "2024-01-01")]) == ["b"]
    assert decide([("a", "https://x.example/p", None), ("b", "https://x.example/p", "1999-01-01")]) == ["a"]
    assert decide([("a", "file.jsonl#1", None), ("b", "file.jsonl#1", None)]) == []


def test_pipeline_keeps_the_newest_crawl_across_files_and_partitions(spark, tmp_path):
    from pipelines.config import parse_config
    from pipelines.run import run_pipeline

    docs = tmp_path / "in"
    docs.mkdir()
    text = "A paragraph of plain prose about {} that is long enough to be a document of its own here."
    # One URL crawled at three dates, each copy in its own file (its own ingest task).
    crawls = [("2023-01-05T00:00:00Z", "http://News.example/story/"), ("2024-07-01T00:00:00Z",
              "http://news.example:80/story#comments"), ("2022-11-30T00:00:00Z", "http://news.example/story")]
    for n, (date, url) in enumerate(crawls):
        rows = [{"id": f"f{n}-{k}", "url": f"http://news.example/other-{n}-{k}", "seen": date,
                 "text": text.format(f"topic {n} {k}")} for k in range(3)]
        rows.insert(n, {"id": f"story-{n}", "url": url, "seen": date, "text": text.format(f"the story {n}")})
        (docs / f"crawl-{n}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = parse_config({
        "run": {"output": str(tmp_path / "out"), "progress": False},
        "inputs": [{"name": "news", "format": "jsonl", "path": str(docs / "*.jsonl"), "date_field": "seen"}],
        "url_dedup": {"enabled": True}, "langid": {"enabled": False}, "quality": {"enabled": False},
        "dedup": {"exact": False, "near": False}})
    result = run_pipeline(cfg, spark)
    rows = spark.read.parquet(str(tmp_path / "out" / "_work" / "docs")).collect()
    status = {r["uri"]: r["status"] for r in rows}
    assert status == {**{f"http://news.example/other-{n}-{k}": "keep" for n in range(3) for k in range(3)},
                      crawls[0][1]: "url_dedup:older_version", crawls[1][1]: "keep",
                      crawls[2][1]: "url_dedup:older_version"}
    dates = {r["uri"]: dict(r["signals"])["crawl.date"] for r in rows}
    assert dates[crawls[1][1]] == crawl_date(crawls[1][0])
    stage = next(s for s in result.stages if s["stage"] == "url_dedup")
    assert stage == {"stage": "url_dedup", "in": 12, "kept": 10, "rejected": 2,
                     "reasons": {"older_version": 2}}
