"""Videos made by the tests with PyAV. Every frame shows its own index as a 4x4 grid of black and
white cells, which survives lossy coding and tells the tests exactly which frame came back."""

from __future__ import annotations

import io
import os
from fractions import Fraction

import av
import numpy as np

GRID = 4
# Corner cells with fixed values: white top-left, black in the other three corners, so an
# image turned or flipped the wrong way reads as no counter at all instead of a wrong one.
MARKERS = {(0, 0): 1, (GRID - 1, 0): 0, (0, GRID - 1): 0, (GRID - 1, GRID - 1): 0}
DATA_CELLS = [(col, row) for row in range(GRID) for col in range(GRID) if (col, row) not in MARKERS]
MAX_COUNT = 2 ** len(DATA_CELLS)

AUDIO_CODECS = {".webm": "libopus", ".ogg": "libopus", ".wav": "pcm_s16le"}  # others: aac


def counter_image(index: int, width: int, height: int) -> np.ndarray:
    """An HxWx3 RGB frame with `index` drawn as cells (least significant bit first)."""
    if not 0 <= index < MAX_COUNT:
        raise ValueError(f"counter {index} does not fit in {len(DATA_CELLS)} bits")
    values = dict(MARKERS)
    values.update({cell: (index >> bit) & 1 for bit, cell in enumerate(DATA_CELLS)})
    image = np.zeros((height, width, 3), np.uint8)
    for (col, row), bit in values.items():
        if bit:
            image[_span(row, height), _span(col, width)] = 255
    return image


def read_counter(image: np.ndarray) -> int | None:
    """The index drawn by `counter_image`, or None if the corner markers do not match or a
    cell is neither clearly black nor clearly white (wrong orientation, not our frame)."""
    height, width = image.shape[:2]
    bits = {}
    for row in range(GRID):
        for col in range(GRID):
            ys, xs = _span(row, height), _span(col, width)
            # The middle half of a cell: block edges carry the coding artefacts.
            cy = slice(ys.start + (ys.stop - ys.start) // 4, ys.stop - (ys.stop - ys.start) // 4)
            cx = slice(xs.start + (xs.stop - xs.start) // 4, xs.stop - (xs.stop - xs.start) // 4)
            mean = float(image[cy, cx].mean())
            if 70 < mean < 185:
                return None
            bits[(col, row)] = int(mean >= 128)
    if any(bits[cell] != value for cell, value in MARKERS.items()):
        return None
    return sum(bits[cell] << bit for bit, cell in enumerate(DATA_CELLS))


def _span(i: int, total: int) -> slice:
    return slice(i * total // GRID, (i + 1) * total // GRID)


def make_video(path, seconds: float = 2.0, fps: int = 24, size: tuple[int, int] = (128, 96),
               codec: str = "libx264", gop: int | None = None, vfr_times: list[float] | None = None,
               rotation: int | None = None, audio: bool = False, audio_only: bool = False,
               faststart: bool = False, container_format: str | None = None,
               seekable: bool = True) -> list[float]:
    """Writes a counter video and returns the presentation time of each frame, in seconds.

    `size` is the stored (coded) size; with `rotation` 90 or 270 the upright picture is
    `size` swapped, stored turned back so that a player applying the display matrix shows
    the counter upright. `vfr_times` gives explicit frame times (millisecond clock) instead of
    `seconds * fps` evenly spaced frames. The container follows the file extension unless
    `container_format` names one (e.g. "mpegts" for a format without a keyframe index).
    `seekable=False` writes through a pipe-like sink, as a live recorder does: Matroska then
    has no duration and no keyframe index.
    """
    path = os.fspath(path)
    options = {"movflags": "+faststart"} if faststart else {}
    sink = path if seekable else _Sink()
    with av.open(sink, "w", format=container_format or _format(path), options=options) as out:
        video = None if audio_only else _add_video(out, codec, fps, size, gop, vfr_times, rotation)
        sound = _add_audio(out, path) if audio or audio_only else None
        times = _frame_times(seconds, fps, vfr_times)
        if video is not None:
            _encode_counter_frames(out, video, times, size, rotation, vfr_times is not None, fps)
        if sound is not None:
            _encode_silence(out, sound, seconds if not vfr_times else vfr_times[-1])
    if not seekable:
        with open(path, "wb") as f:
            f.write(sink.data)
    return [] if audio_only else times


class _Sink(io.RawIOBase):
    """A write-only, unseekable file: muxers cannot go back to patch headers."""

    def __init__(self):
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.data += bytes(b)
        return len(b)


def _format(path: str) -> str | None:
    # File objects carry no name for FFmpeg to guess the format from.
    return {".mkv": "matroska", ".webm": "webm", ".mp4": "mp4", ".ts": "mpegts"}.get(
        os.path.splitext(path)[1])


def make_empty_video(path, codec: str = "libvpx-vp9", size: tuple[int, int] = (128, 96)) -> None:
    """A container that declares a video stream but holds no frame."""
    with av.open(os.fspath(path), "w") as out:
        stream = out.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        out.start_encoding()


def _frame_times(seconds: float, fps: int, vfr_times: list[float] | None) -> list[float]:
    if vfr_times is not None:
        return [round(t * 1000) / 1000 for t in vfr_times]
    return [i / fps for i in range(round(seconds * fps))]


def _add_video(out, codec, fps, size, gop, vfr_times, rotation):
    if codec == "libx264":
        # veryfast keeps B-frames (with pyramid), so decode order differs from display order.
        options = {"preset": "veryfast", "crf": "20"}
    else:
        options = {"deadline": "realtime", "cpu-used": "8", "crf": "20", "b": "0"}
    if gop:
        options.update({"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"})
    stream = out.add_stream(codec, rate=fps, options=options)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.codec_context.thread_count = 1  # tiny frames: threads only add start-up time
    if vfr_times is not None:
        stream.codec_context.time_base = Fraction(1, 1000)
    if rotation:
        stream.set_display_rotation(rotation)
    return stream


def _encode_counter_frames(out, stream, times, size, rotation, vfr, fps) -> None:
    k = (rotation or 0) // 90 % 4
    width, height = size if k % 2 == 0 else size[::-1]
    time_base = Fraction(1, 1000) if vfr else Fraction(1, fps)
    for i, t in enumerate(times):
        upright = counter_image(i, width, height)
        # The player turns the stored picture by k quarter turns counter-clockwise.
        stored = np.ascontiguousarray(np.rot90(upright, -k)) if k else upright
        frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
        frame.pts = round(t * 1000) if vfr else i
        frame.time_base = time_base
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def _add_audio(out, path):
    codec = AUDIO_CODECS.get(os.path.splitext(path)[1], "aac")
    stream = out.add_stream(codec, rate=48000)
    stream.layout = "mono"
    return stream


def _encode_silence(out, stream, seconds: float) -> None:
    ctx = stream.codec_context
    chunk = ctx.frame_size or 1024
    fmt = ctx.format.name
    total = int(seconds * ctx.sample_rate)
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        tone = (0.1 * np.sin(np.arange(start, start + n) / 20)).astype(np.float32)
        data = (tone * 32767).astype(np.int16)[None] if fmt.startswith("s16") else tone[None]
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
        frame.sample_rate, frame.pts = ctx.sample_rate, start
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def make_scene_video(path, seed: int, seconds: float = 4.0, fps: int = 12, size: tuple[int, int] = (160, 120),
                     codec: str = "libx264", gop: int | None = None) -> None:
    """A video whose picture is a different `images_util.scene` each second: content with the
    structure of real footage for perceptual hashes (the counter frames are near-blank)."""
    from tests.images_util import scene

    with av.open(os.fspath(path), "w", format=_format(os.fspath(path))) as out:
        stream = _add_video(out, codec, fps, size, gop, None, None)
        for i, t in enumerate(_frame_times(seconds, fps, None)):
            picture = np.asarray(scene(*size, seed=seed * 1000 + int(t)))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
