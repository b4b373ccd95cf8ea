"""WebVTT and SRT subtitles -> timed cues, tolerant of what real files carry (a byte-order
mark, CRLF, SRT indexes glued to the previous cue, styling tags, broken timestamps)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from itertools import chain


@dataclass
class Cue:
    start: float
    end: float
    text: str


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
