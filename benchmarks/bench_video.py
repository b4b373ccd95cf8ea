"""Video frame sampling at 1 fps: our sampler (exact and keyframe modes) vs the ffmpeg CLI.

Input: one 60 s 1280x720 H.264 MP4 at 30 fps, made once with PyAV and cached in the temp dir:
a scrolling noisy texture with a moving block (every macroblock changes every frame), x264
preset veryfast (CABAC, 3 B-frames with pyramid, one slice per frame), CRF 23, a keyframe every
60 frames (2 s, the interval streaming services ask for; scene-cut keyframes off so the count
is fixed).

Three ways to get one RGB frame per second of video:
  exact     `sample_frames(mode="exact", fps=1)`: the frame shown at each second, pixel-exact;
  keyframe  `sample_frames(mode="keyframe", fps=1)`: the keyframe at or before each second;
  baseline  `ffmpeg -i in.mp4 -vf fps=1 -f rawvideo -pix_fmt rgb24 -` into /dev/null, i.e. what
            a pipeline shelling out to ffmpeg pays (process start included); if no ffmpeg is on
            PATH, PyAV decoding every frame and converting one per second.
Throughput is sampled frames per wall second, counting the 60 one-per-second targets each way
answers (so it is also seconds of video per wall second); keyframe mode answers them with 30
distinct keyframes, which is all it returns.
`run()` is the exact/baseline row, `run_keyframe()` the keyframe/baseline row; both share one
measurement. Rounds interleave the ways so that drifting machine load hits them alike.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from vision_prep.video import sample_frames

TARGET = 1.0
KEYFRAME_TARGET = 3.0
WIDTH, HEIGHT, FPS, SECONDS, GOP = 1280, 720, 30, 60, 60
ROUNDS = 3


def bench_video() -> Path:
    """The benchmark clip, encoded on first use (about 30 s on 2 cores) and then reused."""
    name = f"scroll-{WIDTH}x{HEIGHT}-{FPS}fps-{SECONDS}s-g{GOP}-1slice.mp4"
    path = Path(tempfile.gettempdir()) / "earlyfuse-bench" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        _encode(partial)
        partial.replace(path)  # atomic: a killed run never leaves a half clip behind
    return path


def _encode(path: Path) -> None:
    import av

    rng = np.random.default_rng(0)
    coarse = cv2.resize(rng.integers(0, 256, (45, 80, 3), dtype=np.uint8), (WIDTH * 2, HEIGHT * 2),
                        interpolation=cv2.INTER_CUBIC)
    texture = cv2.add(coarse, rng.integers(0, 40, coarse.shape, dtype=np.uint8))
    options = {"preset": "veryfast", "crf": "23", "g": str(GOP), "keyint_min": str(GOP),
               "sc_threshold": "0"}
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS, options=options)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        # PyAV's default (slice threads) makes x264 cut every frame into slices, which hands
        # decoders free parallelism most files do not have; frame threads give one slice.
        stream.codec_context.thread_type = "FRAME"
        for i in range(FPS * SECONDS):
            x, y = (i * 7) % WIDTH, (i * 3) % HEIGHT
            image = np.ascontiguousarray(texture[y:y + HEIGHT, x:x + WIDTH])
            bx = (i * 11) % (WIDTH - 160)
            image[300:460, bx:bx + 160] = (230, 40, 40)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def ffmpeg_baseline(path: Path) -> int:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-vf", "fps=1",
                    "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                   stdout=subprocess.DEVNULL, check=True)
    return SECONDS


def pyav_baseline(path: Path) -> int:
    """Decode everything, convert the first frame of each second."""
    import av

    converted = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= converted:
                frame.to_ndarray(format="rgb24")
                converted += 1
    return converted


def _sampler(mode: str, threads: int = 0):
    def run(path: Path) -> int:
        return len(sample_frames(path, fps=1, max_frames=SECONDS, mode=mode, threads=threads)[1])
    return run


@functools.lru_cache(maxsize=1)
def _measure() -> dict:
    path = bench_video()
    have_ffmpeg = shutil.which("ffmpeg") is not None
    ways = {"baseline": ffmpeg_baseline if have_ffmpeg else pyav_baseline,
            "exact": _sampler("exact"), "keyframe": _sampler("keyframe"),
            "exact_1thread": _sampler("exact", threads=1)}
    _, ex = sample_frames(path, fps=1, max_frames=SECONDS, mode="exact")
    assert [f.time for f in ex] == [float(t) for t in range(SECONDS)]
    expected = {"keyframe": SECONDS * FPS // GOP}  # one per keyframe; the others one per second
    best = {name: float("inf") for name in ways}
    for _ in range(ROUNDS):
        for name, fn in ways.items():
            start = time.perf_counter()
            count = fn(path)
            best[name] = min(best[name], time.perf_counter() - start)
            assert count == expected.get(name, SECONDS), (name, count)
    rates = {name: SECONDS / t for name, t in best.items()}
    baseline = "ffmpeg CLI -vf fps=1 (process start included)" if have_ffmpeg else \
        "PyAV full decode, convert 1 frame/s (no ffmpeg on PATH)"
    return {**rates, "baseline_name": baseline, "keyframes": expected["keyframe"],
            "mb": path.stat().st_size / 1e6}


def _detail(m: dict) -> str:
    return (f"{SECONDS} s {WIDTH}x{HEIGHT} {FPS} fps H.264 ({m['mb']:.1f} MB, "
            f"keyframe every {GOP // FPS} s), "
            f"1 fps; sampled frames/s: exact {m['exact']:.1f} (threads=1: {m['exact_1thread']:.1f}), "
            f"keyframe {m['keyframe']:.1f} ({m['keyframes']} distinct keyframes), "
            f"baseline {m['baseline']:.1f}; baseline: {m['baseline_name']}; best of {ROUNDS} rounds")


def run() -> dict:
    m = _measure()
    return {"name": "video 1 fps exact mode vs ffmpeg fps=1",
            "ours": f"{m['exact']:.1f} frames/s", "baseline": f"{m['baseline']:.1f} frames/s",
            "ratio": m["exact"] / m["baseline"], "target": TARGET, "detail": _detail(m)}


def run_keyframe() -> dict:
    m = _measure()
    return {"name": "video 1 fps keyframe mode vs ffmpeg fps=1",
            "ours": f"{m['keyframe']:.1f} frames/s", "baseline": f"{m['baseline']:.1f} frames/s",
            "ratio": m["keyframe"] / m["baseline"], "target": KEYFRAME_TARGET, "detail": _detail(m)}


if __name__ == "__main__":
    for row in (run(), run_keyframe()):
        print(row)
