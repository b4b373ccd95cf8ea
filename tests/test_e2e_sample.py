"""The bundled sample pipeline, end to end, read back with webdataset's own reader."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import webdataset as wds

from jobs.cli import main as cli_main
from tests.conftest import ROOT, sample_config

pytestmark = pytest.mark.e2e


def kept_runs(out: Path) -> dict[str, list[str]]:
    """Per kept document, its text runs: text parts joined, split where a usable image stands."""
    table = pq.read_table(out / "_work" / "docs").to_pylist()
    runs = {}
    for r in table:
        if r["status"] != "keep":
            continue
        doc, cur = [], []
        for p in r["parts"]:
            meta = dict(p["meta"] or [])
            if p["kind"] == "text" and p["text"]:
                cur.append(p["text"])
            elif p["kind"] in ("image", "frame") and "rows" in meta and not meta.get("dropped"):
                if cur:
                    doc.append("\n\n".join(cur))
                cur = []
        if cur:
            doc.append("\n\n".join(cur))
        runs[r["id"]] = doc
    return runs


def test_manifest_written_and_shards_match(sample_run):
    result, _, _ = sample_run
    out = Path(result.output)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"]["shards"] == len(manifest["shards"]) > 1
    for s in manifest["shards"]:
        data = (out / "shards" / s["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == s["sha256"]
        assert len(data) == s["bytes"]
    assert manifest["tokenizer"]["special_ids"]["<|begin_of_text|>"] == 100277
    assert manifest["config"]["shards"]["name"] == "sample"
    assert not list((out / "shards").glob("*.tmp-*"))


def test_webdataset_reads_every_shard_and_tokens_decode_to_text(sample_run):
    from tokenization import load_tokenizer

    result, _, _ = sample_run
    out = Path(result.output)
    manifest = json.loads((out / "manifest.json").read_text())
    urls = [str(out / "shards" / s["name"]) for s in manifest["shards"]]
    from tokenization.layout import image_token_ids

    runs = kept_runs(out)
    tok = load_tokenizer(manifest["tokenizer"]["spec"])
    seen, n_images = [], 0
    for sample in wds.WebDataset(urls, shardshuffle=False).decode():
        meta, ids = sample["json"], sample["tokens.npy"]
        assert ids.dtype.name == "uint32"
        assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
        assert meta["n_tokens"] == len(ids)
        # Cut the stream at its images: each span is exactly the image's layout, and the
        # text between spans decodes back to the extracted text.
        pos, texts = 1, []
        for im in meta["images"]:
            span = ids[im["token_offset"]: im["token_offset"] + im["n_tokens"]]
            assert list(span) == image_token_ids(*im["grid"], tok.special_ids)
            if im["token_offset"] > pos:
                texts.append(tok.decode(ids[pos: im["token_offset"]]))
            pos = im["token_offset"] + im["n_tokens"]
        if pos < len(ids) - 1:
            texts.append(tok.decode(ids[pos:-1]))
        assert texts == runs[meta["id"]]
        if meta["images"]:
            assert sample["tiles.npy"].shape == (sum(i["n_tiles"] for i in meta["images"]), 3, 336, 336)
            n_images += len(meta["images"])
        assert sample["__key__"] == meta["id"]
        seen.append(meta["id"])
    assert len(seen) == len(set(seen)) == manifest["totals"]["samples"] == len(runs)
    assert n_images == manifest["totals"]["images"] > 0


def test_sample_has_languages_scripts_and_planted_rejections(sample_run):
    result, truth, _ = sample_run
    out = Path(result.output)
    kept = pq.read_table(out / "_work" / "docs").to_pylist()
    by_uri = {r["uri"]: r for r in kept}
    langs = {r["lang"] for r in kept if r["status"] == "keep"}
    assert len(langs) >= 8
    assert len({code.split("_")[1] for code in langs}) >= 4
    pages = truth["pages"]
    dups = [p for p in pages if p["kind"] == "exact_dup"]
    # Never both copies kept; a pair that reached dedup loses one copy there.
    assert dups and not any(by_uri[p["url"]]["status"] == by_uri[p["dup_of"]]["status"] == "keep" for p in dups)
    assert any(by_uri[p["url"]]["status"] == "dedup_exact:duplicate" or
               by_uri[p["dup_of"]]["status"] == "dedup_exact:duplicate" for p in dups)
    low = [p for p in pages if p["kind"] == "low_quality"]
    rejected_low = [p for p in low if p["url"] not in by_uri or by_uri[p["url"]]["status"] != "keep"]
    assert len(rejected_low) >= 0.8 * len(low)
    near = [p for p in pages if p["kind"] == "near_dup"]
    # Each planted near-duplicate pair that reached dedup keeps exactly one copy.
    for p in near:
        pair = sorted((by_uri[p["url"]]["status"], by_uri[p["dup_of"]]["status"]))
        assert pair == ["dedup_near:duplicate", "keep"] or "keep" not in pair, (p["url"], pair)
    assert sum("dedup_near:duplicate" in (by_uri[p["url"]]["status"], by_uri[p["dup_of"]]["status"])
               for p in near) >= len(near) - 1
    # A good page may lose to its planted copy (the survivor is the lower id).
    copied = {p["dup_of"] for p in pages if p["kind"] in ("near_dup", "exact_dup")
              and by_uri.get(p["url"], {}).get("status") == "keep"}
    good = [p for p in pages if p["kind"] == "good" and p["url"] not in copied]
    kept_good = [p for p in good if by_uri.get(p["url"], {}).get("status") == "keep"]
    assert len(kept_good) >= 0.9 * len(good)
    for p in kept_good:
        assert by_uri[p["url"]]["lang"] == p["lang"], p["url"]


def test_report_counts_are_consistent(sample_run):
    result, _, _ = sample_run
    out = Path(result.output)
    report = json.loads((out / "report" / "stages.json").read_text())
    stages = report["stages"]
    assert [s["stage"] for s in stages] == ["ingest", "urlfilter", "pii", "url_dedup", "line_dedup", "langid",
                                            "quality", "resolve_images",
                                            "video", "images", "dedup_exact", "dedup_near", "dedup_images",
                                            "dedup_video"]
    for prev, cur in zip(stages, stages[1:]):
        assert cur["in"] == prev["kept"]
    for s in stages:
        assert s["in"] == s["kept"] + s["rejected"] == s["kept"] + sum(s["reasons"].values())
    rejected_rows = pq.read_table(out / "rejected").num_rows
    assert rejected_rows == sum(s["rejected"] for s in stages)
    assert stages[-1]["kept"] == result.manifest["totals"]["samples"]


def test_stats_json(sample_run, capsys):
    result, _, _ = sample_run
    assert cli_main(["stats", result.output, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["totals"]["samples"] == result.manifest["totals"]["samples"]
    assert sum(r["documents"] for r in s["languages"]) == s["totals"]["samples"]
    assert sum(r["tokens"] for r in s["sources"]) == s["totals"]["tokens"]
    assert {r["name"] for r in s["sources"]} == {"crawl", "docs", "pairs", "video"}
    assert s["modalities"]["video"] == 3
    assert s["totals"]["frames"] >= 3 * 2 and s["totals"]["frame_tokens"] == 147 * s["totals"]["frames"]
    assert s["tokens_per_sample"]["p50"] > 0
    assert s["stages"][0]["stage"] == "ingest"
    assert s["modalities"]["image-text pair"] > 0 and s["modalities"]["interleaved"] > 0
    assert s["totals"]["images"] > 0 and s["totals"]["tiles"] >= s["totals"]["images"]
    assert s["totals"]["image_tokens"] >= 147 * s["totals"]["images"]
    assert s["bytes_by_member"]["tiles"] > 0
    assert cli_main(["stats", result.output]) == 0
    assert "languages" in capsys.readouterr().out


def test_rerun_on_one_core_gives_identical_shards(sample_run, tmp_path):
    """Same config through the CLI in a fresh JVM on local[1]: byte-identical shards."""
    result, _, root = sample_run
    text = (ROOT / "configs" / "sample.toml").read_text()
    text = text.replace('generate = "data/sample"', 'generate = ""').replace("data/sample", str(root))
    cfg = tmp_path / "sample.toml"
    cfg.write_text(text)
    out2 = tmp_path / "again"
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(cfg), "--master", "local[1]",
                           "--output", str(out2), "--no-progress"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "samples" in proc.stdout and "dedup_exact" in proc.stdout
    first = {s["name"]: s["sha256"] for s in result.manifest["shards"]}
    second = json.loads((out2 / "manifest.json").read_text())
    assert {s["name"]: s["sha256"] for s in second["shards"]} == first


def test_sample_boilerplate_lines_go_and_the_quality_rules_judge_what_is_left(sample_run, spark, tmp_path):
    """The sample's docs repeat a site's navigation and cookie banner: line dedup removes them
    everywhere, and the page that only the boilerplate carried past the Gopher word minimum is
    rejected by the quality rules, where a run without line dedup keeps it. The older crawl of
    a URL loses to the newer one."""
    from pipelines.run import run_pipeline

    result, truth, root = sample_run
    docs = {r["uri"]: r for r in pq.read_table(Path(result.output) / "_work" / "docs").to_pylist()
            if r["source"] == "docs"}
    planted = {d["kind"]: d for d in truth["docs"] if d["kind"] in ("boilerplate_padded", "older_version")}
    for r in docs.values():
        text = "\n".join(p["text"] or "" for p in r["parts"])
        if r["status"] == "keep":
            assert "cookies" not in text and "All rights reserved" not in text and "About us" not in text.title()
    padded = docs[planted["boilerplate_padded"]["url"]]
    assert padded["status"].startswith("quality:gopher_quality:")
    assert dict(padded["signals"])["line_dedup.lines_removed"] == 3.0
    older = planted["older_version"]
    assert docs[older["url"]]["status"] == "url_dedup:older_version"
    assert docs[next(d["url"] for d in truth["docs"] if d["id"] == older["dup_of"])]["status"] == "keep"

    from pipelines.report_html import render
    from pipelines.stats import curation_lines, summarize

    summary = summarize(result.output)
    lines = curation_lines(summary["curation"])
    assert lines[0].startswith("url dedup: 1 URLs crawled more than once")
    assert lines[1].startswith("line dedup: ") and "3 lines in more than 6 documents" in lines[1]
    assert "<h2>Text curation</h2>" in render(summary)

    cfg = sample_config(root, tmp_path / "off", line_dedup__enabled=False)
    cfg.inputs = [i for i in cfg.inputs if i.name == "docs"]
    run_pipeline(cfg, spark)
    off = {r["uri"]: r for r in pq.read_table(tmp_path / "off" / "_work" / "docs").to_pylist()}
    assert off[planted["boilerplate_padded"]["url"]]["status"] == "keep"
