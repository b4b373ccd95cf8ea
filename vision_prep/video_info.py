"""What the video sampler returns and why it refuses: the video's description, sampled
frames, and the rejection reasons callers count by."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision_prep.rejected import Rejected

REASONS = (
    "no_video_stream",  # no stream, only audio/subtitles, or only cover art
    "undecodable",      # not a container FFmpeg can open, or not a single frame decodes
    "too_short",        # duration < min_duration
    "too_long",         # duration > max_duration
    "too_small",        # shorter side < min_side pixels
    "too_many_pixels",  # frame area > max_pixels, from the header (before any frame is decoded)
    "too_large_file",   # file size > max_file_bytes (checked before opening)
    "empty",            # zero bytes
)


class VideoRejected(Rejected):
    """A video that cannot be used; `reason` is one of `REASONS`."""

    REASONS = REASONS


@dataclass
class VideoInfo:
    duration: float        # seconds; from stream, else container, else last packet end
    width: int             # display size, after rotation
    height: int
    rotation: int          # counter-clockwise display rotation: 0, 90, 180 or 270
    fps: float             # average frame rate; 0 if unknown
    codec: str
    n_frames: int | None   # frame count if the container states it
    has_audio: bool
    bytes: int


@dataclass
class SampledFrame:
    time: float            # presentation time of the returned frame, seconds
    target: float          # the time that was asked for (first such target in keyframe mode)
    image: np.ndarray      # HxWx3 uint8 RGB, upright; targets sharing a frame share the array
    keyframe: bool


def _check_side(info: VideoInfo, min_side: int) -> None:
    # An unknown header size (0) is checked again once the first frame is decoded.
    side = min(info.width, info.height)
    if side and side < min_side:
        raise VideoRejected("too_small", f"{info.width}x{info.height}, min side {min_side}")


def _learn_display(info: VideoInfo, frame) -> None:
    """Rotation lives in per-frame side data in PyAV, so the first frame settles the display
    size."""
    info.rotation = _rotation(frame)
    w, h = frame.width, frame.height
    info.width, info.height = (h, w) if info.rotation in (90, 270) else (w, h)


def _rotation(frame) -> int:
    return int(round(frame.rotation / 90.0)) % 4 * 90
