"""Sample RGB frames from untrusted video files with PyAV, or reject them with a reason.

Every failure is a `VideoRejected` whose `reason` is one of `REASONS`; callers count drops by
reason, so the strings are stable. Cheap checks run first: the file size before the file is
opened, duration and frame size from the container header before anything is decoded.

Times are seconds on the stream's own clock (`pts * time_base`); target times start at the
stream's start time, so a frame's `time` and its `target` are directly comparable.

Two sampling modes:

- "exact": for each target time, the frame whose presentation interval contains it (the last
  frame with pts <= target; the first frame for a target before it). Decoding runs forward and
  seeks only when the keyframe before the next target lies beyond everything demuxed so far,
  so no frame is decoded twice. Non-reference frames that cannot be an answer are not decoded
  at all (`skip_frame="NONREF"` set per packet), which is pixel-exact because nothing else
  depends on them; only converted frames (those returned) pay for colour conversion.
- "keyframe": for each target, the keyframe at or before it, each distinct keyframe once. Only
  keyframe packets ever reach the decoder, so the cost is one intra frame per distinct answer.

Memory stays bounded: frames are converted to RGB (scaled by `max_side` inside the same
swscale call) the moment they are chosen; besides the returned arrays a call holds one decoded
frame, the decoder's own reference frames and a window of compressed packets.

`threads` is the decoder's thread count (0: FFmpeg's choice, frame threads for H.264). On the
shared 2-core benchmark machine threading bought under 10%: with one task per core, as Spark
runs them, pass threads=1.

Decisions on edge cases:

- A file whose first bytes parse but that ends early returns the frames that decode up to the
  cut; targets after the last decoded frame's end are dropped, so fewer frames than targets
  come back. Nothing decodable at all (garbage, an MP4 cut before its `moov` index, a container
  with a video stream but zero frames) is "undecodable". A muxer that drops the empty track
  instead (MP4 with zero frames) leaves no video stream and gives "no_video_stream".
- A video stream that is only cover art (`attached_pic`, e.g. an MP3 with album art) is not a
  video: "no_video_stream".
- `VideoInfo.rotation` is the display matrix's counter-clockwise angle normalised to 0, 90, 180
  or 270 (what ffprobe prints as `rotation`, mod 360; a phone clip with the legacy `rotate=90`
  tag reads 270). Returned images are turned upright the way the ffmpeg CLI does it. Flips in
  the display matrix are ignored; sample aspect ratio is ignored (sizes are in stored pixels).
- When the container does not state a duration, it comes from the last packet's end time,
  found by demuxing (no decoding) and reopening the source; sources must therefore be paths,
  bytes or seekable binary files.
"""

from __future__ import annotations

import io
import math
import os
from itertools import chain
from typing import BinaryIO, Union

import av

from vision_prep.video_decode import (
    _Converter,
    _decode,
    _demux,
    _ExactSampler,
    _KeyframeSampler,
    _to_frames,
)
from vision_prep.video_info import REASONS, SampledFrame, VideoInfo, VideoRejected, _check_side, _learn_display

__all__ = ["MAX_FRAMES_LIMIT", "MAX_PIXELS", "MODES", "REASONS", "SampledFrame", "VideoInfo", "VideoRejected",
           "probe", "sample_frames", "target_times"]

MODES = ("exact", "keyframe")

# Bounds the memory of one call: frames are HxWx3 uint8, and callers wanting more than this per
# video should use max_side or sample fewer.
MAX_FRAMES_LIMIT = 256
# The decoder holds whole frames (and its reference frames) before any scaling: a frame
# larger than this is a memory bomb, rejected from the header. Same cap as still images
# (vision_prep.decode.MAX_PIXELS); 8K UHD is 33 Mpx.
MAX_PIXELS = 64_000_000

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]


# --------------------------------------------------------------------------- public API


def probe(path_or_file: Source) -> VideoInfo:
    """Describe a video, decoding its first frame to learn rotation and prove it decodes."""
    src, nbytes = _prepare(path_or_file, None)
    container, stream, info = _open(src, nbytes)
    try:
        _configure(stream, threads=1)  # one frame: thread start-up would cost more than it saves
        for packet in chain(_demux(container, stream), [None]):  # None drains the decoder
            for frame in _decode(stream, packet):
                _learn_display(info, frame)
                return info
        raise VideoRejected("undecodable", "no frame decodes")
    finally:
        container.close()


def target_times(duration: float, fps: float = 1.0, max_frames: int = 48,
                 start: float = 0.0) -> list[float]:
    """Times to sample in [start, start + duration): start + k / fps while inside; when that
    gives more than `max_frames`, the centres of `max_frames` equal segments instead, so long
    videos are covered evenly rather than only their beginning."""
    if fps <= 0:
        raise ValueError("fps must be positive")
    if max_frames < 1:
        raise ValueError("max_frames must be at least 1")
    if not duration > 0:
        return []
    count = math.ceil(duration * fps - 1e-9)
    if count <= max_frames:
        return [start + k / fps for k in range(count)]
    step = duration / max_frames
    return [start + (k + 0.5) * step for k in range(max_frames)]


def sample_frames(path_or_file: Source, fps: float = 1.0, max_frames: int = 48,
                  mode: str = "exact", max_side: int | None = None, threads: int = 0,
                  min_duration: float = 0.0, max_duration: float | None = None,
                  min_side: int = 0, max_file_bytes: int | None = None,
                  max_pixels: int | None = MAX_PIXELS,
                  ) -> tuple[VideoInfo, list[SampledFrame]]:
    """Sample frames at the `target_times` of the video (`fps`, at most `max_frames`).

    Exact mode returns one frame per target, in target order (targets landing on the same
    frame share its array); keyframe mode returns each distinct keyframe once, with the first
    target it answers. A file cut short returns fewer frames. `max_side` caps the longer side
    of the returned images (aspect kept, never upscaled); `max_pixels` caps the stored frame
    area, checked before decoding. File objects are read from their start. Invalid arguments
    raise ValueError; unusable videos raise `VideoRejected`.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if not 1 <= max_frames <= MAX_FRAMES_LIMIT:
        raise ValueError(f"max_frames must be in 1..{MAX_FRAMES_LIMIT}")
    src, nbytes = _prepare(path_or_file, max_file_bytes)
    container, stream, info = _open(src, nbytes)
    try:
        _check_limits(info, min_duration, max_duration, min_side, max_pixels)
        _configure(stream, threads)
        start = _start_seconds(stream)
        # A container claiming zero duration may still hold a frame: ask for the first one.
        times = target_times(info.duration, fps, max_frames, start) or [start]
        sampler = _ExactSampler if mode == "exact" else _KeyframeSampler
        convert = _Converter(info, stream.time_base, max_side, min_side)
        picks = sampler(container, stream, times, convert).run()
        return info, _to_frames(picks, per_target=mode == "exact")
    finally:
        container.close()


# --------------------------------------------------------------------------- opening


def _prepare(path_or_file: Source, max_file_bytes: int | None) -> tuple[object, int]:
    """The source in a form av.open accepts, and its size, checked before any parsing."""
    if isinstance(path_or_file, (bytes, bytearray, memoryview)):
        src: object = io.BytesIO(path_or_file)
    else:
        src = path_or_file
    if isinstance(src, (str, os.PathLike)):
        nbytes = os.path.getsize(src)  # a missing file is the caller's error, not a reason
    else:
        nbytes = src.seek(0, io.SEEK_END)
        src.seek(0)
    if nbytes == 0:
        raise VideoRejected("empty")
    if max_file_bytes is not None and nbytes > max_file_bytes:
        raise VideoRejected("too_large_file", f"{nbytes} > {max_file_bytes} bytes")
    return src, nbytes


def _open_container(src):
    if not isinstance(src, (str, os.PathLike)):
        src.seek(0)
    try:
        return av.open(src, "r", metadata_errors="ignore")
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise  # the caller's environment, not the video (av.error's versions subclass these)
    except av.error.FFmpegError as exc:
        raise VideoRejected("undecodable", str(exc)) from None


def _open(src, nbytes: int):
    container = _open_container(src)
    try:
        stream = _video_stream(container)
        duration = _stated_duration(container, stream)
        if duration is None:
            duration = _scanned_duration(container, stream)
            container.close()  # demuxed to the end: reopening is the portable way back
            container = _open_container(src)
            stream = _video_stream(container)
        if stream.codec_context is None:  # PyAV's answer when FFmpeg has no decoder for it
            raise VideoRejected("undecodable", "no decoder for the video codec")
        info = _info(container, stream, duration, nbytes)
    except BaseException:
        container.close()
        raise
    return container, stream, info


def _video_stream(container):
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise VideoRejected("no_video_stream")


def _stated_duration(container, stream) -> float | None:
    if stream.duration:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _scanned_duration(container, stream) -> float:
    end = None
    for packet in _demux(container, stream):
        if packet.pts is not None:
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
    if end is None:
        return 0.0
    return max(0.0, float((end - (stream.start_time or 0)) * stream.time_base))


def _info(container, stream, duration: float, nbytes: int) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate
    ctx = stream.codec_context
    return VideoInfo(duration=duration, width=ctx.width, height=ctx.height, rotation=0,
                     fps=float(rate) if rate else 0.0, codec=ctx.name,
                     n_frames=stream.frames or None, has_audio=bool(container.streams.audio),
                     bytes=nbytes)


def _start_seconds(stream) -> float:
    return float((stream.start_time or 0) * stream.time_base)


def _check_limits(info: VideoInfo, min_duration: float, max_duration: float | None,
                  min_side: int, max_pixels: int | None = None) -> None:
    if max_pixels is not None and info.width * info.height > max_pixels:
        raise VideoRejected("too_many_pixels", f"{info.width}x{info.height} > {max_pixels} pixels")
    if info.duration < min_duration:
        raise VideoRejected("too_short", f"{info.duration:.3f} s < {min_duration} s")
    if max_duration is not None and info.duration > max_duration:
        raise VideoRejected("too_long", f"{info.duration:.3f} s > {max_duration} s")
    _check_side(info, min_side)


def _configure(stream, threads: int) -> None:
    stream.thread_type = "AUTO"
    if threads > 0:
        stream.thread_count = threads

