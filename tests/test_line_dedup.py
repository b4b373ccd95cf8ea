"""Line dedup stage: counted per bucket over the documents reaching it, removed everywhere,
judged by the quality rules afterwards (Spark and the processor alone)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from filters.lines import bucket_key, bucket_of, doc_line_hashes
from pipelines.config import LineDedupConfig
from pipelines.schema import caption_part, image_part, record, records_to_batch, text_part
from pipelines.stages.line_dedup import LineDedup, line_keys

PROSE = "Paragraph {} of its own, written for this page and no other one at all, part {}."


def word(i) -> str:
    """Letters for a number: digits all normalise to 0, so they would not make lines differ."""
    return "".join("abcdefghij"[int(c)] for c in str(i)) if isinstance(i, int) else i


def test_line_keys_count_each_line_once_per_document_and_skip_captions():
    batch = records_to_batch([record("a", "s", "u", [
        text_part("Same line.\nSame line.\n\n!!!\nOther line 12."),
        caption_part("A caption line."), image_part(None, src="x.jpg")])])
    keys = line_keys(batch, 1).column("key").to_numpy()
    assert sorted(keys) == sorted(bucket_key(0, doc_line_hashes(["Same line.\nOther line 12."])))
    assert len(keys) == 2


def test_processor_removes_lines_keeps_order_and_rejects_what_is_left_too_short():
    cfg = LineDedupConfig(enabled=True, min_chars=40)
    boiler = "Accept all cookies (2024)!"
    frequent = np.sort(bucket_key(0, doc_line_hashes(["accept ALL cookies 1999"])))
    stage = LineDedup(cfg, 1, frequent)
    batch = records_to_batch([
        record("a", "s", "u", [text_part(f"First line stays here.\n{boiler}\n\nLast line stays as well, in order."),
                               text_part(boiler), caption_part(boiler)]),
        record("b", "s", "u", [text_part(f"Tiny.\n{boiler}")]),
        record("c", "s", "u", [text_part("Nothing to remove in this document at all.")]),
    ])
    out = stage.make_processor(None)(batch)
    a = out["parts"][0]
    assert [p["text"] for p in a] == ["First line stays here.\n\nLast line stays as well, in order.", boiler]
    assert a[1]["meta"] == [("role", "caption")]   # the caption is never touched
    assert out["signals"][0] == {"line_dedup.lines_removed": 2.0, "line_dedup.chars_removed": 2.0 * len(boiler) + 1}
    assert out["reasons"] == [None, "too_short", None]
    assert out["signals"][2] == {} and out["parts"][2][0]["text"] == "Nothing to remove in this document at all."


def test_buckets_count_apart():
    ids = [f"doc-{i}" for i in range(400)]
    assert {bucket_of(i, 2) for i in ids} == {0, 1}
    key0, key1 = (bucket_key(b, doc_line_hashes(["x y z"]))[0] for b in (0, 1))
    assert key0 != key1


def run(spark, tmp_path, docs: list[dict], driver_max_rows: int = 1_000_000, **line_dedup):
    from pipelines.config import parse_config
    from pipelines.run import run_pipeline

    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    # Two files: two ingest tasks, the counts must still be global.
    for k in range(2 if docs else 0):
        (folder / f"part-{k}.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs[k::2]))
    cfg = parse_config({
        "run": {"output": str(tmp_path / "out"), "progress": False},
        "inputs": [{"name": "web", "format": "jsonl", "path": str(folder / "*.jsonl")}],
        "line_dedup": {"enabled": True, "min_chars": 10, **line_dedup}, "langid": {"enabled": False},
        "quality": {"enabled": False},
        "dedup": {"exact": False, "near": False, "driver_max_rows": driver_max_rows}})
    result = run_pipeline(cfg, spark)
    rows = spark.read.parquet(str(tmp_path / "out" / "_work" / "docs")).collect()
    return result, {r["uri"]: r for r in rows}


@pytest.mark.parametrize("where", ["driver", "spark"])
def test_seven_documents_remove_a_line_six_keep_it(spark, tmp_path, where):
    docs = []
    for i in range(20):
        lines = [PROSE.format(word(i), "a"), PROSE.format(word(i), "b")]
        if i < 7:
            lines.insert(1, ["Home | News | Contact", "HOME | NEWS | CONTACT!", "home news contact"][i % 3])
        if 7 <= i < 13:
            lines.append(f"Copyright {2000 + i} Example Ltd.")
        docs.append({"id": str(i), "url": f"https://site.example/{i}", "text": "\n".join(lines)})
    result, rows = run(spark, tmp_path, docs, driver_max_rows=1_000_000 if where == "driver" else 0)
    for i in range(20):
        text = rows[f"https://site.example/{i}"]["parts"][0]["text"]
        assert rows[f"https://site.example/{i}"]["status"] == "keep"
        assert "ome" not in text.lower().replace("some", "")     # the 7-times line is gone everywhere
        assert ("Copyright" in text) == (7 <= i < 13)             # the 6-times line stays
        assert text.index(PROSE.format(word(i), "a")) < text.index(PROSE.format(word(i), "b"))
    report = json.loads((tmp_path / "out" / "report" / "stages.json").read_text())
    assert report["curation"]["line_dedup"] == {"buckets": 1, "documents": 20, "max_count": 6, "frequent_lines": 1,
                                                "counted_on": where,
                                                "documents_touched": 7, "lines_removed": 7,
                                                "chars_removed": sum(len(docs[i]["text"].split("\n")[1]) + 1
                                                                     for i in range(7))}


def test_the_same_line_in_two_buckets_is_counted_per_bucket(spark, tmp_path):
    from pipelines.readers import stable_id

    # Lines of one width: every document's id (source, file, byte offset) is known up front.
    width, n = 160, 60
    ids = [stable_id("web", "part-0.jsonl", k * width) for k in range(n)]
    by_bucket = {b: [k for k in range(n) if bucket_of(ids[k], 2) == b] for b in (0, 1)}
    # Bucket 0: the line in 7 documents (removed there); bucket 1: in 6 (kept): 13 in all.
    carriers = set(by_bucket[0][:7] + by_bucket[1][:6])
    lines = []
    for k in range(n):
        text = f"Document {word(k)} says something of its own."
        text += "\nSubscribe to our newsletter!" if k in carriers else ""
        line = json.dumps({"url": f"https://site.example/{k}", "text": text, "pad": ""})
        lines.append(line.replace('"pad": ""', '"pad": "' + " " * (width - 1 - len(line)) + '"') + "\n")
    assert all(len(x) == width for x in lines)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "part-0.jsonl").write_text("".join(lines))
    result, rows = run(spark, tmp_path, [], bucket_docs=30)
    assert sorted(r["id"] for r in rows.values()) == sorted(ids)
    report = json.loads((tmp_path / "out" / "report" / "stages.json").read_text())
    assert report["curation"]["line_dedup"]["buckets"] == 2
    for k in carriers:
        text = rows[f"https://site.example/{k}"]["parts"][0]["text"]
        assert ("Subscribe" in text) == (k in by_bucket[1]), k


def test_a_batch_without_frequent_lines_leaves_parts_untouched():
    frequent = np.sort(bucket_key(0, doc_line_hashes(["a line nobody wrote"])))
    batch = records_to_batch([record("p", "s", "u", [image_part(b"\xff\xd8 bytes", src="x.jpg"),
                                                      caption_part("A caption.")]),
                              record("d", "s", "u", [text_part("Some prose.\nMore prose.")])])
    out = LineDedup(LineDedupConfig(enabled=True), 1, frequent).make_processor(None)(batch)
    assert "parts" not in out and out["reasons"] == [None, None] and out["signals"] == [{}, {}]
