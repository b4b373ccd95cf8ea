"""HTML extractors (trafilatura, resiliparse): main text, images in place, rejections, config."""

from __future__ import annotations

import html as htmlmod

import pytest

from pipelines.config import ConfigError, InputConfig, parse_config
from pipelines.readers import html as html_mod
from pipelines.readers.html import EXTRACTORS, extract_parts, extract_text
from pipelines.readers.warc import read_warc
from tests.warcs import html_page, warc_record, write_warc

BOTH = pytest.mark.parametrize("extractor", EXTRACTORS)

PARAS = [
    "The old harbour town wakes early, when the fishing boats come back with the night's catch "
    "and the market stalls open along the quay for the first customers of the day.",
    "Visitors who arrive by train walk down the steep main street, past bakeries and small "
    "bookshops, to reach the water before the morning light turns the sea from grey to blue.",
    "In the afternoon the harbour master checks the moorings, and the children of the town "
    "swim from the old stone steps while their grandparents watch from the benches above.",
]


def _sample_records(root, extractor):
    recs = {}
    for path in sorted((root / "warc").glob("*.warc.gz")):
        with open(path, "rb") as f:
            for rec in read_warc(f, "crawl", path.name, 10_000_000, extractor=extractor):
                recs[rec["uri"]] = rec
    return recs


@pytest.fixture(scope="module")
def sample(sample_inputs):
    from jobs.sample.pages import CHROME, _join, plan_pages

    root, _ = sample_inputs
    pages, stored, _missing = plan_pages()
    alts = {img["url"]: img["alt"] for img in stored}
    records = {ex: _sample_records(root, ex) for ex in EXTRACTORS}
    return pages, alts, records, CHROME, _join


def _texts(rec):
    return [p["text"] for p in rec["parts"] if p["kind"] == "text"]


@BOTH
def test_sample_pages_give_main_text_without_boilerplate(sample, extractor):
    pages, _, records, chrome, join = sample
    good = [p for p in pages if p.kind == "good"]
    assert len(good) > 50
    for page in good:
        rec = records[extractor][page.url]
        assert rec["status"] == "keep", page.url
        text = "\n".join(_texts(rec))
        # Every paragraph of the article, in order.
        pos = -1
        for para in page.paragraphs:
            at = text.find(join(page.lang, para))
            assert at > pos, (extractor, page.url, para[0][:40])
            pos = at
        # The page chrome (nav, logo, footer, cookie notice) is dropped.
        c = chrome[page.chrome_lang]
        lines = {ln.strip().lstrip("•-* ").strip() for ln in text.split("\n")}
        assert c["cookie"] not in text and c["rights"] not in text and c["privacy"] not in lines
        assert not lines & set(c["nav"]), (extractor, page.url, lines & set(c["nav"]))
        assert page.site not in lines


@BOTH
def test_sample_images_stay_between_their_paragraphs(sample, extractor):
    pages, alts, records, _, join = sample
    with_images = [p for p in pages if p.kind == "good" and p.images]
    assert with_images
    for page in with_images:
        parts = records[extractor][page.url]["parts"]
        images = [(i, dict(p["meta"])) for i, p in enumerate(parts) if p["kind"] == "image"]
        assert [m["src"] for _, m in images] == [url for _, url in sorted(page.images)]
        for (i, meta), (gap, url) in zip(images, sorted(page.images)):
            assert meta["alt"] == alts.get(url, "Photo")
            before = "\n".join(p["text"] for p in parts[:i] if p["kind"] == "text")
            after = "\n".join(p["text"] for p in parts[i + 1:] if p["kind"] == "text")
            assert join(page.lang, page.paragraphs[gap]) in before
            assert join(page.lang, page.paragraphs[gap + 1]) in after
        # No marker leaks into the text.
        assert not any("qzEFIMG" in t for t in _texts(records[extractor][page.url]))


def test_extractors_agree_on_the_sample_statuses(sample):
    _, _, records, _, _ = sample
    a, b = (records[ex] for ex in EXTRACTORS)
    assert a.keys() == b.keys()
    assert {u: r["status"] for u, r in a.items()} == {u: r["status"] for u, r in b.items()}


BROKEN = [
    b"",
    b"<",
    b"<html><body><p>unclosed <b>bold <i>italic <div><p>" + PARAS[0].encode(),
    b"\x00\x01\x02<p>" + PARAS[1].encode() + b"\x00</p>",
    b"<![CDATA[ <p>" + PARAS[0].encode(),
    b"<div>" * 5000 + PARAS[2].encode() + b"</span>" * 300,
    b"<?xml version='1.0'?><rss><channel><item>" + PARAS[0].encode() + b"</item></channel></rss>",
    b"<html><body><script>var x = '<p>" + b"a" * 500 + b"</p>';</script></body></html>",
    b"<p title='" + b"x" * 200_000 + b"'>" + PARAS[1].encode() + b"</p>",
    bytes(range(256)) * 40,
    b"<html><frameset><frame src='a.html'></frameset></html>",
    b"<table><tr><td><p>" + PARAS[2].encode() + b"<img src='a.jpg' alt='" + b"\xff" * 20 + b"'></table>",
]


@BOTH
@pytest.mark.parametrize("i", range(len(BROKEN)))
def test_broken_html_is_a_document_or_a_reason_never_a_crash(tmp_path, extractor, i):
    p = tmp_path / "c.warc.gz"
    write_warc(p, [warc_record(f"http://a.example/{i}", BROKEN[i])])
    with open(p, "rb") as f:
        recs = list(read_warc(f, "crawl", "c.warc.gz", 1_000_000, extractor=extractor))
    assert len(recs) == 1
    assert recs[0]["status"] in ("keep", "ingest:no_text", "ingest:html_parse_error")
    if recs[0]["status"] == "keep":
        assert all(p["text"].strip() for p in recs[0]["parts"] if p["kind"] == "text")


@BOTH
def test_same_rejection_reasons(tmp_path, extractor):
    p = tmp_path / "c.warc.gz"
    write_warc(p, [
        warc_record("http://a.example/ok", html_page("Harbour", PARAS)),
        warc_record("http://a.example/empty", b"<html><body></body></html>"),
        warc_record("http://a.example/img-only", b"<html><body><img src='a.jpg' alt='x'></body></html>"),
        warc_record("http://a.example/404", html_page("Missing", PARAS), status="404 Not Found"),
        warc_record("http://a.example/pdf", b"%PDF-1.4", "application/pdf"),
    ])
    with open(p, "rb") as f:
        recs = list(read_warc(f, "crawl", "c.warc.gz", 1_000_000, extractor=extractor))
    assert [r["status"] for r in recs] == ["keep", "ingest:no_text", "ingest:no_text",
                                           "ingest:http_status", "ingest:not_html"]


def test_extractor_errors_become_html_parse_error(tmp_path, monkeypatch):
    import pipelines.readers.warc as warc

    def boom(html, extractor="trafilatura", **kw):
        raise ValueError("parser blew up")

    monkeypatch.setattr(warc, "extract_parts", boom)
    p = tmp_path / "c.warc.gz"
    write_warc(p, [warc_record("http://a.example/1", html_page("Harbour", PARAS))])
    with open(p, "rb") as f:
        recs = list(read_warc(f, "crawl", "c.warc.gz", 1_000_000, extractor="resiliparse"))
    assert [r["status"] for r in recs] == ["ingest:html_parse_error"]


def test_resiliparse_images_follow_trafilaturas_rule():
    page = (
        "<html><body><nav><img src='/logo.png' alt='Site logo'></nav><main><article>"
        f"<p>{PARAS[0]}</p>"
        "<p>Inline <img src='/a/inline.jpg' alt='Inline photo'> picture.</p>"
        "<img src='/tracker.gif?x=1' alt='pixel'>"
        "<img src='/icon.svg' alt='An icon'>"
        "<img data-src='/lazy/big.webp' src='data:image/gif;base64,R0lGOD' title='Lazy one'>"
        "<map><area href='/x' alt='Area alt text'></map>"
        f"<p>{PARAS[1]}</p></article></main>"
        "<footer><p>All rights reserved.</p></footer></body></html>"
    )
    parts = extract_parts(page, extractor="resiliparse")
    images = [v for k, v in parts if k == "image"]
    assert [i["src"] for i in images] == ["/a/inline.jpg", "/tracker.gif?x=1", "/lazy/big.webp"]
    assert [i["alt"] for i in images] == ["Inline photo", "pixel", "Lazy one"]
    text = "\n".join(v for k, v in parts if k == "text")
    assert PARAS[0] in text and PARAS[1] in text
    for alt in ("Site logo", "Inline photo", "An icon", "Area alt text", "pixel"):
        assert alt not in text  # alt texts belong to image parts, never to the text
    assert "All rights reserved" not in text
    assert parts[0][0] == "text" and parts[-1] == ("text", PARAS[1])
    # Without images, the same text and no image parts.
    assert extract_text(page, extractor="resiliparse") == "\n".join(
        v for k, v in extract_parts(page, with_images=False, extractor="resiliparse"))
    assert all(k == "text" for k, _ in extract_parts(page, with_images=False, extractor="resiliparse"))


@BOTH
def test_text_that_looks_like_a_marker_stays_text(extractor):
    page = html_page("Markers", PARAS + ["Someone wrote qzEFIMGq7qz here, on purpose, in a sentence."])
    parts = extract_parts(page.decode(), extractor=extractor)
    assert [k for k, _ in parts] == ["text"]
    assert "qzEFIMGq7qz" in parts[0][1]


@BOTH
def test_one_line_per_block(extractor):
    text = extract_text(html_page("Harbour", PARAS).decode(), extractor=extractor)
    assert text.split("\n") == ["Harbour", *PARAS]


def test_unknown_extractor_is_an_error():
    with pytest.raises(ValueError, match="unknown HTML extractor 'goose'.*trafilatura, resiliparse"):
        extract_parts("<p>x</p>", extractor="goose")


def test_ingest_passes_the_inputs_extractor(tmp_path, monkeypatch):
    import pipelines.readers.warc as warc
    from pipelines.ingest import read_file

    seen = []
    real = warc.extract_parts

    def spy(html, with_images=True, extractor="trafilatura", **kw):
        seen.append(extractor)
        return real(html, with_images, extractor, **kw)

    monkeypatch.setattr(warc, "extract_parts", spy)
    p = tmp_path / "c.warc.gz"
    write_warc(p, [warc_record("http://a.example/1", html_page("Harbour", PARAS))])
    for ex in EXTRACTORS:
        inp = InputConfig(name="crawl", format="warc", path=str(p), extractor=ex)
        recs = list(read_file(str(p), "c.warc.gz", inp))
        assert [r["status"] for r in recs] == ["keep"]
        assert seen[-1] == ex


def _cfg(extractor):
    return {"inputs": [{"name": "crawl", "format": "warc", "path": "x/*.warc.gz", "extractor": extractor}]}


def test_config_accepts_both_extractors():
    assert InputConfig.EXTRACTORS == EXTRACTORS
    assert parse_config({"inputs": [{"name": "c", "format": "warc", "path": "x"}]}).inputs[0].extractor == "trafilatura"
    for ex in EXTRACTORS:
        assert parse_config(_cfg(ex), "c.toml").inputs[0].extractor == ex


@pytest.mark.parametrize("bad,hint", [("resilparse", "did you mean 'resiliparse'?"),
                                      ("Trafilatura", "did you mean 'trafilatura'?"),
                                      ("goose3", "")])
def test_config_rejects_unknown_extractors_clearly(bad, hint):
    with pytest.raises(ConfigError) as e:
        parse_config(_cfg(bad), "c.toml")
    msg = str(e.value)
    assert msg.startswith("c.toml: inputs[0].extractor must be one of trafilatura, resiliparse, "
                          f"got {bad!r}")
    assert hint in msg and "\n" not in msg


def test_config_rejects_a_non_string_extractor():
    with pytest.raises(ConfigError, match=r"inputs\[0\].extractor must be str"):
        parse_config(_cfg(3), "c.toml")


def test_html_module_marker_is_unlikely_text():
    # The marker must survive both extractors' text conversion unchanged: plain ASCII letters.
    assert html_mod._MARK.format(12).isalnum()
    assert htmlmod.escape(html_mod._MARK.format(3)) == html_mod._MARK.format(3)
