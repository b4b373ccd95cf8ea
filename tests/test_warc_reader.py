from pipelines.readers.warc import read_warc
from tests.warcs import html_page, warc_record, write_warc

PARAS = [
    "The old harbour town wakes early, when the fishing boats come back with the night's catch "
    "and the market stalls open along the quay for the first customers of the day.",
    "Visitors who arrive by train walk down the steep main street, past bakeries and small "
    "bookshops, to reach the water before the morning light turns the sea from grey to blue.",
]


def read(path):
    with open(path, "rb") as f:
        return list(read_warc(f, "crawl", "c.warc.gz", max_bytes=1_000_000))


def test_html_pages_become_documents(tmp_path):
    p = tmp_path / "c.warc.gz"
    write_warc(p, [warc_record("http://a.example/1", html_page("Harbour", PARAS)),
                   warc_record("http://a.example/2", html_page("Second", PARAS[::-1]))])
    recs = read(p)
    assert [r["status"] for r in recs] == ["keep", "keep"]
    assert recs[0]["uri"] == "http://a.example/1"
    text = recs[0]["parts"][0]["text"]
    assert "fishing boats" in text and "bookshops" in text
    assert recs[0]["id"] != recs[1]["id"]
    assert read(p)[0]["id"] == recs[0]["id"]  # stable across reads


def test_corrupt_member_is_a_counted_rejection(tmp_path):
    p = tmp_path / "c.warc.gz"
    write_warc(p, [warc_record(f"http://a.example/{i}", html_page(f"P{i}", PARAS)) for i in range(5)],
               corrupt={2})
    statuses = [r["status"] for r in read(p)]
    assert statuses.count("keep") == 4
    assert "ingest:corrupt_gzip" in statuses


def test_non_html_and_errors_are_rejected_with_reasons(tmp_path):
    p = tmp_path / "c.warc.gz"
    write_warc(p, [
        warc_record("http://a.example/img.png", b"\x89PNG\r\n\x1a\n....", "image/png"),
        warc_record("http://a.example/data.bin", b"\x00\x01", "application/octet-stream"),
        warc_record("http://a.example/404", html_page("Missing", PARAS), status="404 Not Found"),
        warc_record("http://a.example/empty", b"<html><body></body></html>"),
        warc_record("http://a.example/latin1", html_page("Caf\u00e9", PARAS).decode().encode("latin-1"),
                    "text/html; charset=utf-8"),
    ])
    recs = read(p)
    assert [r["status"] for r in recs] == ["ingest:image_resource", "ingest:not_html", "ingest:http_status",
                                           "ingest:no_text", "keep"]
    assert recs[0]["parts"][0]["kind"] == "image" and recs[0]["parts"][0]["data"].startswith(b"\x89PNG")
    # declared utf-8 but really latin-1: decoded by the fallback, not mojibake or an error
    assert "harbour" in recs[4]["parts"][0]["text"]


def test_plain_uncompressed_warc(tmp_path):
    p = tmp_path / "c.warc"
    p.write_bytes(warc_record("http://a.example/1", html_page("Harbour", PARAS)))
    with open(p, "rb") as f:
        recs = list(read_warc(f, "crawl", "c.warc", max_bytes=1_000_000))
    assert [r["status"] for r in recs] == ["keep"]
