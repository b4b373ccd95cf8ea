"""Images fetched by URL through the whole pipeline on Spark, from a loopback server: fetched
pictures tiled into the shards, every failure a counted part drop, and a rerun that fetches
nothing."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import webdataset as wds

from benchmarks.fetch_server import JPEG, PNG, WEBP, FetchServer
from pipelines.config import FetchConfig, parse_config
from pipelines.fetch.cache import FetchCache
from pipelines.fetch.client import FetchResult
from pipelines.run import run_pipeline
from tests.warcs import warc_record, write_warc

pytestmark = pytest.mark.spark

TEXT = ("The old harbour town wakes early, when the fishing boats come back with the night's catch and the "
        "market stalls open along the quay for the first customers of the day. ")


def page(images: list[str]) -> bytes:
    paras = [f"<p>{TEXT * 2}Paragraph {i}.</p><img src='{src}' alt='picture {i}'>" for i, src in enumerate(images)]
    return (f"<html><body><article><h1>A walk along the harbour</h1>{''.join(paras)}"
            f"<p>{TEXT * 3}</p></article></body></html>").encode()


@pytest.fixture(scope="module")
def fetch_run(spark, tmp_path_factory):
    with FetchServer() as server:
        d = tmp_path_factory.mktemp("fetch-inputs")
        base = server.url("")
        # Relative sources resolve against the page's URL, the server's.
        write_warc(d / "c.warc.gz", [warc_record(f"{base}/walk", page(
            ["/img/boat.jpg", "img/net.png", "/missing.jpg", "/noai.jpg", "/private/secret.jpg", "/img/boat.jpg",
             "/flaky.jpg", "/busy.jpg", "/down.jpg", "/slow.jpg", "/huge.jpg", "/huge-undeclared.jpg",
             "/html-as-jpeg.jpg", "/otherbot.jpg", "/ours.jpg", "/loop/0.jpg", "/redirect-ok.jpg",
             "/to-metadata.jpg"]))])
        rows = [{"URL": f"{base}/img/pair.jpg", "TEXT": "a red square on a white wall"},
                {"URL": f"{base}/missing.jpg", "TEXT": "a picture that is gone"},
                {"URL": f"{base}/ours.jpg", "TEXT": "a picture whose owner opted out"},
                {"URL": "", "TEXT": "no address at all"}]
        (d / "urls.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        pq.write_table(pa.table({"url": [f"{base}/img/p.webp", f"{base}/html-as-jpeg.jpg"],
                                 "caption": ["a small webp picture", "a page pretending to be a picture"]}),
                       d / "urls.parquet")
        out = tmp_path_factory.mktemp("fetch-out")
        cfg = {
            "run": {"name": "fetch", "output": str(out), "progress": False},
            "inputs": [{"name": "crawl", "format": "warc", "path": str(d / "*.warc.gz")},
                       {"name": "laion", "format": "jsonl", "path": str(d / "urls.jsonl"),
                        "image_url_field": "URL", "text_field": "TEXT"},
                       {"name": "pq", "format": "parquet", "path": str(d / "urls.parquet"),
                        "image_url_field": "url", "text_field": "caption", "url_field": "page"}],
            "fetch": {"enabled": True, "allow_networks": ["127.0.0.1/32"], "retries": 1, "backoff": 0.05,
                      "read_timeout": 2.0, "total_timeout": 3.0, "max_bytes": 100_000, "max_redirects": 3},
            "quality": {"enabled": False},
            "shards": {"max_samples": 100},
        }
        first = run_pipeline(parse_config(cfg), spark)
        hits = dict(server.hits)
        second = run_pipeline(parse_config(cfg), spark)
        yield first, second, out, hits, dict(server.hits), base


def test_fetched_images_reach_the_shards(fetch_run):
    first, _, out, hits, _, base = fetch_run
    m = json.loads((out / "manifest.json").read_text())
    urls = [str(out / "shards" / s["name"]) for s in m["shards"]]
    samples = {s["json"]["uri"]: s for s in wds.WebDataset(urls, shardshuffle=False).decode()}
    doc = samples[f"{base}/walk"]
    images = doc["json"]["images"]
    assert [im["src"] for im in images] == [f"{base}/img/{p}" for p in ("boat.jpg", "net.png", "boat.jpg")] + [
        f"{base}/flaky.jpg", f"{base}/busy.jpg", f"{base}/otherbot.jpg", f"{base}/redirect-ok.jpg"]  # as the page says
    assert doc["tiles.npy"].shape[0] == sum(im["n_tiles"] for im in images)
    assert images[0]["sha1"] == hashlib.sha1(JPEG).hexdigest()
    assert first.part_drops == {  # every failure as planted, each once
        "fetch_http_4xx": 1, "fetch_http_5xx": 1, "fetch_timeout": 1, "fetch_too_large": 2, "fetch_not_image": 1,
        "fetch_opt_out_header": 2, "fetch_opt_out_robots": 1, "fetch_too_many_redirects": 1,
        "fetch_private_address": 1}
    assert hits["/img/boat.jpg"] == 1               # one request for a URL a page uses twice
    assert hits["/flaky.jpg"] == 2 and hits["/busy.jpg"] == 2 and hits["/down.jpg"] == 2  # retried once
    assert "/private/secret.jpg" not in hits and hits["/robots.txt"] >= 1
    report = json.loads((out / "report" / "stages.json").read_text())
    assert report["part_drops"] == first.part_drops
    fetched = report["fetched"]
    # boat, net, flaky, busy, otherbot, moved and the two pairs' images
    assert fetched["images"] == 8 and fetched["images_per_task_s"] > 0
    assert fetched["bytes"] == 5 * len(JPEG) + 2 * len(PNG) + len(WEBP)


def test_stats_and_the_html_page_show_the_fetch(fetch_run):
    from pipelines.report_html import render
    from pipelines.stats import summarize

    _, _, out, _, _, _ = fetch_run
    s = summarize(out)
    assert s["fetched"]["images"] == 8 and s["part_drops"]["fetch_opt_out_robots"] == 1
    page = render(s)
    assert "fetched images" in page and "fetch_http_4xx" in page


def test_url_datasets_become_pairs_and_failures_are_rejections(fetch_run):
    _, _, out, hits, _, base = fetch_run
    report = json.loads((out / "report" / "stages.json").read_text())
    status = report["status_counts"]
    for reason in ("images:fetch_http_4xx", "images:fetch_opt_out_header", "images:fetch_not_image",
                   "ingest:missing_image_url"):
        assert status.get(reason) == 1, (reason, status)
    m = json.loads((out / "manifest.json").read_text())
    urls = [str(out / "shards" / s["name"]) for s in m["shards"]]
    pairs = [s for s in wds.WebDataset(urls, shardshuffle=False).decode() if s["json"]["source"] in ("laion", "pq")]
    assert sorted(s["json"]["images"][0]["src"] for s in pairs) == [f"{base}/img/p.webp", f"{base}/img/pair.jpg"]
    assert all(s["tiles.npy"].shape[0] == s["json"]["images"][0]["n_tiles"] for s in pairs)


def test_a_rerun_fetches_nothing_and_writes_the_same_shards(fetch_run):
    first, second, out, hits, hits_after, _ = fetch_run
    assert hits_after == hits
    assert second.part_drops == first.part_drops
    assert [s["sha256"] for s in second.manifest["shards"]] == [s["sha256"] for s in first.manifest["shards"]]


def test_cache_keeps_images_and_lasting_failures_only(tmp_path):
    cache = FetchCache(str(tmp_path / "cache"))
    cache.put(FetchResult("http://x.example/a.jpg", "ok", body=JPEG, format="jpeg"))
    cache.put(FetchResult("http://x.example/b.jpg", "http_4xx", status=404))
    cache.put(FetchResult("http://x.example/c.jpg", "timeout"))
    a, b = cache.get("http://x.example/a.jpg"), cache.get("http://x.example/b.jpg")
    assert (a.reason, a.body, a.format) == ("ok", JPEG, "jpeg")
    assert (b.reason, b.status) == ("http_4xx", 404)
    assert cache.get("http://x.example/c.jpg") is None       # a passing failure: tried again next time
    assert cache.get("http://x.example/never.jpg") is None


def test_fetch_config_is_validated():
    from pipelines.config import ConfigError

    base = {"inputs": [{"name": "a", "format": "jsonl", "path": "x.jsonl"}]}
    for bad in ({"concurrency": 0}, {"max_bytes": 10}, {"allow_networks": ["not-a-net"]}, {"agent_token": "two words"},
                {"read_timeout": 0}):
        with pytest.raises(ConfigError, match="fetch"):
            parse_config({**base, "fetch": bad})
    with pytest.raises(ConfigError, match="concurency"):
        parse_config({**base, "fetch": {"concurency": 4}})
    assert parse_config({**base, "fetch": {"enabled": True}}).fetch == FetchConfig(enabled=True)
    urls = {"inputs": [{"name": "a", "format": "jsonl", "path": "x.jsonl", "image_url_field": "URL"}]}
    with pytest.raises(ConfigError, match="needs fetch.enabled"):
        parse_config(urls)
    assert parse_config({**urls, "fetch": {"enabled": True}}).inputs[0].image_url_field == "URL"
    with pytest.raises(ConfigError, match="image_url_field is for jsonl and parquet"):
        parse_config({"inputs": [{"name": "a", "format": "warc", "path": "x", "image_url_field": "u"}],
                      "fetch": {"enabled": True}})


def test_cache_on_s3():
    """The cache through the storage layer on moto's S3 server (a shared `fetch.cache_dir`)."""
    from pipelines.io import s3
    from pipelines.io.storage import StorageOptions
    from tests.s3_util import fake_credentials, moto_server

    with moto_server() as endpoint, fake_credentials():
        opts = StorageOptions(endpoint_url=endpoint)
        s3.client(opts).create_bucket(Bucket="fetch-cache")
        cache = FetchCache("s3://fetch-cache/runs/shared", opts)
        cache.put(FetchResult("http://x.example/a.jpg", "ok", body=JPEG, format="jpeg"))
        cache.put(FetchResult("http://x.example/b.jpg", "opt_out_robots"))
        again = FetchCache("s3://fetch-cache/runs/shared", opts)   # another run, another worker
        assert again.get("http://x.example/a.jpg").body == JPEG
        assert again.get("http://x.example/b.jpg").reason == "opt_out_robots"
        keys = [o["Key"] for o in s3.client(opts).list_objects_v2(Bucket="fetch-cache")["Contents"]]
        assert len(keys) == 2 and all(k.startswith("runs/shared/") for k in keys)
