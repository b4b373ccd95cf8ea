"""Word splitting that works for scripts without spaces.

Space-delimited text is split into runs of letters and digits with punctuation as separate
tokens (as datatrove's word tokenizers do for English). Han, Kana, Thai and the other
unspaced scripts have no spaces to split on: each character (with its combining marks) is
one token, and callers ask `is_unspaced` so that such text is judged by character-based
measures, never by a mean word length that would fail every Chinese page.
"""

from __future__ import annotations

import regex

from filters.scripts import UNSPACED_CLASS as _UNSPACED
from filters.scripts import script_counts, unspaced_fraction

_TOKEN_RE = regex.compile(
    rf"[{_UNSPACED}]\p{{M}}*"                                   # one unspaced character
    rf"|[[\p{{L}}\p{{N}}]--[{_UNSPACED}]][[\p{{L}}\p{{N}}\p{{M}}]--[{_UNSPACED}]]*"
    rf"(?:['’][\p{{L}}\p{{N}}\p{{M}}]+)*"                        # a spaced word, with it's/l'eau
    r"|[^\s\p{L}\p{N}\p{M}]",                                   # punctuation, one per token
    regex.V1,
)
# Average characters per word in Chinese/Japanese/Thai running text; converts a character
# count into a word-count equivalent so one `min_doc_words` threshold serves all scripts.
CHARS_PER_WORD_UNSPACED = 1.5


def split_words(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def is_unspaced(text: str, threshold: float = 0.5) -> bool:
    return unspaced_fraction(script_counts(text)) >= threshold
