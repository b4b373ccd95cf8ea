"""Video frame sampling at 1 fps: our sampler's exact mode vs the ffmpeg CLI, and its keyframe
mode vs a keyframe-only decode with PyAV.

Input: one 60 s 1280x720 H.264 MP4 at 30 fps, made once with PyAV and cached in the temp dir:
a scrolling noisy texture with a moving block (every macroblock changes every frame), x264
preset veryfast (CABAC, 3 B-frames with pyramid, one slice per frame), CRF 23, a keyframe every
60 frames (2 s, the interval streaming services ask for; scene-cut keyframes off so the count
is fixed).

The ways, each returning RGB frames:
  exact      `sample_frames(mode="exact", fps=1)`: the frame shown at each second, pixel-exact
             (60 frames);
  keyframe   `sample_frames(mode="keyframe", fps=1)`: the keyframe at or before each second,
             each distinct keyframe once (30 frames);
  ffmpeg     `ffmpeg -i in.mp4 -vf fps=1 -f rawvideo -pix_fmt rgb24 -` into /dev/null, what a
             pipeline shelling out to ffmpeg pays, process start included (60 frames); if no
             ffmpeg is on PATH, PyAV decoding every frame and converting one per second;
  pyav_keys  PyAV as its users decode keyframes only: `skip_frame = "NONKEY"`, automatic
             threads, every keyframe converted to RGB (the same 30 frames);
  floor      only the keyframe packets sent to PyAV's decoder, each frame converted: what
             keyframe mode cannot go below (in the detail).
Throughput is distinct frames returned per wall second. Rows: exact vs ffmpeg, keyframe vs
pyav_keys (like for like); keyframe vs ffmpeg is in the detail. All ways run interleaved,
after a warm-up, `timing.RUNS` times; ratios are medians of the per-round ratios (min-max).

    python -m benchmarks.bench_video
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from benchmarks.timing import interleaved, rate, ratio_row, ratio_text
from vision_prep.video import sample_frames

TARGET = 1.0
KEYFRAME_TARGET = 2.0
WIDTH, HEIGHT, FPS, SECONDS, GOP = 1280, 720, 30, 60, 60


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


def pyav_keyframes(path: Path) -> int:
    """Decode the keyframes only and convert each to RGB."""
    import av

    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = "NONKEY"
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
            n += 1
    return n


def keyframe_floor(path: Path) -> int:
    """Keyframe mode's floor: every keyframe packet to the decoder and nothing else, each
    frame converted to RGB, with none of the sampler's bookkeeping."""
    import av

    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for packet in container.demux(stream):
            if packet.is_keyframe:
                for frame in stream.decode(packet):
                    frame.to_ndarray(format="rgb24")
                    n += 1
        for frame in stream.decode(None):
            frame.to_ndarray(format="rgb24")
            n += 1
    return n


def _sampler(mode: str, threads: int = 0):
    def run(path: Path) -> int:
        return len(sample_frames(path, fps=1, max_frames=SECONDS, mode=mode, threads=threads)[1])
    return run


@functools.lru_cache(maxsize=1)
def _measure() -> dict:
    path = bench_video()
    have_ffmpeg = shutil.which("ffmpeg") is not None
    ways = {"ffmpeg": ffmpeg_baseline if have_ffmpeg else pyav_baseline,
            "exact": _sampler("exact"), "keyframe": _sampler("keyframe"),
            "pyav_keys": pyav_keyframes, "exact_1thread": _sampler("exact", threads=1),
            "keyframe_floor": keyframe_floor}
    _, ex = sample_frames(path, fps=1, max_frames=SECONDS, mode="exact")
    assert [f.time for f in ex] == [float(t) for t in range(SECONDS)]
    keyframes = SECONDS * FPS // GOP
    frames = {"keyframe": keyframes, "pyav_keys": keyframes, "keyframe_floor": keyframes}  # others: 1/s
    counts: dict[str, int] = {}
    cpu: dict[str, list[float]] = {name: [] for name in ways}

    def counted(name, fn):
        def call():
            before = _cpu_seconds()
            counts[name] = fn(path)
            cpu[name].append(_cpu_seconds() - before)
        return call

    times = interleaved({name: counted(name, fn) for name, fn in ways.items()})
    for name in ways:
        assert counts[name] == frames.get(name, SECONDS), (name, counts[name])
    baseline = "ffmpeg CLI -vf fps=1 (process start included)" if have_ffmpeg else \
        "PyAV full decode, convert 1 frame/s (no ffmpeg on PATH)"
    runs = len(times["exact"])  # the warm-up round's CPU is left out, as its time is
    return {"times": times, "cpu": {n: c[-runs:] for n, c in cpu.items()},
            "frames": {n: frames.get(n, SECONDS) for n in ways}, "baseline_name": baseline,
            "mb": path.stat().st_size / 1e6}


def _cpu_seconds() -> float:
    """CPU of this process's threads and of finished child processes (ffmpeg)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _rate(m: dict, name: str) -> str:
    return rate(m["frames"][name], m["times"][name], "frames/s", ".1f")


def _ratio(m: dict, ours: str, base: str) -> dict:
    """Frames per second of `ours` over those of `base`, round by round."""
    f, t = m["frames"], m["times"]
    return ratio_row([x / f[base] for x in t[base]], [x / f[ours] for x in t[ours]])


def _detail(m: dict) -> str:
    return (f"{SECONDS} s {WIDTH}x{HEIGHT} {FPS} fps H.264 ({m['mb']:.1f} MB, keyframe every {GOP // FPS} s), "
            f"1 fps; distinct frames per second, median (min-max) of {len(m['times']['exact'])} interleaved "
            f"runs: exact {_rate(m, 'exact')} (threads=1: {_rate(m, 'exact_1thread')}), keyframe "
            f"{_rate(m, 'keyframe')} ({m['frames']['keyframe']} keyframes), PyAV keyframe-only decode "
            f"{_rate(m, 'pyav_keys')}, keyframe packets alone to the decoder (keyframe mode's floor) "
            f"{_rate(m, 'keyframe_floor')}, ffmpeg {_rate(m, 'ffmpeg')}; keyframe mode vs its floor "
            f"{ratio_text(_ratio(m, 'keyframe', 'keyframe_floor'))}, vs ffmpeg "
            f"{ratio_text(_ratio(m, 'keyframe', 'ffmpeg'))}; ffmpeg: {m['baseline_name']}; {_cpu_detail(m)}")


def _cpu_detail(m: dict) -> str:
    """Per core: the keyframe-only decode runs on one core whatever its thread settings
    (FFmpeg's frame threads do not overlap frames it skips), ours on both, so the wall ratio
    is bounded by the cores times the CPU ratio."""
    cpu = {n: [c / m["frames"][n] * 1000 for c in v] for n, v in m["cpu"].items()}
    per_frame = ", ".join(f"{n} {statistics.median(cpu[n]):.1f}" for n in ("keyframe", "keyframe_floor", "pyav_keys",
                                                                          "exact", "ffmpeg"))
    return (f"CPU ms per frame (median): {per_frame}; keyframe mode vs PyAV keyframe-only decode per "
            f"CPU second {ratio_text(ratio_row(cpu['pyav_keys'], cpu['keyframe']))}, PyAV's cores in use "
            f"{statistics.median(c / t for c, t in zip(m['cpu']['pyav_keys'], m['times']['pyav_keys'])):.2f}, "
            f"ours {statistics.median(c / t for c, t in zip(m['cpu']['keyframe'], m['times']['keyframe'])):.2f}")


def run() -> dict:
    m = _measure()
    return {"name": "video 1 fps exact mode vs ffmpeg fps=1",
            "ours": _rate(m, "exact"), "baseline": _rate(m, "ffmpeg"),
            **_ratio(m, "exact", "ffmpeg"), "target": TARGET, "detail": _detail(m)}


def run_keyframe() -> dict:
    m = _measure()
    return {"name": "video 1 fps keyframe mode vs PyAV keyframe-only decode (skip_frame=NONKEY)",
            "ours": _rate(m, "keyframe"), "baseline": _rate(m, "pyav_keys"),
            **_ratio(m, "keyframe", "pyav_keys"), "target": KEYFRAME_TARGET, "detail": _detail(m)}


if __name__ == "__main__":
    for row in (run(), run_keyframe()):
        print(row)
