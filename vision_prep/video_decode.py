"""Demuxing, seeking and decoding for the video sampler: the exact and keyframe samplers and
the conversion of chosen frames to RGB (vision_prep/video.py is the API; its docstring says
how each mode chooses frames)."""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain

import av
import numpy as np

from vision_prep.video_info import SampledFrame, VideoInfo, VideoRejected, _check_side, _learn_display, _rotation

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
