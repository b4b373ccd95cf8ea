"""The sample's video clips (a shape moving over a gradient, a frame counter), encoded with
PyAV reproducibly, with descriptions and WebVTT subtitles."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from jobs.sample.common import write as _write
from jobs.sample.pictures import _draw_shape, _gradient
from jobs.sample.tables import DIGITS, PALETTE, VIDEO_FPS, VIDEO_SIZE, VIDEOS, VTT_CUES


def _draw_counter(draw: ImageDraw.ImageDraw, number: int, x: int, y: int, scale: int = 5) -> None:
    for digit in str(number):
        for row, bits in enumerate(DIGITS[digit]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    x0, y0 = x + col * scale, y + row * scale
                    draw.rectangle([x0, y0, x0 + scale - 1, y0 + scale - 1], fill=(255, 255, 255))
        x += 4 * scale


def _shape_position(path: str, t: float, width: int, height: int, r: int) -> tuple[float, float]:
    if path == "left_to_right":
        return -r + t * (width + 2 * r), height / 2
    if path == "right_to_left":
        return width + r - t * (width + 2 * r), height * 0.6
    # Bounce: two diagonal sweeps reflected at the walls.
    phase = (2 * t) % 2.0
    u = phase if phase <= 1 else 2 - phase
    return r + u * (width - 2 * r), r + abs(np.sin(np.pi * 2 * t)) * (height - 2 * r)


def _video_frames(spec: dict):
    width, height = VIDEO_SIZE
    background = _gradient(width, height, PALETTE[spec["bg"][0]], PALETTE[spec["bg"][1]], vertical=True)
    total = spec["seconds"] * VIDEO_FPS
    for i in range(total):
        image = Image.fromarray(background.copy(), "RGB")
        draw = ImageDraw.Draw(image)
        cx, cy = _shape_position(spec["path"], i / (total - 1), width, height, 30)
        _draw_shape(draw, spec["shape"], cx, cy, 30, PALETTE[spec["color"]])
        _draw_counter(draw, i, 10, 10)
        yield image


def _video_description(spec: dict) -> str:
    motion = {"left_to_right": "moves from left to right", "right_to_left": "moves from right to left",
              "bounce": "bounces between the edges of the frame"}[spec["path"]]
    frames = spec["seconds"] * VIDEO_FPS
    return (f"A {spec['color']} {spec['shape']} {motion} over a {spec['bg'][0]} to {spec['bg'][1]} gradient "
            f"while a white frame counter in the top-left corner counts from 0 to {frames - 1}. "
            f"The clip lasts {spec['seconds']} seconds and has no audio.")


def _encode_video(path: Path, spec: dict) -> None:
    import av  # deferred: the native library is only needed for this step

    path.parent.mkdir(parents=True, exist_ok=True)
    if spec["codec"] == "libx264":
        # x264's macroblock-tree pass made the output vary from run to run
        # (measured under CPU load even with one thread); without it the
        # bitstream is reproducible at a negligible cost for synthetic clips.
        options = {"preset": "veryfast", "crf": "26", "x264-params": "mbtree=0"}
    else:
        options = {"deadline": "realtime", "cpu-used": "8", "crf": "36", "b": "0"}
    # bitexact keeps muxers from writing encoder versions and creation dates.
    with av.open(str(path), "w", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(spec["codec"], rate=VIDEO_FPS, options=options)
        stream.width, stream.height = VIDEO_SIZE
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1  # threaded encoders are not reproducible
        for i, image in enumerate(_video_frames(spec)):
            frame = av.VideoFrame.from_image(image)
            frame.pts, frame.time_base = i, Fraction(1, VIDEO_FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_videos(root: Path, specs: list[dict] | None = None) -> list[dict]:
    entries = []
    for spec in VIDEOS if specs is None else specs:
        path = root / spec["file"]
        _encode_video(path, spec)
        description = _video_description(spec)
        _write(path.with_suffix(".txt"), (description + "\n").encode())
        subtitles = None
        if spec["subtitles"]:
            cues = "\n".join(f"{i}\n{a} --> {b}\n{text}\n" for i, (a, b, text) in enumerate(VTT_CUES, 1))
            subtitles = str(Path(spec["file"]).with_suffix(".vtt"))
            _write(root / subtitles, f"WEBVTT\n\n{cues}".encode())
        entries.append({
            "file": spec["file"], "codec": "h264" if spec["codec"] == "libx264" else "vp9",
            "width": VIDEO_SIZE[0], "height": VIDEO_SIZE[1], "fps": VIDEO_FPS, "duration_s": spec["seconds"],
            "frames": spec["seconds"] * VIDEO_FPS, "description": description,
            "text_file": str(Path(spec["file"]).with_suffix(".txt")), "subtitles": subtitles,
        })
    return entries
