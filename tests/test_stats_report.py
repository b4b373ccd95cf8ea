"""`earlyfuse stats`: histograms, dedup rates, and the HTML report (rendered in Chromium)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from jobs.cli import main as cli_main
from jobs.summary import bar_lines
from pipelines.report_html import render
from pipelines.stats import _histogram, dedup_rates
from tests.conftest import ROOT


def test_histogram_discrete_and_log_bins():
    h = _histogram([0, 0, 1, 3], log=False)
    assert h["discrete"] and h["counts"] == [2, 1, 0, 1] and h["edges"][0] == -0.5
    values = list(np.random.default_rng(0).lognormal(6, 1, 5000).astype(int) + 1)
    h = _histogram(values, log=True)
    assert not h["discrete"] and sum(h["counts"]) == 5000 and len(h["counts"]) == 12
    widths = np.diff(h["edges"])
    assert widths[-1] > 10 * widths[0]  # log-spaced: the tail gets wide bins
    assert _histogram([], log=True)["counts"] == []
    assert sum(_histogram([7, 7, 7], log=True)["counts"]) == 3  # one value: no zero-width bins


def test_bar_lines_scale_to_the_fullest_bin():
    lines = bar_lines([-0.5, 0.5, 1.5, 2.5], [10, 5, 0], lambda v: f"{v:.0f}", discrete=True, width=20)
    assert [ln.split("│")[0].strip() for ln in lines] == ["0", "1", "2"]
    assert lines[0].count("█") == 20 and lines[1].count("█") == 10 and "█" not in lines[2]
    assert lines[0].endswith(" 10") and lines[2].endswith(" 0")


def test_dedup_rates_per_stage_and_total():
    stages = [{"stage": "quality", "in": 50, "kept": 40, "rejected": 10},
              {"stage": "dedup_exact", "in": 40, "kept": 30, "rejected": 10},
              {"stage": "dedup_near", "in": 30, "kept": 27, "rejected": 3}]
    r = dedup_rates(stages)
    assert r["exact"] == {"in": 40, "removed": 10, "rate": 0.25}
    assert r["near"]["rate"] == 0.1
    assert r["total"] == {"in": 40, "removed": 13, "rate": 0.325}
    assert dedup_rates(stages[:1]) == {}


@pytest.mark.spark
def test_stats_histograms_and_dedup_rates_on_the_sample(sample_run, capsys):
    result, _, _ = sample_run
    assert cli_main(["stats", result.output, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    n = result.manifest["totals"]["samples"]
    h = s["histograms"]
    assert sum(h["tokens_per_sample"]["counts"]) == n == sum(h["images_per_doc"]["counts"])
    assert sum(h["tiles_per_image"]["counts"]) == s["totals"]["images"]
    assert sum(h["shard_bytes"]["counts"]) == s["totals"]["shards"]
    rates = s["dedup_rates"]
    assert set(rates) == {"exact", "near", "images", "video", "total"}
    by_stage = {st["stage"]: st for st in s["stages"]}
    assert rates["exact"]["removed"] == by_stage["dedup_exact"]["rejected"] > 0
    assert rates["total"]["in"] - rates["total"]["removed"] == n
    assert cli_main(["stats", result.output]) == 0
    out = capsys.readouterr().out
    assert "tokens per sample" in out and "tiles per image" in out and "█" in out
    assert re.search(r"dedup removed: exact \d+ of \d+ \(\d+\.\d%\)", out)


def _pngs(page: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(b)))
            for b in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


@pytest.mark.spark
def test_html_report_is_self_contained_with_plots(sample_run, tmp_path):
    result, _, _ = sample_run
    page_path = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "stats", result.output, "--html", str(page_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    page = page_path.read_text()
    assert "http://" not in page and "https://" not in page  # nothing fetched when opened
    pngs = _pngs(page)
    assert len(pngs) == 10  # modality, lengths, languages, sources, modalities, images, tiles, shards, stages, dedup
    for im in pngs:
        a = np.asarray(im.convert("RGB"))
        assert a.shape[0] > 100 and a.shape[1] > 300
        assert (a.std(axis=2) > 20).mean() > 0.005  # coloured marks (bars), not a blank canvas
    assert "dedup_near" in page and f"{result.manifest['totals']['samples']:,}" in page


def test_html_report_without_dedup_or_images():
    """A text-only output with no report: the page still renders, with the plots it can draw."""
    s = {"path": "/x", "name": "t", "code_version": "v", "has_manifest": False,
         "tokenizer": {"spec": "tiktoken:cl100k_base"},
         "totals": {"samples": 2, "tokens": 30, "text_tokens": 30, "image_tokens": 0, "shards": 1, "bytes": 4096},
         "languages": [{"name": "eng_Latn", "documents": 2, "tokens": 30, "share": 1.0}],
         "sources": [{"name": "docs", "documents": 2, "tokens": 30, "share": 1.0}],
         "modalities": {"text": 2},
         "histograms": {"tokens_per_sample": _histogram([10, 20], log=True),
                        "images_per_doc": _histogram([0, 0], log=False),
                        "tiles_per_image": _histogram([], log=False),
                        "shard_bytes": _histogram([4096], log=True)},
         "tokens_per_sample": {"count": 2, "min": 10, "p10": 11, "p50": 15, "p90": 19, "p99": 20, "max": 20},
         "images_per_doc": {"count": 0}, "tiles_per_image": {"count": 0}, "shard_samples": {"count": 0},
         "shard_bytes": {"count": 0}, "stages": []}
    page = render(s)
    assert "No manifest.json" in page and len(_pngs(page)) == 7


CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.mark.spark
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (make test installs Debian's chromium when run as root)")
def test_html_report_screenshot_in_headless_chromium(sample_run, tmp_path):
    """What a person sees: the page rendered by a real browser shows the plots' bars."""
    result, _, _ = sample_run
    page = tmp_path / "report.html"
    assert cli_main(["stats", result.output, "--html", str(page), "--json"]) == 0
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars", "--window-size=1400,2600",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.exists(), proc.stderr[-2000:]
    a = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert a.shape[:2] == (2600, 1400)
    blue = (np.abs(a - [76, 120, 168]).sum(axis=2) < 30).mean()  # the plots' bar colour
    orange = (np.abs(a - [245, 133, 24]).sum(axis=2) < 30).mean()
    red = (np.abs(a - [228, 87, 86]).sum(axis=2) < 30).mean()
    assert blue > 0.02 and orange > 0.002 and red > 0.001, (blue, orange, red)
    # Each plot is laid out as an image the browser decoded (a broken image draws no bars).
    top = a[:400]
    assert (np.abs(top - [76, 120, 168]).sum(axis=2) < 30).mean() > 0.01
