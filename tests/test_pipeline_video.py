"""Video through the whole pipeline on Spark: frames, timestamps and subtitles in the stream."""

import json

import numpy as np
import pytest
import webdataset as wds

from pipelines.config import parse_config
from pipelines.run import run_pipeline
from tests.videos_util import make_video, read_counter

pytestmark = pytest.mark.spark

VTT = """WEBVTT

00:00.500 --> 00:01.400
The counter starts to climb.

00:01.bad --> 00:02.000
This cue has a broken timestamp.

00:02.200 --> 00:03.000
Nearly at the end of the clip now.
"""


@pytest.fixture(scope="module")
def video_run(spark, tmp_path_factory):
    d = tmp_path_factory.mktemp("video-inputs")
    make_video(d / "clip.mp4", seconds=4, fps=24, size=(160, 120), gop=24)
    (d / "clip.vtt").write_text(VTT)
    (d / "clip.txt").write_text("A white counter on a dark background counts the frames of this clip.")
    make_video(d / "voice.mp4", seconds=2, audio_only=True)
    (d / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    make_video(d / "tiny.webm", seconds=1, fps=10, size=(16, 12), codec="libvpx-vp9")
    out = tmp_path_factory.mktemp("video-out")
    cfg = parse_config({
        "run": {"name": "vid", "output": str(out), "progress": False},
        "inputs": [{"name": "video", "format": "video", "path": str(d)}],
        "video": {"fps": 1.0, "min_side": 32},
    })
    return run_pipeline(cfg, spark), out


def test_rejections_have_reasons(video_run, spark):
    _, out = video_run
    rejected = {r["uri"]: r["status"] for r in spark.read.parquet(str(out / "rejected")).collect()}
    assert rejected == {"voice.mp4": "video:no_video_stream", "broken.mp4": "video:undecodable",
                        "tiny.webm": "video:too_small"}


def test_frames_timestamps_and_cues_in_order(video_run):
    from tokenization import load_tokenizer

    result, out = video_run
    m = json.loads((out / "manifest.json").read_text())
    (sample,) = list(wds.WebDataset([str(out / "shards" / s["name"]) for s in m["shards"]],
                                    shardshuffle=False).decode())
    meta, ids, tiles = sample["json"], sample["tokens.npy"], sample["tiles.npy"]
    frames = meta["images"]
    assert [f["kind"] for f in frames] == ["frame"] * 4
    assert [f["time"] for f in frames] == [0.0, 1.0, 2.0, 3.0]
    assert all(f["grid"] == [1, 1] and f["n_tokens"] == 147 for f in frames)
    assert tiles.shape == (4, 3, 336, 336)
    # The pixels are the right frames: the counter drawn in each is its frame index.
    for f, tile in zip(frames, tiles):
        assert read_counter(np.ascontiguousarray(tile.transpose(1, 2, 0)[:252, :336])) == int(f["time"] * 24)
    tok = load_tokenizer(m["tokenizer"]["spec"])
    pieces, pos = [], 1
    for f in frames:
        pieces.append(tok.decode(ids[pos:f["token_offset"]]))
        pos = f["token_offset"] + f["n_tokens"]
    pieces.append(tok.decode(ids[pos:-1]))
    assert pieces[0].startswith("A white counter") and pieces[0].endswith("[00:00]")
    assert pieces[1] == "The counter starts to climb.\n\n[00:01]"
    assert pieces[2] == "[00:02]"
    assert pieces[3] == "Nearly at the end of the clip now.\n\n[00:03]"
    assert "broken timestamp" not in "".join(pieces)
    assert meta["lang"] == "eng_Latn"


def test_report_and_signals(video_run, spark):
    result, out = video_run
    report = json.loads((out / "report" / "stages.json").read_text())
    video = next(s for s in report["stages"] if s["stage"] == "video")
    assert video["in"] == 4 and video["kept"] == 1
    assert video["reasons"] == {"no_video_stream": 1, "undecodable": 1, "too_small": 1}
    docs = spark.read.parquet(str(out / "_work" / "docs")).filter("status = 'keep'").collect()
    (doc,) = docs
    assert doc["signals"]["video.subtitle_cues_skipped"] == 1.0
    assert doc["signals"]["video.frames"] == 4.0
    hashes = [dict(p["meta"])["dhash"] for p in doc["parts"] if p["kind"] == "frame"]
    assert len(hashes) == 4 and all(len(h) == 16 for h in hashes)
