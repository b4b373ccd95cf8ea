"""Video stage: each video reference becomes timestamped frames with its subtitles in place.

A video is decoded once, from its path, by PyAV (vision_prep.video); frames are scaled by
FFmpeg while decoding and stored as JPEG, so memory per task is bounded by max_frames.
The document's parts become: description, then in time order `[mm:ss]` + frame and the
subtitle cues, each at its start time. Each frame's perceptual hash is kept in its meta,
the sequence a video's fingerprint for dedup.
"""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import contextmanager

from pipelines.config import VideoConfig
from pipelines.io import storage
from pipelines.stage import BatchStage


def timestamp(t: float) -> str:
    m, s = divmod(int(t), 60)
    h, m = divmod(m, 60)
    return f"[{h}:{m:02d}:{s:02d}]" if h else f"[{m:02d}:{s:02d}]"


def _jpeg(image, quality: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@contextmanager
def local_copy(path: str):
    """The video as a local file: PyAV seeks in it, so an s3:// object is downloaded first
    (streamed to a temporary file, removed afterwards)."""
    if not storage.is_s3(path):
        yield path
        return
    suffix = os.path.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(prefix="earlyfuse-video-", suffix=suffix)
    os.close(fd)
    try:
        storage.download(path, tmp)
        yield tmp
    finally:
        os.unlink(tmp)


def expand_video(parts: list[dict], cfg: VideoConfig) -> tuple[list[dict], str | None, dict]:
    """A document's parts with its video part replaced by frames -> (parts, reason, signals)."""
    from vision_prep.hashes import dhash
    from vision_prep.video import VideoRejected, sample_frames

    video = next(p for p in parts if p["kind"] == "video")
    meta = dict(video["meta"] or [])
    try:
        with local_copy(meta["path"]) as path:
            info, frames = sample_frames(
                path, fps=cfg.fps, max_frames=cfg.max_frames, mode=cfg.mode,
                max_side=cfg.max_side, threads=cfg.threads, min_duration=cfg.min_duration,
                max_duration=cfg.max_duration, min_side=cfg.min_side, max_file_bytes=cfg.max_file_bytes,
                max_pixels=cfg.max_pixels)
    except VideoRejected as e:
        return parts, e.reason, {}
    except (FileNotFoundError, storage.InputNotFound):
        return parts, "missing_file", {}
    head = [p for p in parts if p["kind"] == "text" and dict(p["meta"] or []).get("role") != "subtitle"]
    cues = [p for p in parts if p["kind"] == "text" and dict(p["meta"] or []).get("role") == "subtitle"]
    timeline = []
    for f in frames:
        h = dhash(f.image)
        frame = {"kind": "frame", "text": None, "data": _jpeg(f.image, cfg.jpeg_quality),
                 "meta": [("time", f"{f.time:.3f}"), ("target", f"{f.target:.3f}"),
                          ("dhash", f"{h:016x}"), ("keyframe", str(int(f.keyframe))),
                          # Where the dataset lives is not part of it: the path inside the input.
                          ("src", meta.get("name", meta["path"]))]}
        stamp = {"kind": "text", "text": timestamp(f.time), "data": None,
                 "meta": [("role", "timestamp"), ("time", f"{f.time:.3f}")]}
        # Sort key: time, then stamp before its frame, frames before cues at the same time.
        timeline += [((f.time, 0), stamp), ((f.time, 1), frame)]
    for c in cues:
        timeline.append(((float(dict(c["meta"])["start"]), 2), c))
    timeline.sort(key=lambda kv: kv[0])
    signals = {"video.duration": info.duration, "video.width": float(info.width),
               "video.height": float(info.height), "video.fps": float(info.fps or 0.0),
               "video.frames": float(len(frames)), "video.rotation": float(info.rotation)}
    return head + [p for _, p in timeline], None, signals


class VideoProcessor:
    def __init__(self, cfg: VideoConfig, storage_opts=None):
        self.cfg = cfg
        self.storage_opts = storage_opts

    def __call__(self, batch):
        if self.storage_opts is not None:
            storage.set_default_options(self.storage_opts)
        out_parts, reasons, sigs = [], [], []
        for parts in batch.column("parts").to_pylist():
            if not any(p["kind"] == "video" for p in parts):
                out_parts.append(parts)
                reasons.append(None)
                sigs.append({})
                continue
            new, reason, s = expand_video(parts, self.cfg)
            out_parts.append(new)
            reasons.append(reason)
            sigs.append(s)
        return {"parts": out_parts, "reasons": reasons, "signals": sigs}


class Video(BatchStage):
    name = "video"
    reads = ("parts",)
    writes = ("parts", "signals", "status")
    scope = "media"

    def __init__(self, cfg: VideoConfig):
        self.cfg = cfg

    def make_processor(self, ctx):
        return VideoProcessor(self.cfg, ctx.storage_opts if ctx is not None else None)
