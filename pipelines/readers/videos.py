"""Video files -> one document each: a reference to the file plus its sidecars.

The frames are not read here: a video is decoded once, by the video stage, straight from
its path, so large files never travel through the DataFrame. Sidecars are small and are
read now: `<stem>.txt` or `<stem>.json` (title, description) and `<stem>.vtt` / `.srt`
subtitles, parsed into timed cues so that language ID sees their words, not timestamps.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from pipelines.io import storage
from pipelines.readers import stable_id
from pipelines.schema import caption_part, record, text_part

VIDEO_EXTS = ("mp4", "webm", "mkv", "mov", "m4v", "avi")


def _read_text(path: str, max_bytes: int) -> str | None:
    if not storage.exists(path) or storage.size(path) > max_bytes:
        return None
    return storage.read_bytes(path).decode("utf-8-sig", errors="replace")


def _description(stem: str, max_bytes: int) -> tuple[str | None, str | None]:
    """(description text, url) from `<stem>.json` (title + description) or `<stem>.txt`."""
    raw = _read_text(f"{stem}.json", max_bytes)
    if raw is not None:
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            text = "\n".join(str(obj[k]).strip() for k in ("title", "description", "caption") if obj.get(k))
            return text or None, (str(obj["url"]) if obj.get("url") else None)
    raw = _read_text(f"{stem}.txt", max_bytes)
    return (raw.strip() or None) if raw else None, None


def subtitle_parts(stem: str, max_bytes: int) -> tuple[list[dict], int]:
    """Timed cue parts from `<stem>.vtt` or `<stem>.srt`, and how many cues were unreadable."""
    from vision_prep.subtitles import parse_subtitles

    for ext in ("vtt", "srt"):
        raw = _read_text(f"{stem}.{ext}", max_bytes)
        if raw is None:
            continue
        cues, skipped = parse_subtitles(raw)
        return [text_part(c.text, role="subtitle", start=f"{c.start:.3f}", end=f"{c.end:.3f}")
                for c in cues], skipped
    return [], 0


def read_video_file(path: str, source: str, relpath: str, max_bytes: int) -> Iterator[dict]:
    stem = os.path.splitext(path)[0]
    size = storage.size(path)
    description, url = _description(stem, max_bytes)
    parts = [{"kind": "video", "text": None, "data": None,
              "meta": [("path", path), ("name", relpath), ("bytes", str(size))]}]
    if description:
        parts.insert(0, caption_part(description))
    cues, skipped = subtitle_parts(stem, max_bytes)
    parts += cues
    rec = record(stable_id(source, relpath, 0), source, url or relpath, parts,
                 signals={"video.subtitle_cues_skipped": float(skipped)})
    yield rec
