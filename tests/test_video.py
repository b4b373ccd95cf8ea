"""Frame sampling on small videos made with PyAV whose frames show their own index."""

from __future__ import annotations

import io
import math
import random

import av
import cv2
import numpy as np
import pytest

from tests.videos_util import make_empty_video, make_video, read_counter
from vision_prep import video, video_decode
from vision_prep.hashes import dhash as frame_hash
from vision_prep.hashes import hamming
from vision_prep.subtitles import Cue, parse_subtitles
from vision_prep.video import VideoRejected, probe, sample_frames, target_times


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Shared clips (a few kB each); built once because encoding dominates the test time."""
    root = tmp_path_factory.mktemp("videos")
    made = {}

    def add(name, **kw):
        made[name] = root / name
        make_video(made[name], **kw)

    add("h264.mp4", seconds=5, fps=24, gop=24)
    add("vp9.webm", seconds=5, fps=24, gop=24, codec="libvpx-vp9")
    add("gop48.mp4", seconds=10, fps=24, gop=48)
    add("long.mp4", seconds=20, fps=12, gop=12)
    add("long.ts", seconds=20, fps=12, gop=12)  # MPEG-TS: no keyframe index
    add("onegop.mp4", seconds=5, fps=24, gop=200)
    add("vfr.mkv", vfr_times=VFR_TIMES, fps=10)
    add("rot90.mp4", seconds=1, fps=10, rotation=90)
    add("audio.mp4", seconds=1, fps=10, audio=True)
    add("audio_only.m4a", seconds=1, audio_only=True)
    add("fast.mp4", seconds=4, fps=24, gop=24, faststart=True)
    add("live.mkv", seconds=3, fps=10, gop=10, seekable=False)
    return made


VFR_TIMES = [0.0, 0.1, 0.15, 0.9, 1.0, 1.7, 2.5, 2.55, 2.6, 3.9]


def reference(path, targets):
    """Brute force: decode every frame and take the last one at or before each target (the
    first one for targets before it)."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        decoded = [(float(f.pts * stream.time_base), f.to_ndarray(format="rgb24"))
                   for f in c.decode(stream)]
    out = []
    for t in targets:
        before = [image for time, image in decoded if time <= t + 1e-9]
        out.append(before[-1] if before else decoded[0][1])
    return out


def counters(frames):
    return [read_counter(f.image) for f in frames]


def rejected(reason, *args, **kw):
    with pytest.raises(VideoRejected) as err:
        sample_frames(*args, **kw)
    assert err.value.reason == reason, err.value


# --------------------------------------------------------------------------- target times


def test_target_times_step_by_fps_from_start():
    assert target_times(5.0, fps=1) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert target_times(2.2, fps=2, start=1.5) == [1.5, 2.0, 2.5, 3.0, 3.5]
    assert target_times(0.3, fps=1) == [0.0]
    assert target_times(0.0) == []


def test_target_times_capped_are_segment_centres():
    assert target_times(20.0, fps=1, max_frames=5) == [2.0, 6.0, 10.0, 14.0, 18.0]
    assert target_times(3.0, fps=1, max_frames=3) == [0.0, 1.0, 2.0]  # exactly at the cap


def test_target_times_rejects_bad_arguments():
    with pytest.raises(ValueError):
        target_times(1.0, fps=0)
    with pytest.raises(ValueError):
        target_times(1.0, max_frames=0)


# --------------------------------------------------------------------------- exact mode


@pytest.mark.parametrize("name, codec", [("h264.mp4", "h264"), ("vp9.webm", "vp9")])
def test_exact_mode_returns_the_frame_at_each_second(videos, name, codec):
    info, frames = sample_frames(videos[name], fps=1)
    assert (info.codec, info.width, info.height, info.rotation) == (codec, 128, 96, 0)
    assert info.duration == pytest.approx(5.0, abs=0.05) and info.fps == pytest.approx(24)
    assert [f.target for f in frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert counters(frames) == [math.floor(t * 24) for t in range(5)]
    assert [f.time for f in frames] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0], abs=1e-3)
    assert [f.keyframe for f in frames] == [True] * 5  # gop 24: every second starts one
    assert all(f.image.shape == (96, 128, 3) and f.image.dtype == np.uint8 for f in frames)


@pytest.mark.parametrize("fps", [7.0, 30.0])
def test_exact_mode_matches_brute_force_decoding_pixel_for_pixel(videos, fps):
    # 30 fps on a 24 fps clip asks for some frames twice; 7 fps lands between frames.
    path = videos["h264.mp4"]
    _, frames = sample_frames(path, fps=fps, max_frames=200)
    assert len(frames) == len(target_times(5.0, fps, 200))
    for f, expected in zip(frames, reference(path, [f.target for f in frames])):
        assert np.array_equal(f.image, expected), f.target
    assert counters(frames) == [math.floor(f.target * 24 + 1e-9) for f in frames]


def test_exact_mode_skips_frames_nothing_depends_on(videos, monkeypatch):
    # One GOP of 120 frames: everything must be decoded up to the last target, except the
    # non-reference B-frames that answer no target.
    decoded = []
    original = video_decode._decode
    monkeypatch.setattr(video_decode, "_decode", lambda s, p: _count(original, decoded, s, p))
    path = videos["onegop.mp4"]
    _, frames = sample_frames(path, fps=1)
    assert counters(frames) == [0, 24, 48, 72, 96]
    assert len(decoded) < 0.8 * 97
    for f, expected in zip(frames, reference(path, [f.target for f in frames])):
        assert np.array_equal(f.image, expected)


def _count(original, decoded, stream, packet):
    frames = original(stream, packet)
    decoded.extend(f.pts for f in frames)
    return frames


def test_variable_frame_rate_uses_timestamps(videos):
    info, frames = sample_frames(videos["vfr.mkv"], fps=4)
    assert info.duration == pytest.approx(4.0, abs=0.01)
    assert len(frames) == 16
    for f in frames:
        expected = max(i for i, t in enumerate(VFR_TIMES) if t <= f.target + 1e-9)
        assert read_counter(f.image) == expected, f.target
        assert f.time == pytest.approx(VFR_TIMES[expected], abs=1e-3)


@pytest.mark.parametrize("name", ["long.mp4", "long.ts"])
def test_exact_mode_seeks_over_gaps_without_decoding_twice(videos, monkeypatch, name):
    # long.mp4 seeks by its index; long.ts has none and seeks by the keyframe spacing seen.
    seeks, decoded = [], []
    original_seek, original_decode = video_decode._Seeker.seek, video_decode._decode
    monkeypatch.setattr(video_decode._Seeker, "seek",
                        lambda self, *a: seeks.append(a) or original_seek(self, *a))
    monkeypatch.setattr(video_decode, "_decode", lambda s, p: _count(original_decode, decoded, s, p))
    path = videos[name]
    info, frames = sample_frames(path, fps=1, max_frames=5)
    start = frames[0].target - 2.0
    assert [round(f.target - start, 6) for f in frames] == [2.0, 6.0, 10.0, 14.0, 18.0]
    assert counters(frames) == [math.floor((f.target - start) * 12) for f in frames]
    assert len(seeks) >= 3
    assert len(decoded) == len(set(decoded)) and len(decoded) < 240 / 3
    for f, expected in zip(frames, reference(path, [f.target for f in frames])):
        assert np.array_equal(f.image, expected)


def test_max_frames_spreads_over_the_duration(videos):
    _, frames = sample_frames(videos["long.mp4"], fps=1, max_frames=5)
    assert [f.target for f in frames] == [2.0, 6.0, 10.0, 14.0, 18.0]
    assert counters(frames) == [24, 72, 120, 168, 216]


def test_max_frames_is_bounded(videos):
    with pytest.raises(ValueError):
        sample_frames(videos["h264.mp4"], max_frames=video.MAX_FRAMES_LIMIT + 1)
    with pytest.raises(ValueError):
        sample_frames(videos["h264.mp4"], mode="nearest")


def test_threads_do_not_change_the_result(videos):
    _, one = sample_frames(videos["h264.mp4"], fps=3, threads=1)
    _, two = sample_frames(videos["h264.mp4"], fps=3, threads=2)
    assert [f.time for f in one] == [f.time for f in two]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(one, two))


# --------------------------------------------------------------------------- keyframe mode


def test_keyframe_mode_returns_each_keyframe_once(videos):
    # Keyframes every 2 s, targets every second: pairs of targets share a keyframe.
    _, frames = sample_frames(videos["gop48.mp4"], fps=1, mode="keyframe")
    assert counters(frames) == [0, 48, 96, 144, 192]
    assert all(f.keyframe for f in frames)
    assert [f.target for f in frames] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert [f.time for f in frames] == pytest.approx([0.0, 2.0, 4.0, 6.0, 8.0], abs=1e-3)


@pytest.mark.parametrize("name", ["long.mp4", "long.ts", "vp9.webm"])
def test_keyframe_mode_picks_the_keyframe_at_or_before_each_target(videos, monkeypatch, name):
    # Keyframes every second; targets at the centres of three equal segments.
    decoded = []
    original = video_decode._decode
    monkeypatch.setattr(video_decode, "_decode", lambda s, p: _count(original, decoded, s, p))
    info, frames = sample_frames(videos[name], fps=1, max_frames=3, mode="keyframe")
    assert len(decoded) == 3  # the keyframes returned, and nothing else
    fps = round(info.fps)
    start = frames[0].target - info.duration / 6  # MPEG-TS streams do not start at 0
    assert [f.target - start for f in frames] == pytest.approx(
        [info.duration * k / 6 for k in (1, 3, 5)])
    assert counters(frames) == [math.floor(f.target - start) * fps for f in frames]
    assert all(f.keyframe for f in frames) and len({f.time for f in frames}) == 3


@pytest.mark.parametrize("mode", ["exact", "keyframe"])
def test_live_recording_without_index_or_duration(videos, mode):
    with av.open(str(videos["live.mkv"])) as c:
        assert c.duration is None and c.streams.video[0].duration is None
    info, frames = sample_frames(videos["live.mkv"], fps=1, mode=mode)
    assert info.duration == pytest.approx(3.0, abs=0.05)  # from the last packet
    assert counters(frames) == [0, 10, 20]


# --------------------------------------------------------------------------- display


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_is_applied(tmp_path, rotation):
    path = tmp_path / f"rot{rotation}.mp4"
    make_video(path, seconds=1, fps=10, size=(128, 96), rotation=rotation)
    info, frames = sample_frames(path, fps=2)
    upright = (96, 128) if rotation % 180 else (128, 96)
    assert info.rotation == rotation and (info.width, info.height) == upright
    assert [f.image.shape[:2] for f in frames] == [upright[::-1]] * 2
    assert counters(frames) == [0, 5]


def test_probe_reads_rotation_without_sampling(videos):
    info = probe(videos["rot90.mp4"])
    assert (info.rotation, info.width, info.height, info.n_frames) == (90, 96, 128, 10)
    assert info.has_audio is False and info.bytes == videos["rot90.mp4"].stat().st_size


def test_probe_sees_audio_next_to_video(videos):
    assert probe(videos["audio.mp4"]).has_audio is True


def test_max_side_scales_inside_conversion_and_keeps_aspect(videos):
    _, frames = sample_frames(videos["h264.mp4"], fps=1, max_side=64)
    assert {f.image.shape for f in frames} == {(48, 64, 3)}
    assert counters(frames) == [0, 24, 48, 72, 96]
    _, rotated = sample_frames(videos["rot90.mp4"], fps=1, max_side=64)
    assert rotated[0].image.shape == (64, 48, 3) and read_counter(rotated[0].image) == 0


def test_bytes_and_file_objects_are_accepted(videos):
    data = videos["h264.mp4"].read_bytes()
    info, frames = sample_frames(data, fps=1)
    _, from_file = sample_frames(io.BytesIO(data), fps=1)
    assert info.bytes == len(data)
    assert counters(frames) == counters(from_file) == [0, 24, 48, 72, 96]


# --------------------------------------------------------------------------- rejections


def test_audio_only_has_no_video_stream(videos):
    with pytest.raises(VideoRejected) as err:
        probe(videos["audio_only.m4a"])
    assert err.value.reason == "no_video_stream"
    rejected("no_video_stream", videos["audio_only.m4a"])


def test_zero_bytes_is_empty(tmp_path):
    path = tmp_path / "zero.mp4"
    path.write_bytes(b"")
    rejected("empty", path)
    with pytest.raises(VideoRejected) as err:
        probe(path)
    assert err.value.reason == "empty"


def test_garbage_is_undecodable():
    rng = np.random.default_rng(0)
    rejected("undecodable", rng.integers(0, 256, 20000, dtype=np.uint8).tobytes())
    rejected("undecodable", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1000)


def test_zero_frame_video_is_undecodable(tmp_path):
    # Matroska keeps the declared stream; opening finds no frame at all.
    path = tmp_path / "noframes.webm"
    make_empty_video(path)
    assert path.stat().st_size > 0
    rejected("undecodable", path)


def test_zero_frame_mp4_has_no_video_stream(tmp_path):
    # The MP4 muxer drops a track without samples, so there is no stream left to decode.
    path = tmp_path / "noframes.mp4"
    make_empty_video(path, codec="libx264")
    rejected("no_video_stream", path)


def test_truncated_webm_returns_the_frames_before_the_cut(videos):
    data = videos["vp9.webm"].read_bytes()
    info, frames = sample_frames(data[: len(data) // 2], fps=1)
    assert info.duration == pytest.approx(5.0, abs=0.05)  # the header still claims 5 s
    assert 1 <= len(frames) < 5
    assert counters(frames) == [24 * i for i in range(len(frames))]
    assert [f.target for f in frames] == [float(i) for i in range(len(frames))]


def test_truncated_faststart_mp4_returns_the_frames_before_the_cut(videos):
    data = videos["fast.mp4"].read_bytes()
    _, frames = sample_frames(data[: len(data) // 2], fps=1)
    assert 1 <= len(frames) < 4
    assert counters(frames) == [24 * i for i in range(len(frames))]
    _, keyframes = sample_frames(data[: len(data) // 2], fps=1, mode="keyframe")
    assert 1 <= len(keyframes) < 4 and counters(keyframes) == counters(frames)


def test_mp4_cut_before_its_index_is_undecodable(videos):
    # Without faststart the moov box (the index of every sample) is written last.
    data = videos["h264.mp4"].read_bytes()
    assert data.find(b"moov") > len(data) // 2
    rejected("undecodable", data[: len(data) // 2])


def test_mp4_with_index_but_no_sample_data_is_undecodable(videos):
    data = videos["fast.mp4"].read_bytes()
    mdat = data.find(b"mdat")
    assert mdat > data.find(b"moov") > 0
    rejected("undecodable", data[: mdat + 4])


def test_unknown_codec_is_undecodable(videos):
    data = videos["h264.mp4"].read_bytes()
    entry = data.find(b"avc1", data.find(b"stsd"))  # the sample entry naming the codec
    assert entry > 0
    rejected("undecodable", data[:entry] + b"zzzz" + data[entry + 4:])


def test_damaged_files_give_frames_or_a_reason(videos):
    # Random byte damage anywhere (headers, index, payload) must never escape as anything but
    # VideoRejected, whichever mode reads the file.
    rng = random.Random(0)
    for name in ("h264.mp4", "fast.mp4", "vp9.webm", "long.ts", "vfr.mkv"):
        data = videos[name].read_bytes()
        for i in range(24):
            damaged = bytearray(data)
            if i % 3 == 0:
                damaged = damaged[: rng.randrange(len(data))]
            elif i % 3 == 1:
                for _ in range(rng.randint(1, 30)):
                    damaged[rng.randrange(len(data))] = rng.randrange(256)
            else:
                at = rng.randrange(len(data))
                damaged[at: at + 300] = bytes(len(damaged[at: at + 300]))
            try:
                _, frames = sample_frames(bytes(damaged), fps=2, max_frames=6,
                                          mode=("exact", "keyframe")[i % 2])
            except VideoRejected as err:
                assert err.reason in video.REASONS
            else:
                assert frames and all(f.image.ndim == 3 for f in frames)


@pytest.mark.parametrize("kw, reason", [
    ({"min_duration": 6.0}, "too_short"),
    ({"max_duration": 4.0}, "too_long"),
    ({"min_side": 100}, "too_small"),
    ({"max_file_bytes": 1000}, "too_large_file"),
])
def test_filters(videos, kw, reason):
    rejected(reason, videos["h264.mp4"], **kw)


def test_filters_at_their_limit_pass(videos):
    path = videos["h264.mp4"]
    info, frames = sample_frames(path, min_duration=5.0, max_duration=5.0, min_side=96,
                                 max_file_bytes=path.stat().st_size)
    assert len(frames) == 5 and info.bytes == path.stat().st_size


def test_file_size_is_checked_before_opening():
    # Garbage would be undecodable; the size limit answers first, without parsing.
    rejected("too_large_file", b"\x01" * 5000, max_file_bytes=4999)


def test_min_side_uses_the_shorter_side_whatever_the_rotation(videos):
    rejected("too_small", videos["rot90.mp4"], min_side=97)
    assert len(sample_frames(videos["rot90.mp4"], min_side=96)[1]) == 1


def test_unknown_reason_is_a_programming_error():
    with pytest.raises(ValueError):
        VideoRejected("broken")


# --------------------------------------------------------------------------- hashes


def scene(seed: int, width: int = 320, height: int = 240) -> np.ndarray:
    """Coarse random structure: gradients point every way, as in real frames."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return cv2.add(image, rng.integers(0, 12, image.shape, dtype=np.uint8))


def test_frame_hash_is_stable_and_separates_different_frames():
    a, b = scene(1), scene(2)
    assert frame_hash(a) == frame_hash(a.copy())
    assert 0 <= frame_hash(a) < 2 ** 64
    assert hamming(frame_hash(a), frame_hash(b)) > 16
    assert hamming(frame_hash(a), frame_hash(np.ascontiguousarray(a[:, ::-1]))) > 16


def test_frame_hash_survives_reencoding_and_rescaling():
    original = scene(3)
    ok, data = cv2.imencode(".jpg", original[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 30])
    recoded = cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1]
    smaller = cv2.resize(original, (160, 120), interpolation=cv2.INTER_AREA)
    assert ok and not np.array_equal(recoded, original)
    assert hamming(frame_hash(original), frame_hash(recoded)) <= 4
    assert hamming(frame_hash(original), frame_hash(smaller)) <= 4


def test_frame_hashes_of_sampled_frames(videos):
    _, frames = sample_frames(videos["h264.mp4"], fps=1)
    hashes = [frame_hash(f.image) for f in frames]
    assert len(set(hashes)) > 1


# --------------------------------------------------------------------------- subtitles

VTT = (
    "\ufeffWEBVTT - sample\r\n\r\n"
    "NOTE a comment\r\nthat spans lines\r\n\r\n"
    "intro\r\n00:01.000 --> 00:04.500 align:start position:10%\r\n<v Anna>Hello <i>there</i>!</v>\r\n\r\n"
    "01:00:02.250 --> 01:00:03.000\r\nAn hour in &amp; <c.loud>louder</c>\r\nsecond line\r\n\r\n"
    "00:05.000 --> 00:0x.000\r\nbroken end time\r\n\r\n"
)

SRT = """1
00:00:01,000 --> 00:00:02,500
<i>First</i> line
<font color="red">coloured</font>

2
00:00:03,000 --> 00:00:02,000
ends before it starts

3
00:00:04,5 --> 00:00:06,000
{\\an8}Top of screen
4
00:00:07,000 --> 00:00:08,000
Glued to the previous cue
"""


def test_webvtt():
    cues, skipped = parse_subtitles(VTT)
    assert skipped == 1
    assert cues == [Cue(1.0, 4.5, "Hello there!"),
                    Cue(3602.25, 3603.0, "An hour in & louder\nsecond line")]


def test_srt():
    cues, skipped = parse_subtitles(SRT.replace("\n", "\r\n"))
    assert skipped == 1
    assert cues == [Cue(1.0, 2.5, "First line\ncoloured"), Cue(4.5, 6.0, "Top of screen"),
                    Cue(7.0, 8.0, "Glued to the previous cue")]


def test_subtitles_without_cues():
    assert parse_subtitles("") == ([], 0)
    assert parse_subtitles("WEBVTT\n\nNOTE nothing here\n") == ([], 0)
