"""URL filter and PII stages' batch functions, without Spark."""

from pipelines.config import PiiConfig, UrlFilterConfig
from pipelines.schema import record, records_to_batch, text_part
from pipelines.stages.pii import PiiProcessor
from pipelines.stages.urlfilter import UrlFilterProcessor


def batch(rows):
    return records_to_batch([record(f"id{i}", "s", uri, [text_part(t)]) for i, (uri, t) in enumerate(rows)])


def test_url_filter_judges_web_urls_only(tmp_path):
    lst = tmp_path / "block.txt"
    lst.write_text("# my list\nbad.example\nfine.example/private\n")
    cfg = UrlFilterConfig(embedded=False, lists=[str(lst)], substrings=["casino"])
    out = UrlFilterProcessor(cfg)(batch([
        ("https://bad.example/a", "x"), ("http://www.shop.bad.example/", "x"),
        ("https://fine.example/private/page", "x"), ("https://fine.example/public", "x"),
        ("https://news.example/casino-bonus", "x"), ("docs/file.jsonl#120", "x"),
    ]))
    assert out["reasons"] == ["blocked_domain", "blocked_subdomain", "blocked_url", None,
                              "blocked_substring", None]


def test_pii_masks_text_and_counts():
    out = PiiProcessor(PiiConfig())(batch([
        ("u", "Write to jane.doe@example.org or ping 8.8.8.8 and 2001:4860:4860::8888 today."),
        ("u", "Local 192.168.1.1 stays; version 1.2.3 too."),
    ]))
    assert out["parts"][0][0]["text"] == "Write to <EMAIL> or ping <IP> and <IP> today."
    assert out["signals"][0] == {"pii.email": 1.0, "pii.ipv4": 1.0, "pii.ipv6": 1.0}
    assert out["parts"][1][0]["text"] == "Local 192.168.1.1 stays; version 1.2.3 too."
    assert out["signals"][1] == {}
