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

# Scripts written without spaces between words: ISO 15924 codes, the same set as Unicode
# script properties for `regex`, and the same characters again as code point ranges for the
# stdlib `re`, which scans whole texts much faster (ranges listed from regex's Unicode
# tables; a test checks the three agree). Word splitting, MinHash shingles and the quality
# rules all use these.
UNSPACED = frozenset({"Hani", "Kana", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})
UNSPACED_CLASS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
UNSPACED_RANGES = (
    "\u0e01-\u0e3a\u0e40-\u0e5b\u0e81-\u0e82\u0e84\u0e86-\u0e8a\u0e8c-\u0ea3\u0ea5"
    "\u0ea7-\u0ebd\u0ec0-\u0ec4\u0ec6\u0ec8-\u0ece\u0ed0-\u0ed9\u0edc-\u0edf\u0f00-\u0f47"
    "\u0f49-\u0f6c\u0f71-\u0f97\u0f99-\u0fbc\u0fbe-\u0fcc\u0fce-\u0fd4\u0fd9-\u0fda"
    "\u1000-\u109f\u1780-\u17dd\u17e0-\u17e9\u17f0-\u17f9\u19e0-\u19ff\u2e80-\u2e99"
    "\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029\u3038-\u303b\u3041-\u3096"
    "\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff\u32d0-\u32fe\u3300-\u3357"
    "\u3400-\u4dbf\u4e00-\u9fff\ua9e0-\ua9fe\uaa60-\uaa7f\uf900-\ufa6d\ufa70-\ufad9"
    "\uff66-\uff6f\uff71-\uff9d\U000116d0-\U000116e3\U00016fe2-\U00016fe3"
    "\U00016ff0-\U00016ff6\U0001aff0-\U0001aff3\U0001aff5-\U0001affb\U0001affd-\U0001affe"
    "\U0001b000-\U0001b128\U0001b132\U0001b150-\U0001b152\U0001b155\U0001b164-\U0001b168"
    "\U0001f200\U00020000-\U0002a6df\U0002a700-\U0002b81e\U0002b820-\U0002cead"
    "\U0002ceb0-\U0002ebe0\U0002ebf0-\U0002ee5d\U0002f800-\U0002fa1d\U00030000-\U0003134a"
    "\U00031350-\U00033479"
)

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
