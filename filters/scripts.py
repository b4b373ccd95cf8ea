"""Which writing system a text is in, by Unicode ranges.

Used where a language label carries no script (lid.176's `zh`, `sr`, `pa`) and where word
splitting must not rely on spaces (Han, Kana, Thai, ...).
"""

from __future__ import annotations

import re
from collections import Counter

# (ISO 15924 code, regex class); order matters only for readability.
_RANGES = [
    ("Latn", "A-Za-z\u00c0-\u024f\u1e00-\u1eff"),
    ("Cyrl", "\u0400-\u052f"),
    ("Grek", "\u0370-\u03ff\u1f00-\u1fff"),
    ("Armn", "\u0530-\u058f"),
    ("Hebr", "\u0590-\u05ff"),
    ("Arab", "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"),
    ("Deva", "\u0900-\u097f"),
    ("Beng", "\u0980-\u09ff"),
    ("Guru", "\u0a00-\u0a7f"),
    ("Gujr", "\u0a80-\u0aff"),
    ("Orya", "\u0b00-\u0b7f"),
    ("Taml", "\u0b80-\u0bff"),
    ("Telu", "\u0c00-\u0c7f"),
    ("Knda", "\u0c80-\u0cff"),
    ("Mlym", "\u0d00-\u0d7f"),
    ("Sinh", "\u0d80-\u0dff"),
    ("Thai", "\u0e00-\u0e7f"),
    ("Laoo", "\u0e80-\u0eff"),
    ("Tibt", "\u0f00-\u0fff"),
    ("Mymr", "\u1000-\u109f"),
    ("Geor", "\u10a0-\u10ff"),
    ("Hang", "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"),
    ("Ethi", "\u1200-\u139f"),
    ("Khmr", "\u1780-\u17ff"),
    ("Kana", "\u3040-\u30ff\u31f0-\u31ff"),
    ("Hani", "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"),
]
_SCRIPT_RE = re.compile("|".join(f"(?P<{name}>[{cls}]+)" for name, cls in _RANGES))

# Scripts written without spaces between words.
UNSPACED = frozenset({"Hani", "Kana", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})

# A small, high-frequency sample of characters that exist only in Traditional Chinese
# and their Simplified counterparts; enough to tell the two apart on a paragraph.
_HANT_ONLY = set("這們個來說時會國學為對過還經發現後點東車長門開關問題應該麼體當書話從區電歲氣裡線實際處")
_HANS_ONLY = set("这们个来说时会国学为对过还经发现后点东车长门开关问题应该么体当书话从区电岁气里线实际处")


def script_counts(text: str) -> Counter:
    """Letters per script (Han and Kana counted separately)."""
    counts: Counter = Counter()
    for m in _SCRIPT_RE.finditer(text):
        counts[m.lastgroup] += m.end() - m.start()
    return counts


def dominant_script(text: str) -> str | None:
    counts = script_counts(text)
    if not counts:
        return None
    if counts.get("Kana", 0) and counts.get("Kana", 0) * 10 >= counts.get("Hani", 0):
        return "Jpan"
    return counts.most_common(1)[0][0]


def han_variant(text: str) -> str:
    """`Hant` or `Hans` for a Chinese text (Simplified when it cannot tell)."""
    trad = sum(1 for ch in text if ch in _HANT_ONLY)
    simp = sum(1 for ch in text if ch in _HANS_ONLY)
    return "Hant" if trad > simp else "Hans"


def unspaced_fraction(counts: Counter) -> float:
    total = sum(counts.values())
    if not total:
        return 0.0
    return sum(n for s, n in counts.items() if s in UNSPACED) / total
