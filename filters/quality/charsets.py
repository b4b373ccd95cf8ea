"""Stop words, punctuation sets and line rules the quality rules measure with (copied from
datatrove.utils.text, datatrove's C4 filter and spaCy's sentencizer; tests compare them)."""

from __future__ import annotations

import re

import regex

# English: datatrove's GopherQualityFilter list. Others: frequent function words (articles,
# prepositions, conjunctions, auxiliaries) that any running text contains. Matched
# case-sensitively, as datatrove does.
STOP_WORDS: dict[str, frozenset[str]] = {
    "eng": frozenset(["the", "be", "to", "of", "and", "that", "have", "with"]),
    "deu": frozenset("der die das und ist nicht mit den von zu sich auf ein eine dem des im".split()),
    "fra": frozenset("le la les de des et est un une du en que qui dans pour pas sur au".split()),
    "spa": frozenset("el la los las de del y que en un una es por con para se no".split()),
    "ita": frozenset("il la le di che e un una per non con del della sono si".split()),
    "por": frozenset("o a os as de do da que e um uma em para com não se no na".split()),
    "nld": frozenset("de het een en van is dat niet op te in met zijn voor".split()),
    "rus": frozenset("и в не на что с по это как из к но он она для".split()),
}

# Languages written without terminal punctuation (sentences are separated by spaces).
_NO_TERMINAL_PUNCT_LANGS = frozenset({"tha", "lao"})
_THAI_LAO_RE = regex.compile(r"[\p{Thai}\p{Lao}]")

# datatrove PUNCTUATION (+ TERMINAL_PUNCTUATION below = PUNCTUATION_SET): "symbol words".
_DT_PUNCTUATION = (
    "!/\u2014\u201d:\uff05\uff11\u3008&(\u3001\u2501\\\u3010#%\u300c\u300d\uff0c\u3011\uff1b+^]~"
    "\u201c\u300a\u201e';\u2019{|\u2236\xb4[=-`*\uff0e\uff08\u2013\uff1f\uff01\uff1a$\uff5e\xab"
    "\u3009,><\u300b)?\uff09\u3002\u2026@_.\"}\u25ba\xbb"
    + "".join(map(chr, (x for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for x in range(a, b))))
)
# datatrove TERMINAL_PUNCTUATION (FineWeb's stop_chars).
TERMINAL_PUNCTUATION = frozenset(
    "!.?\u0589\u061d\u061e\u061f\u06d4\u0700\u0701\u0702\u07f9\u0837\u0839\u083d\u083e\u0964"
    "\u0965\u104a\u104b\u1362\u1367\u1368\u166e\u1735\u1736\u17d4\u17d5\u17d6\u17d9\u17da\u1803"
    "\u1809\u1944\u1945\u1aa8\u1aa9\u1aaa\u1aab\u1b5a\u1b5b\u1b5e\u1b5f\u1b7d\u1b7e\u1c3b\u1c3c"
    "\u1c7e\u1c7f\u203c\u203d\u2047\u2048\u2049\u2e2e\u2e3c\u2e53\u2e54\u3002\ua4ff\ua60e\ua60f"
    "\ua6f3\ua6f7\ua876\ua877\ua8ce\ua8cf\ua92f\ua9c8\ua9c9\uaa5d\uaa5e\uaa5f\uaaf0\uaaf1\uabeb"
    "\ufe52\ufe56\ufe57\uff01\uff0e\uff1f\uff61\U00010a56\U00010a57\U00010f55\U00010f56"
    "\U00010f57\U00010f58\U00010f59\U00010f86\U00010f87\U00010f88\U00010f89\U00011047\U00011048"
    "\U000110be\U000110bf\U000110c0\U000110c1\U00011141\U00011142\U00011143\U000111c5\U000111c6"
    "\U000111cd\U000111de\U000111df\U00011238\U00011239\U0001123b\U0001123c\U000112a9\U0001144b"
    "\U0001144c\U000115c2\U000115c3\U000115c9\U000115ca\U000115cb\U000115cc\U000115cd\U000115ce"
    "\U000115cf\U000115d0\U000115d1\U000115d2\U000115d3\U000115d4\U000115d5\U000115d6\U000115d7"
    "\U00011641\U00011642\U0001173c\U0001173d\U0001173e\U00011944\U00011946\U00011a42\U00011a43"
    "\U00011a9b\U00011a9c\U00011c41\U00011c42\U00011ef7\U00011ef8\U00011f43\U00011f44\U00016a6e"
    "\U00016a6f\U00016af5\U00016b37\U00016b38\U00016b44\U00016e98\U0001bc9f\U0001da88"
)
PUNCTUATION_SET = frozenset(_DT_PUNCTUATION) | TERMINAL_PUNCTUATION
# spaCy's Sentencizer.default_punct_chars = TERMINAL_PUNCTUATION minus these.
_SENT_PUNCT = TERMINAL_PUNCTUATION - frozenset(
    "\u061d\u061e\u0837\u0839\u083d\u083e\u17d4\u17d5\u17d6\u17d9\u17da\u1b7d\u1b7e\u2e53\u2e54"
    "\U00010f55\U00010f56\U00010f57\U00010f58\U00010f59\U00010f86\U00010f87\U00010f88\U00010f89"
    "\U00011944\U00011946\U00011ef7\U00011ef8\U00011f43\U00011f44\U00016e98"
)
_FW_STOP_CHARS = tuple(TERMINAL_PUNCTUATION)

# C4 (datatrove c4_filters.py)
_C4_END_PUNCT = (".", "?", "!", '"', "'")
# Other languages: any terminal punctuation, and closing quotes after it.
_C4_END_PUNCT_INTL = tuple(set(_C4_END_PUNCT) | TERMINAL_PUNCTUATION
                           | set("\u201d\u2019\u00bb\u300d\u300f\uff09)\u0f0d\u0f0e"))
_C4_CITATION_RE = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_C4_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
              "use of cookies", "use cookies")

# Gopher repetition
_PARA_RE = re.compile(r"\n{2,}")
_LINE_RE = re.compile(r"\n+")
