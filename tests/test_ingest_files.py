"""Every file under an input path ends read, or counted as skipped with its reason; JSONL
lines that start with a byte-order mark (concatenated files carry them) are read."""

from __future__ import annotations

import io
import json

import pytest

from pipelines.config import InputConfig, parse_config
from pipelines.ingest import Ingest, sort_files
from pipelines.readers.documents import read_jsonl
from tests.images_util import jpeg

BOM = "\ufeff".encode()


def test_jsonl_lines_starting_with_a_byte_order_mark_are_read():
    a = json.dumps({"id": "a", "text": "first file"}).encode()
    b = json.dumps({"id": "b", "text": "second file, concatenated"}).encode()
    data = BOM + a + b"\n" + BOM + b + b"\n" + BOM + b"\n" + b"{broken\n"
    recs = list(read_jsonl(io.BytesIO(data), "docs", "d.jsonl", InputConfig(name="docs", format="jsonl", path="x")))
    assert [r["status"] for r in recs] == ["keep", "keep", "ingest:bad_json"]
    assert [r["parts"][0]["text"] for r in recs[:2]] == ["first file", "second file, concatenated"]
    # A byte-order mark inside a line is not a format marker: the JSON is still bad there.
    inner = b'{"text": "x"' + BOM + b"}\n"
    assert [r["status"] for r in read_jsonl(io.BytesIO(inner), "d", "d.jsonl", InputConfig())] == ["ingest:bad_json"]


def test_media_folders_sort_their_files():
    files = [(f"/in/{n}", n) for n in ("a.jpg", "a.txt", "b.PNG", "b.json", "c.txt", "logo.svg", "notes.md",
                                        "README")]
    read, skipped = sort_files(files, "images")
    assert [r for _, r in read] == ["a.jpg", "b.PNG"]
    assert skipped == {"orphan_sidecar": 1, "unsupported_extension": 3}
    videos = [(f"/v/{n}", n) for n in ("clip.mp4", "clip.vtt", "clip.txt", "other.srt", "cover.jpg")]
    read, skipped = sort_files(videos, "video")
    assert [r for _, r in read] == ["clip.mp4"] and skipped == {"orphan_sidecar": 1, "unsupported_extension": 1}
    # Other formats read every file; a bad one becomes counted rejections instead.
    assert sort_files(files, "jsonl") == (files, {})


def test_the_plan_counts_every_file_it_does_not_read(tmp_path):
    (tmp_path / "a.jpg").write_bytes(jpeg(32, 32))
    (tmp_path / "a.txt").write_text("a caption")
    (tmp_path / "drawing.svg").write_text("<svg/>")
    (tmp_path / "lost.json").write_text("{}")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    cfg = parse_config({"inputs": [{"name": "pics", "format": "images", "path": str(tmp_path)}]}, "<t>")
    skipped: dict = {}
    tasks = Ingest(cfg.inputs).plan(skipped=skipped)
    assert [t["relpaths"] for t in tasks] == [["a.jpg"]]
    assert skipped == {"pics": {"hidden": 1, "orphan_sidecar": 1, "unsupported_extension": 1}}


@pytest.mark.spark
def test_skipped_files_reach_the_report_and_the_summary(spark, tmp_path, capsys):
    from jobs.summary import print_run_summary
    from pipelines.run import run_pipeline

    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"p{i}.jpg").write_bytes(jpeg(64, 48, seed=i))
        (src / f"p{i}.txt").write_text(f"picture number {i}")
    (src / "diagram.svg").write_text("<svg/>")
    out = tmp_path / "out"
    cfg = parse_config({"run": {"name": "pics", "output": str(out), "progress": False},
                        "inputs": [{"name": "pics", "format": "images", "path": str(src)}],
                        **{k: {"enabled": False} for k in ("urlfilter", "pii", "langid", "quality")}})
    result = run_pipeline(cfg, spark)
    report = json.loads((out / "report" / "stages.json").read_text())
    assert report["skipped_files"] == {"pics": {"unsupported_extension": 1}} == result.skipped_files
    assert report["stages"][0]["in"] == 3 and result.manifest["totals"]["samples"] == 3
    assert set(report["stage_seconds"]) >= {"ingest", "images"}
    print_run_summary(result)
    assert "files not read: pics: unsupported_extension 1" in capsys.readouterr().out
