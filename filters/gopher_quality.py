"""Gopher quality rules (Rae et al. 2021) as signals plus thresholds.

`signals(text)` measures everything in one pass over words and lines; `decide(signals,
cfg)` returns None (keep) or the first failing rule's reason, named as datatrove names
them. Measuring and deciding are separate so every signal is kept for inspection and
thresholds can change without recomputing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from filters.words import CHARS_PER_WORD_UNSPACED, is_unspaced, split_words

# datatrove's PUNCTUATION_SET is what makes a "symbol word"; the common subset suffices here
# because words are already split at punctuation.
_PUNCT = set("!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»")
STOP_WORDS = {"eng": frozenset(["the", "be", "to", "of", "and", "that", "have", "with"])}


@dataclass
class GopherThresholds:
    min_doc_words: int = 50
    max_doc_words: int = 100_000
    min_avg_word_length: float = 3.0
    max_avg_word_length: float = 10.0
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    max_non_alpha_words_ratio: float = 0.8
    min_stop_words: int = 2
    max_duplicate_line_fraction: float = 0.3


def signals(text: str, lang: str = "") -> dict[str, float]:
    words = split_words(text)
    lines = [ln for ln in text.splitlines()]
    unspaced = is_unspaced(text)
    content = [w for w in words if any(ch not in _PUNCT for ch in w)]
    # Unspaced text yields one token per character: scale to a word-count equivalent.
    n_words = len(content) / CHARS_PER_WORD_UNSPACED if unspaced else float(len(content))
    n_all = max(len(words), 1)
    n_lines = max(len(lines), 1)
    nonempty = [ln.strip() for ln in lines if ln.strip()]
    line_counts = Counter(nonempty)
    dup_lines = sum(c for c in line_counts.values() if c > 1) - sum(1 for c in line_counts.values() if c > 1)
    lang3 = lang.split("_", 1)[0]
    stop = STOP_WORDS.get(lang3)
    return {
        "n_words": n_words,
        "unspaced": 1.0 if unspaced else 0.0,
        "avg_word_length": (sum(len(w) for w in content) / len(content)) if content else 0.0,
        "hash_ratio": text.count("#") / n_all,
        "ellipsis_ratio": (text.count("...") + text.count("…")) / n_all,
        "bullet_lines_ratio": sum(ln.lstrip().startswith(("•", "-")) for ln in lines) / n_lines,
        "end_ellipsis_lines_ratio": sum(ln.rstrip().endswith(("...", "…")) for ln in lines) / n_lines,
        "alpha_words_ratio": sum(any(c.isalpha() for c in w) for w in words) / n_all,
        "stop_words": float(len(stop.intersection(words))) if stop is not None else -1.0,
        "dup_line_frac": dup_lines / max(len(nonempty), 1),
    }


def decide(s: dict[str, float], t: GopherThresholds) -> str | None:
    if s["n_words"] < t.min_doc_words:
        return "gopher_short_doc"
    if s["n_words"] > t.max_doc_words:
        return "gopher_long_doc"
    # Character-per-word rules mean nothing where words are not space-delimited.
    if not s["unspaced"]:
        if s["avg_word_length"] < t.min_avg_word_length:
            return "gopher_below_avg_threshold"
        if s["avg_word_length"] > t.max_avg_word_length:
            return "gopher_above_avg_threshold"
    if s["hash_ratio"] > t.max_symbol_word_ratio:
        return "gopher_too_many_hashes"
    if s["ellipsis_ratio"] > t.max_symbol_word_ratio:
        return "gopher_too_many_ellipsis"
    if s["bullet_lines_ratio"] > t.max_bullet_lines_ratio:
        return "gopher_too_many_bullets"
    if s["end_ellipsis_lines_ratio"] > t.max_ellipsis_lines_ratio:
        return "gopher_too_many_end_ellipsis"
    if s["alpha_words_ratio"] < t.max_non_alpha_words_ratio:
        return "gopher_below_alpha_threshold"
    # Stop words are known per language; -1 means no list for this language.
    if s["stop_words"] >= 0 and s["stop_words"] < t.min_stop_words:
        return "gopher_enough_stop_words"
    if s["dup_line_frac"] > t.max_duplicate_line_fraction:
        return "gopher_rep_dup_line_frac"
    return None
