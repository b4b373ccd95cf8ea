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

from vision_prep.rejected import Rejected

import bisect
import html
import io
import math
import os
import re
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from typing import BinaryIO, Iterator, Union

import av
import cv2
import numpy as np

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
MODES = ("exact", "keyframe")

# Bounds the memory of one call: frames are HxWx3 uint8, and callers wanting more than this per
# video should use max_side or sample fewer.
MAX_FRAMES_LIMIT = 256
# The decoder holds whole frames (and its reference frames) before any scaling: a frame
# larger than this is a memory bomb, rejected from the header. Same cap as still images
# (vision_prep.decode.MAX_PIXELS); 8K UHD is 33 Mpx.
MAX_PIXELS = 64_000_000

# Without a keyframe index, seek only for jumps longer than this or than the longest keyframe
# interval seen so far; shorter jumps land on a keyframe we have already passed.
SEEK_GAP = 2.0
# Without an index, seeks aim this much before the target: such demuxers (MPEG-TS) search by
# timestamps read from the file and land near, not at, the requested time.
SEEK_MARGIN = 1.0
# Packets looked at around the current one to bound its presentation successor's pts. H.264
# reorders at most 16 frames, so the successor is normally in the window; when it is not, the
# bound is looser and the frame is decoded, never wrongly skipped.
REORDER_WINDOW = 17
# Demuxers whose index comes from the file (MP4 sample tables, Matroska cues, AVI idx1) rather
# than from what has been read so far.
_INDEXED_FORMATS = {"mov", "mp4", "matroska", "webm", "avi"}
# Targets are converted to ticks with this slack so that t = k / fps lands on the frame whose
# pts equals it exactly despite binary floating point.
_TICK_SLACK = 1e-3

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]


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


@dataclass
class Cue:
    start: float
    end: float
    text: str


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
    area, checked before decoding. File objects are read from their start. Invalid arguments raise ValueError; unusable videos raise `VideoRejected`.
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


def frame_hash(image: np.ndarray) -> int:
    """64-bit difference hash: grey 9x8 thumbnail, one bit per left < right neighbour pair.
    Survives re-encoding and rescaling; compare with `hamming`."""
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def frame_hashes(frames) -> list[int]:
    """`frame_hash` of each `SampledFrame` (or bare image array)."""
    return [frame_hash(f.image if isinstance(f, SampledFrame) else f) for f in frames]


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


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


def _check_side(info: VideoInfo, min_side: int) -> None:
    # An unknown header size (0) is checked again once the first frame is decoded.
    side = min(info.width, info.height)
    if side and side < min_side:
        raise VideoRejected("too_small", f"{info.width}x{info.height}, min side {min_side}")


def _configure(stream, threads: int) -> None:
    stream.thread_type = "AUTO"
    if threads > 0:
        stream.thread_count = threads


def _learn_display(info: VideoInfo, frame) -> None:
    """Rotation lives in per-frame side data in PyAV, so the first frame settles the display
    size."""
    info.rotation = _rotation(frame)
    w, h = frame.width, frame.height
    info.width, info.height = (h, w) if info.rotation in (90, 270) else (w, h)


def _rotation(frame) -> int:
    return int(round(frame.rotation / 90.0)) % 4 * 90


# --------------------------------------------------------------------------- demux / decode


def _demux(container, stream) -> Iterator:
    """Packets with data; a demuxer error is treated as the end of the file, because a cut or
    damaged tail should not cost the frames before it."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError:
            return
        if packet.size:
            yield packet


def _decode(stream, packet) -> list:
    """Frames out of the decoder; a damaged packet yields none instead of ending the video."""
    try:
        return stream.decode(packet)
    except av.error.FFmpegError:
        return []


class _Seeker:
    """Decides when seeking beats reading on, and where to, from the keyframe index when the
    container has one and otherwise from the keyframe spacing seen so far."""

    def __init__(self, container, stream, duration: float):
        self.container, self.stream = container, stream
        self.tps = float(1 / stream.time_base)  # ticks per second
        self.end = (stream.start_time or 0) + duration * self.tps
        self.max_key_gap = None  # longest keyframe interval seen, in ticks
        self.floor_gap = 0.0     # raised when a seek lands behind what was already read
        self.last_key = None
        self.delay = 0           # largest pts - dts seen: how far index (dts) trails pts
        self.keys = self._index()
        if not self.keys and "matroska" in container.format.name:
            self._load_cues()

    def _index(self) -> list[int]:
        """Keyframe timestamps, if the container has a real index reaching the end of the
        video. Demuxers such as MPEG-TS add entries for what they happen to read (a seek
        reads both ends of the file), and Matroska shows one entry until its cues are loaded:
        a partial index would hide the keyframes it has not reached."""
        entries = self.stream.index_entries
        if len(entries) < 2 or not set(self.container.format.name.split(",")) & _INDEXED_FORMATS:
            return []
        keys = sorted(e.timestamp for e in entries if e.is_keyframe)
        gaps = [b - a for a, b in zip(keys, keys[1:])]
        reach = max(gaps + [SEEK_GAP * self.tps])
        return keys if entries[len(entries) - 1].timestamp >= self.end - reach else []

    def _load_cues(self) -> None:
        # Matroska reads its cues (the keyframe index) on the first seek, not on open.
        try:
            self.container.seek(self.stream.start_time or 0, stream=self.stream)
        except av.error.FFmpegError:
            return
        self.keys = self._index()

    def observe(self, packet) -> None:
        pts, dts = packet.pts, packet.dts
        if pts is not None and dts is not None:
            self.delay = max(self.delay, pts - dts)
        if packet.is_keyframe and pts is not None:
            if self.last_key is not None and pts > self.last_key:
                self.max_key_gap = max(self.max_key_gap or 0, pts - self.last_key)
            self.last_key = pts

    def plan(self, target: int, position: float, whole_gop: bool) -> int | None:
        """Where to seek for `target`, or None to read on. Exact mode (whole_gop False) seeks
        when the keyframe before the target is past everything read, so that no frame it
        would have decoded is skipped needlessly. Keyframe mode decodes nothing between
        keyframes, so it seeks only to skip at least one whole keyframe interval."""
        if position == -math.inf:
            return None
        if not self.keys:
            margin = SEEK_MARGIN * self.tps
            gap = max(SEEK_GAP * self.tps if self.max_key_gap is None else self.max_key_gap,
                      self.floor_gap)
            worth = target - position > gap + (0 if whole_gop else margin)
            return int(target - margin) if worth else None
        # Demuxers seek by presentation time, and the keyframe there is the one wanted. Aiming
        # `delay` early keeps that true for demuxers that compare decode times instead.
        aim = target - self.delay
        i = bisect.bisect_right(self.keys, aim) - 1
        if i < 0:
            return None
        if whole_gop:
            nxt = bisect.bisect_right(self.keys, position)
            worth = nxt < len(self.keys) and self.keys[i] > self.keys[nxt]
        else:
            worth = self.keys[i] > position
        return aim if worth else None

    def seek(self, offset: int) -> bool:
        try:
            self.container.seek(offset, backward=True, any_frame=False, stream=self.stream)
        except av.error.FFmpegError:
            self.keys, self.floor_gap = [], math.inf  # unseekable: read on from here
            return False
        self.last_key = None
        return True

    def landed(self, pts: int, target: int, position: float) -> None:
        """A seek without index that went back over read packets means keyframes are
        sparser than assumed: never seek that short a jump again."""
        if not self.keys and pts <= position:
            self.floor_gap = max(self.floor_gap, float(target - pts))


def _ticks(times: list[float], time_base: Fraction) -> list[int]:
    scale = time_base.denominator / time_base.numerator
    return [math.floor(t * scale + _TICK_SLACK) for t in times]


def _packet_position(packet) -> int | None:
    return packet.dts if packet.dts is not None else packet.pts


@dataclass
class _Pick:
    """One returned frame, already converted, and the targets it answers."""

    pts: int
    time: float
    keyframe: bool
    image: np.ndarray
    targets: list[float]


class _Converter:
    """Frames to upright RGB arrays; the first one also settles the display size, which is
    when a size limit the header could not check is enforced."""

    def __init__(self, info: VideoInfo, time_base: Fraction, max_side: int | None, min_side: int):
        self.info, self.max_side, self.min_side = info, max_side, min_side
        self.time_base = time_base  # frames do not always carry theirs
        self.first = True

    def __call__(self, frame, targets: list[float]) -> _Pick:
        if self.first:
            _learn_display(self.info, frame)
            _check_side(self.info, self.min_side)
            self.first = False
        return _Pick(frame.pts, float(frame.pts * self.time_base), bool(frame.key_frame),
                     _to_rgb(frame, self.max_side), targets)


class _ExactSampler:
    """Forward decoding with a lookahead of `REORDER_WINDOW` packets, which is what tells a
    non-reference frame that cannot be an answer (so it is not decoded) from one that can."""

    def __init__(self, container, stream, times: list[float], convert: _Converter):
        self.container, self.stream, self.times, self.convert = container, stream, times, convert
        self.ticks = _ticks(times, stream.time_base)
        self.seeker = _Seeker(container, stream, convert.info.duration)
        self.next = 0              # first target without a frame
        self.prev = None           # last frame out of the decoder
        self.prev_pick = None      # its pick, once it answers a target
        self.picks: list[_Pick] = []
        self.position = -math.inf  # furthest packet demuxed since the last seek
        self.seeked_for = -1       # target index of the last seek: never seek twice for one
        self.offset = None         # where the planned seek goes
        self.seek_from = None      # (target, position) until the first frame after a seek

    def run(self) -> list[_Pick]:
        while not self._done() and self._read_until_seek():
            pass
        if not self._done():
            self._finish()
        return self.picks

    def _done(self) -> bool:
        return self.next >= len(self.ticks)

    def _read_until_seek(self) -> bool:
        """Decodes forward; True when it seeked, False at the end of the data or when every
        target has its frame."""
        window: deque = deque()
        recent: deque = deque(maxlen=REORDER_WINDOW)
        for packet in _demux(self.container, self.stream):
            window.append(packet)
            self._advance(packet)
            if len(window) < REORDER_WINDOW:
                continue
            self._feed(window.popleft(), recent, window)
            if self._done():
                return False
            if self._should_seek() and self._seek():
                return True  # the packets left in the window lie before the landing keyframe
        while window and not self._done():
            self._feed(window.popleft(), recent, window)
        return False

    def _advance(self, packet) -> None:
        where = _packet_position(packet)
        if where is not None:
            self.position = max(self.position, where)
        self.seeker.observe(packet)

    def _should_seek(self) -> bool:
        if self.next == self.seeked_for:
            return False
        self.offset = self.seeker.plan(self.ticks[self.next], self.position, whole_gop=False)
        return self.offset is not None

    def _seek(self) -> bool:
        target = self.ticks[self.next]
        self.seeked_for = self.next
        if not self.seeker.seek(self.offset):
            return False
        # Frames still in the decoder lie before the keyframe we jump to, so none of them
        # can answer a remaining target; prev's successor is unknown from now on.
        self.seek_from = (target, self.position)
        self.prev = self.prev_pick = None
        self.position = -math.inf
        return True

    def _feed(self, packet, recent: deque, window: deque) -> None:
        pts = packet.pts
        needed = self.prev is None or pts is None or self._may_answer(pts, recent, window)
        self.stream.codec_context.skip_frame = "DEFAULT" if needed else "NONREF"
        recent.append(pts)
        for frame in _decode(self.stream, packet):
            self._on_frame(frame)

    def _may_answer(self, pts: int, recent: deque, window: deque) -> bool:
        """A frame answers the targets in [pts, next frame's pts). Any later pts seen nearby
        bounds that next pts from above, so the test can only err towards decoding."""
        later = [p for p in chain(recent, (w.pts for w in window)) if p is not None and p > pts]
        if not later:
            return True
        j = bisect.bisect_left(self.ticks, pts, lo=self.next)
        return j < len(self.ticks) and self.ticks[j] < min(later)

    def _on_frame(self, frame) -> None:
        if frame.pts is None:
            return  # no timestamp, no way to place it
        if self.seek_from is not None:
            self.seeker.landed(frame.pts, *self.seek_from)
            self.seek_from = None
        while not self._done() and self.ticks[self.next] < frame.pts:
            # Before the first frame (or after a seek that landed late) the frame after the
            # target stands in: it is the nearest one we have.
            if self.prev is None:
                self.prev, self.prev_pick = frame, None
            self._choose_prev()
        if self.prev is not frame:
            self.prev, self.prev_pick = frame, None

    def _choose_prev(self) -> None:
        target = self.times[self.next]
        if self.prev_pick is None:
            self.prev_pick = self.convert(self.prev, [target])
            self.picks.append(self.prev_pick)
        else:
            self.prev_pick.targets.append(target)
        self.next += 1

    def _finish(self) -> None:
        """End of data: drain the decoder; targets past the last frame's end are dropped."""
        self.stream.codec_context.skip_frame = "DEFAULT"
        for frame in _decode(self.stream, None):
            self._on_frame(frame)
        if self.prev is None:
            return
        end = self.prev.pts + _frame_duration(self.prev, self.stream)
        while not self._done() and self.ticks[self.next] < end:
            self._choose_prev()


def _frame_duration(frame, stream) -> int:
    if frame.duration:
        return frame.duration
    rate = stream.average_rate or stream.guessed_rate
    return max(1, round(1 / (rate * stream.time_base))) if rate else 1


class _KeyframeSampler:
    """Only keyframe packets that answer a target reach the decoder. A keyframe answers the
    targets up to the next keyframe, known when that one is demuxed, so the latest keyframe
    is held as a packet (no pixels) until then. Not `skip_frame="NONKEY"`: with it the decoder
    still receives and parses every packet, and H.264 would also discard intra frames that
    are neither IDR nor recovery points although the container flags them as keyframes."""

    def __init__(self, container, stream, times: list[float], convert: _Converter):
        self.container, self.stream, self.times, self.convert = container, stream, times, convert
        self.ticks = _ticks(times, stream.time_base)
        self.seeker = _Seeker(container, stream, convert.info.duration)
        self.next = 0
        self.held = None           # latest keyframe packet, its targets still open
        self.targets: dict[int, list[float]] = {}  # keyframe pts -> targets, in decode order
        self.picks: list[_Pick] = []
        self.converted: set[int] = set()
        self.position = -math.inf
        self.end = None            # furthest packet end: where a cut file stops
        self.seeked_for = -1

    def run(self) -> list[_Pick]:
        while self.next < len(self.ticks) and self._read_until_seek():
            pass
        self._claim(self.end)
        self._drain()
        return sorted(self.picks, key=lambda p: p.pts)

    def _read_until_seek(self) -> bool:
        for packet in _demux(self.container, self.stream):
            self._advance(packet)
            if packet.is_keyframe and packet.pts is not None:
                self._on_keyframe(packet)
            if self.next >= len(self.ticks):
                return False
            offset = self._seek_offset()
            if offset is not None:
                self._drain()  # a seek flushes the decoder, frames in flight included
                self.held = None
                self.seeked_for = self.next
                if self.seeker.seek(offset):
                    self.position = -math.inf
                    return True
        return False

    def _seek_offset(self) -> int | None:
        if self.next == self.seeked_for:
            return None
        return self.seeker.plan(self.ticks[self.next], self.position, whole_gop=True)

    def _advance(self, packet) -> None:
        where = _packet_position(packet)
        if where is not None:
            self.position = max(self.position, where)
        if packet.pts is not None:
            stop = packet.pts + (packet.duration or 0)
            self.end = stop if self.end is None else max(self.end, stop)
        self.seeker.observe(packet)

    def _on_keyframe(self, packet) -> None:
        # The held keyframe takes the targets before this one. With none held (the start, or
        # just after a seek) this one takes them: it is the nearest keyframe we have.
        if self.held is None:
            self.held = packet
        self._claim(packet.pts)
        self.held = packet

    def _claim(self, limit: int | None) -> None:
        """Gives the held keyframe every open target before `limit`."""
        if self.held is None or limit is None:
            return
        pts = self.held.pts
        while self.next < len(self.ticks) and self.ticks[self.next] < limit:
            if pts not in self.targets:
                self.targets[pts] = []
                for frame in _decode(self.stream, self.held):
                    self._on_frame(frame)
            self.targets[pts].append(self.times[self.next])
            self.next += 1

    def _on_frame(self, frame) -> None:
        # The pick shares the target list: targets keep arriving after the frame is out.
        targets = self.targets.get(frame.pts)
        if targets is not None and frame.pts not in self.converted:
            self.converted.add(frame.pts)
            self.picks.append(self.convert(frame, targets))

    def _drain(self) -> None:
        for frame in _decode(self.stream, None):
            self._on_frame(frame)
        self.stream.codec_context.flush_buffers()  # leave draining mode for the next packet


# --------------------------------------------------------------------------- conversion


def _to_frames(picks: list[_Pick], per_target: bool) -> list[SampledFrame]:
    if not picks:
        raise VideoRejected("undecodable", "no frame decodes")
    return [SampledFrame(p.time, t, p.image, p.keyframe)
            for p in picks for t in (p.targets if per_target else p.targets[:1])]


def _to_rgb(frame, max_side: int | None) -> np.ndarray:
    w, h = frame.width, frame.height
    if max_side and max(w, h) > max_side:
        scale = max_side / max(w, h)
        w, h = max(1, round(w * scale)), max(1, round(h * scale))
        image = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()
    else:
        image = frame.to_ndarray(format="rgb24")
    k = _rotation(frame) // 90
    return np.ascontiguousarray(np.rot90(image, k)) if k else image


# --------------------------------------------------------------------------- subtitles

_TIME = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)[.,](\d{1,3})$")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # HTML-like tags (<i>, <c.x>, <v Name>), ASS {\an8}


def parse_subtitles(text: str) -> tuple[list[Cue], int]:
    """Cues from WebVTT or SRT text, sorted by start, and the number of cues skipped for bad
    timestamps (unparseable, or ending before they start). Tags are stripped and entities
    unescaped; cues left without text are dropped without being counted."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues: list[Cue] = []
    skipped = 0
    timing, body = None, []
    for line in chain(lines, [""]):
        if "-->" in line:
            if timing is not None:
                if body and body[-1].strip().isdigit():
                    body.pop()  # an SRT index glued to the next cue without a blank line
                skipped += _add_cue(cues, timing, body)
            timing, body = line, []
        elif not line.strip():
            if timing is not None:
                skipped += _add_cue(cues, timing, body)
            timing, body = None, []
        elif timing is not None:
            body.append(line)
    cues.sort(key=lambda c: (c.start, c.end))
    return cues, skipped


def _add_cue(cues: list[Cue], timing: str, body: list[str]) -> int:
    """Appends the cue; returns 1 when its timing is bad."""
    left, _, right = timing.partition("-->")
    fields = right.split()
    start = _parse_time(left.strip())
    end = _parse_time(fields[0]) if fields else None
    if start is None or end is None or end < start:
        return 1
    lines = (html.unescape(_TAG.sub("", line)).strip() for line in body)
    content = "\n".join(line for line in lines if line)
    if content:
        cues.append(Cue(start, end, content))
    return 0


def _parse_time(value: str) -> float | None:
    m = _TIME.match(value)
    if not m:
        return None
    hours, minutes, seconds, frac = m.groups()
    return (int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
            + int(frac.ljust(3, "0")) / 1000)
