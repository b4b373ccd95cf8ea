"""Normalised-text keys for exact deduplication."""

from __future__ import annotations

import hashlib
import unicodedata

import regex

_WS_RE = regex.compile(r"\s+")
_PUNCT_RE = regex.compile(r"[\p{P}\p{S}]+")
_DIGIT_RE = regex.compile(r"\p{Nd}+")


def normalize_text(text: str, strip_punctuation: bool = False, strip_digits: bool = False) -> str:
    """NFKC, case-folded, whitespace collapsed: copies that differ only in layout match.

    Stripping punctuation also catches copies re-typeset with other quotes or dashes;
    stripping digits catches page templates that differ only in dates, counters, prices.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    if strip_punctuation:
        text = _PUNCT_RE.sub(" ", text)
    if strip_digits:
        text = _DIGIT_RE.sub("", text)
    return _WS_RE.sub(" ", text).strip()


def exact_key(text: str, strip_punctuation: bool = False, strip_digits: bool = False) -> str:
    norm = normalize_text(text, strip_punctuation, strip_digits)
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=16).hexdigest()
