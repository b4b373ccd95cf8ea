"""`earlyfuse show` on the sample output: text with image markers, tiles and images as PNG."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from pipelines.shards import signal_dict
from pipelines.show import SampleNotFound, find_sample
from tests.conftest import ROOT

pytestmark = pytest.mark.spark


def interleaved_page(out: Path) -> dict:
    """The JSON of a crawled page with at least two images."""
    for shard in sorted((out / "shards").glob("*.tar")):
        with tarfile.open(shard) as tar:
            for m in tar:
                if m.name.endswith(".json"):
                    meta = json.loads(tar.extractfile(m).read())
                    if meta["source"] == "crawl" and len(meta["images"]) >= 2:
                        return meta
    raise AssertionError("the sample has no page with two images")


def show(*args):
    return subprocess.run([sys.executable, "-m", "jobs.cli", "show", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_show_page_with_images_writes_tiles_and_reassembled_images(sample_run, tmp_path):
    result, _, _ = sample_run
    out = Path(result.output)
    meta = interleaved_page(out)
    proc = show(out, "--key", meta["id"], "--out", tmp_path / "png", "--json")
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["meta"]["id"] == meta["id"]
    text = shown["text"]
    assert text.count("\n[image ") == len(meta["images"])
    # The markers sit where the images were: between real sentences, not at one end.
    first = text.index("[image 1:")
    assert len(text[:first].strip()) > 20 and len(text[text.rindex("]") + 1:].strip()) > 20
    assert "<|" not in text  # special tokens are markers, never raw
    # The quality signals measured upstream travel with the sample and are shown.
    sig = signal_dict(shown["meta"]["signals"])
    assert sig["langid.score"] == pytest.approx(meta["lang_score"], abs=1e-4)
    assert any(k.startswith(("gopher", "c4", "fineweb")) for k in sig), sorted(sig)
    plain = show(out, "--key", meta["id"])
    assert plain.returncode == 0 and "signals:" in plain.stdout and "\n  langid: " in plain.stdout
    tiles = sorted((tmp_path / "png").glob("image*-tile*.png"))
    assert len(tiles) == sum(i["n_tiles"] for i in meta["images"])
    for n, img in enumerate(meta["images"], 1):
        with Image.open(tmp_path / "png" / f"image{n:02d}.png") as im:
            assert list(im.size[::-1]) == img["resized"]  # [height, width] the model sees


def test_show_by_index_and_errors(sample_run):
    result, _, _ = sample_run
    out = Path(result.output)
    proc = show(out, "--index", 0)
    assert proc.returncode == 0 and "tokens" in proc.stdout.splitlines()[2]
    n = result.manifest["totals"]["samples"]
    find_sample(str(out), index=n - 1)
    with pytest.raises(SampleNotFound):
        find_sample(str(out), index=n)
    proc = show(out, "--key", "no-such-document")
    assert proc.returncode == 1 and "no sample with key 'no-such-document'" in proc.stderr
