"""Four groups of heuristic quality rules, measured in one pass and decided separately.

Groups (each mirrors one datatrove filter at its defaults):

    gopher_quality     GopherQualityFilter      (Rae et al. 2021, table A1, quality part)
    gopher_repetition  GopherRepetitionFilter   (same table, repetition part)
    c4                 C4QualityFilter          (Raffel et al. 2020; datatrove's line rules)
    fineweb            FineWebQualityFilter     (Penedo et al. 2024)

`signals(text, lang)` measures every signal of every group (signals.py, with the word
tokenizer in tokenizer.py and the n-gram signals in ngrams.py); `decide(signals, thresholds,
lang)` returns None (keep) or the first failing rule as `<group>:<rule>` (decide.py; all
names in reasons.py); `measure(text, lang)` does both and stops measuring at the first
group that rejects, as datatrove's chain does. Measuring and deciding are separate so that signals can be stored and
thresholds changed without measuring again. docs/stages/quality.md describes the rules.
"""

from __future__ import annotations

from filters.quality.charsets import PUNCTUATION_SET, STOP_WORDS, TERMINAL_PUNCTUATION
from filters.quality.decide import decide
from filters.quality.reasons import DATATROVE_REASONS, DUP_NGRAMS, GROUPS, REASONS, TOP_NGRAMS
from filters.quality.signals import c4_filter_text, measure, signals
from filters.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds
from filters.quality.tokenizer import words

__all__ = ["DATATROVE_REASONS", "DEFAULT_THRESHOLDS", "DUP_NGRAMS", "GROUPS", "PUNCTUATION_SET", "REASONS",
           "STOP_WORDS", "TERMINAL_PUNCTUATION", "TOP_NGRAMS", "Thresholds", "c4_filter_text", "decide",
           "evaluate", "measure", "signals", "words"]


def evaluate(text: str, lang: str = "eng_Latn", thresholds: Thresholds | None = None
             ) -> tuple[str | None, dict[str, float]]:
    """`decide(signals(text))` and the signals."""
    s = signals(text, lang, thresholds)
    return decide(s, thresholds, lang), s
