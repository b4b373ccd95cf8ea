"""srcset and data: URIs: which picture an <img> stands for, with both extractors."""

from __future__ import annotations

import base64

import pytest

from benchmarks.fetch_server import PNG
from pipelines.readers.html import extract_parts
from pipelines.readers.img_sources import decode_data_uri, largest_candidate
from pipelines.readers.warc import html_parts


@pytest.mark.parametrize("srcset, expected", [
    ("a.jpg 480w, b.jpg 1080w, c.jpg 800w", "b.jpg"),
    ("a.jpg, b.jpg 2x, c.jpg 1.5x", "b.jpg"),
    ("a.jpg 1x,b.jpg 3x", "b.jpg"),                                   # no spaces after commas
    ("https://cdn.example/i.jpg?w=200,h=100 200w, https://cdn.example/i.jpg?w=900 900w",
     "https://cdn.example/i.jpg?w=900"),                              # commas inside a URL
    ("small.jpg 320w, big.jpg 2x", "small.jpg"),                      # widths rank above densities
    ("a.jpg 480w, bad.jpg 12q, b.jpg 960w", "b.jpg"),                 # an invalid descriptor drops its candidate
    ("only.jpg", "only.jpg"),
    ("  ,, ", None), ("", None),
])
def test_largest_candidate(srcset, expected):
    assert largest_candidate(srcset) == expected


def test_data_uris():
    b64 = base64.b64encode(PNG).decode()
    assert decode_data_uri(f"data:image/png;base64,{b64}", 10_000) == PNG
    assert decode_data_uri(f"data:image/png;base64,{b64[:40]}\n{b64[40:]}", 10_000) == PNG   # wrapped lines
    assert decode_data_uri("data:image/svg+xml,%3Csvg%3E%3C/svg%3E", 100) == b"<svg></svg>"
    assert decode_data_uri(f"data:text/html;base64,{b64}", 10_000) is None
    assert decode_data_uri(f"data:image/png;base64,{b64}", 10) is None                    # over the cap
    assert decode_data_uri("data:image/png;base64", 100) is None                           # no comma
    assert decode_data_uri("data:image/png;base64,", 100) is None                          # empty


TEXT = ("The old harbour town wakes early, when the fishing boats come back with the night's catch and the "
        "market stalls open along the quay for the first customers of the day. ")


def page() -> str:
    b64 = base64.b64encode(PNG).decode()
    return (f"<html><body><article><h1>Harbour</h1><p>{TEXT * 2}</p>"
            f"<img src='small.jpg' srcset='small.jpg 400w, large.jpg 1600w' alt='responsive'>"
            f"<p>{TEXT * 2}</p><img src='data:image/png;base64,{b64}' alt='inline'>"
            f"<p>{TEXT * 2}</p><img src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' data-src='lazy.jpg' alt='lazy'>"
            f"<p>{TEXT * 2}</p><img data-srcset='l1.jpg 1x, l2.jpg 2x' alt='lazy set'>"
            f"<p>{TEXT * 2}</p><img src='plain.png' alt='plain'><p>{TEXT * 3}</p></article></body></html>")


@pytest.mark.parametrize("extractor", ["trafilatura", "resiliparse"])
def test_both_extractors_choose_the_same_pictures(extractor):
    images = [v for k, v in extract_parts(page(), extractor=extractor) if k == "image"]
    assert [(i["src"], i["alt"]) for i in images] == [
        ("large.jpg", "responsive"), ("", "inline"), ("lazy.jpg", "lazy"), ("l2.jpg", "lazy set"),
        ("plain.png", "plain")]
    assert images[1]["data"] == PNG and all("data" not in i for i in images[:1] + images[2:])


def test_page_parts_resolve_against_the_page_and_keep_inline_bytes():
    parts = html_parts(page(), "http://a.example/dir/page.html", "", 1_000_000)
    images = [p for p in parts if p["kind"] == "image"]
    srcs = [dict(p["meta"]).get("src") for p in images]
    assert srcs == ["http://a.example/dir/large.jpg", None, "http://a.example/dir/lazy.jpg",
                    "http://a.example/dir/l2.jpg", "http://a.example/dir/plain.png"]
    assert images[1]["data"] == PNG and dict(images[1]["meta"])["inline"] == "data_uri"
    assert all(p["data"] is None for p in images if p is not images[1])
