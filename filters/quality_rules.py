"""Four groups of heuristic quality rules, measured in one pass and decided separately.

Groups (each mirrors one datatrove filter at its defaults):

    gopher_quality     GopherQualityFilter      (Rae et al. 2021, table A1, quality part)
    gopher_repetition  GopherRepetitionFilter   (same table, repetition part)
    c4                 C4QualityFilter          (Raffel et al. 2020; datatrove's line rules)
    fineweb            FineWebQualityFilter     (Penedo et al. 2024)

`signals(text, lang)` splits the text into words once (a port of the spaCy English tokenizer
datatrove uses, memoised per whitespace chunk; unspaced scripts one token per character),
into lines once and into paragraphs once, and returns every signal of every group, keyed
`<group>.<name>` (plus `chars`, `tokens` and `unspaced`, which several groups share).
`decide(signals, thresholds, lang)` returns None (keep) or the first failing rule as
`<group>:<rule>` (all names in `REASONS`). Measuring and deciding are separate so that the
signals can be stored and thresholds changed without measuring again; the few parameters
that change what is *measured* (C4's per-line rules, FineWeb's short-line length) are read by
`signals` from the same `Thresholds`. A NaN signal means "does not apply" (no words, no
stop-word list, no terminal punctuation in the script...) and passes its rule.

Semantics mirrored from datatrove 0.10.1 on purpose, odd or not:
  * Gopher quality divides hash/ellipsis counts and alpha words by *all* tokens,
    punctuation included, but compares the word-count and mean-length rules on non-symbol
    tokens only; stop words match case-sensitively; a threshold of 0/None disables a rule.
  * Gopher repetition splits paragraphs on "\\n{2,}" of the stripped text but lines on
    "\\n+" of the raw text (so a leading and a trailing newline give two empty "lines" that
    count as one duplicate); character fractions divide by len(text); top n-grams are
    measured as " ".join(n-gram) times its count (ties: first seen); duplicated n-grams are
    counted greedily, skipping n words after each duplicate.
  * C4 works line by line and *rewrites* the text (see `c4_filter_text`): a line is dropped
    for a word over 1000 chars, no terminal punctuation (. ? ! " ') or a trailing "...",
    fewer than 3 words (counted before citation removal), "javascript", or a policy phrase;
    the page is dropped for "lorem ipsum" or "{" in a line that survived the earlier line
    rules (in that order), or fewer than 5 sentences in the kept lines. Sentences are
    counted like spaCy's sentencizer: a new sentence starts at the first non-punctuation
    token after a sentence-final punctuation token, so "Dr." or "U.S." never end one.
    In a datatrove pipeline the filters after C4 see the rewritten text, so FineWeb is
    measured twice: on the text (`fineweb.*`, FineWebQualityFilter on its own) and on the
    lines C4 keeps (`fineweb.after_c4.*`, used by `decide` when C4 is enabled).
  * FineWeb tests raw lines (not stripped) for terminal punctuation, counts lines of
    <= 30 characters as short, divides duplicated-line characters by the text length
    without newlines, and newlines by the token count.
  * C4's terminal punctuation, JavaScript and policy rules drop lines, not pages: their
    effect on the page is `c4:too_few_sentences`; the `c4.*_lines` signals count them.
Known, deliberate deviations: duplicated n-grams are identified by their tokens, where
datatrove keys them by "".join(tokens) (which also equates "ab c" with "a bc"); spaCy's
second special-case pass ("Mr" "." -> "Mr." inside "Mr.Smith") is applied within each
whitespace chunk, which is where it can apply.

Multilingual: tokens of Han, Hiragana/Katakana, Thai, Lao, Khmer, Myanmar and Tibetan are
single characters and count as 1/1.5 word (filters/words.py's convention). On text that is
mostly unspaced, mean word length is not judged, Gopher's n-grams span 1.5x as many
characters (3, 5, 6 for 2-4 words; 8-15 for 5-10) joined without spaces, C4 counts words per
line in word equivalents, FineWeb's short line is <= 10 characters (an override), and
sentence-final 。！？ count like . ! ?. Other languages than English also accept any
terminal punctuation and closing quotes at the end of a C4 line. Thai and Lao, which mark
sentences with spaces and have no terminal punctuation, count space-separated segments as
sentences and skip both punctuation rules. Stop words are known for eng (datatrove's list),
deu, fra, spa, ita, por, nld and rus; for other languages the stop-word rule is skipped.
The caches are per process (no locking): use one per thread or process, as Spark does.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate, chain

import numpy as np
import regex

from filters.words import CHARS_PER_WORD_UNSPACED, is_unspaced, split_words

# ----------------------------------------------------------------------------------------
# Reasons
# ----------------------------------------------------------------------------------------

GROUPS = ("gopher_quality", "gopher_repetition", "c4", "fineweb")
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)

REASONS = (
    "gopher_quality:short_doc",
    "gopher_quality:long_doc",
    "gopher_quality:mean_word_length",
    "gopher_quality:hash_ratio",
    "gopher_quality:ellipsis_ratio",
    "gopher_quality:bullet_lines_ratio",
    "gopher_quality:end_ellipsis_lines_ratio",
    "gopher_quality:alpha_words_ratio",
    "gopher_quality:stop_words",
    "gopher_repetition:empty",
    "gopher_repetition:dup_para_frac",
    "gopher_repetition:dup_para_char_frac",
    "gopher_repetition:dup_line_frac",
    "gopher_repetition:dup_line_char_frac",
    *(f"gopher_repetition:top_{n}gram" for n in TOP_NGRAMS),
    *(f"gopher_repetition:dup_{n}gram" for n in DUP_NGRAMS),
    "c4:lorem_ipsum",
    "c4:curly_bracket",
    "c4:too_few_sentences",
    "fineweb:empty",
    "fineweb:line_punct_ratio",
    "fineweb:short_line_ratio",
    "fineweb:char_dup_ratio",
    "fineweb:list_ratio",
)

# Our reason -> the reason string datatrove's filter returns (for comparisons and reports).
DATATROVE_REASONS = {
    "gopher_quality:short_doc": "gopher_short_doc",
    "gopher_quality:long_doc": "gopher_long_doc",
    "gopher_quality:mean_word_length": "gopher_below_avg_threshold|gopher_above_avg_threshold",
    "gopher_quality:hash_ratio": "gopher_too_many_hashes",
    "gopher_quality:ellipsis_ratio": "gopher_too_many_ellipsis",
    "gopher_quality:bullet_lines_ratio": "gopher_too_many_bullets",
    "gopher_quality:end_ellipsis_lines_ratio": "gopher_too_many_end_ellipsis",
    "gopher_quality:alpha_words_ratio": "gopher_below_alpha_threshold",
    "gopher_quality:stop_words": "gopher_enough_stop_words",
    "gopher_repetition:empty": "empty",
    "gopher_repetition:dup_para_frac": "dup_para_frac",
    "gopher_repetition:dup_para_char_frac": "dup_para_char_frac",
    "gopher_repetition:dup_line_frac": "dup_line_frac",
    "gopher_repetition:dup_line_char_frac": "dup_line_char_frac",
    **{f"gopher_repetition:top_{n}gram": f"top_{n}_gram" for n in TOP_NGRAMS},
    **{f"gopher_repetition:dup_{n}gram": f"duplicated_{n}_n_grams" for n in DUP_NGRAMS},
    "c4:lorem_ipsum": "lorem_ipsum",
    "c4:curly_bracket": "curly_bracket",
    "c4:too_few_sentences": "too_few_sentences",
    "fineweb:empty": "empty",
    "fineweb:line_punct_ratio": "line_punct_ratio",
    "fineweb:short_line_ratio": "short_line_ratio",
    "fineweb:char_dup_ratio": "char_dup_ratio",
    "fineweb:list_ratio": "list_ratio",
}

# ----------------------------------------------------------------------------------------
# Thresholds
# ----------------------------------------------------------------------------------------


def _default_overrides() -> dict[str, dict[str, float]]:
    # "unspaced" applies to any text that is mostly in an unspaced script, whatever its label.
    # 30 characters of English are about 5 words; 5 Chinese words are about 8-10 characters.
    return {"unspaced": {"fw_short_line_length": 10}}


@dataclass
class Thresholds:
    """Datatrove's defaults for every rule; `overrides[lang]` replaces fields per language.

    `overrides` keys: "unspaced" (text mostly in an unspaced script), an ISO 639-3 code
    ("deu") or a full label ("deu_Latn"), applied in that order. Values are field names.
    A Gopher threshold of 0 or None disables its rule (as in datatrove).
    """

    enable_gopher_quality: bool = True
    enable_gopher_repetition: bool = True
    enable_c4: bool = True
    enable_fineweb: bool = True

    # GopherQualityFilter
    gq_min_doc_words: float | None = 50
    gq_max_doc_words: float | None = 100_000
    gq_min_avg_word_length: float | None = 3
    gq_max_avg_word_length: float | None = 10
    gq_max_symbol_word_ratio: float | None = 0.1
    gq_max_bullet_lines_ratio: float | None = 0.9
    gq_max_ellipsis_lines_ratio: float | None = 0.3
    gq_max_non_alpha_words_ratio: float | None = 0.8   # datatrove's name; it is a minimum
    gq_min_stop_words: float | None = 2

    # GopherRepetitionFilter
    gr_dup_line_frac: float | None = 0.3
    gr_dup_para_frac: float | None = 0.3
    gr_dup_line_char_frac: float | None = 0.2
    gr_dup_para_char_frac: float | None = 0.2
    gr_top_2gram: float = 0.20
    gr_top_3gram: float = 0.18
    gr_top_4gram: float = 0.16
    gr_dup_5gram: float = 0.15
    gr_dup_6gram: float = 0.14
    gr_dup_7gram: float = 0.13
    gr_dup_8gram: float = 0.12
    gr_dup_9gram: float = 0.11
    gr_dup_10gram: float = 0.10

    # C4QualityFilter (split_paragraph=True). The first six act per line while measuring, so
    # changing them needs `signals(..., thresholds=...)` again; the rest act when deciding.
    c4_remove_citations: bool = True
    c4_filter_no_terminal_punct: bool = True
    c4_min_words_per_line: int = 3           # -1 disables
    c4_max_word_length: int = 1000           # -1 disables
    c4_filter_javascript: bool = True
    c4_filter_policy: bool = True
    c4_filter_lorem_ipsum: bool = True
    c4_filter_curly_bracket: bool = True
    c4_min_num_sentences: int = 5            # -1 disables
    # As in a datatrove pipeline, C4 passes on its rewritten text: with C4 enabled, FineWeb
    # (the group after it) judges the kept lines (`fineweb.after_c4.*` signals).
    c4_rewrites_text: bool = True

    # FineWebQualityFilter. fw_short_line_length is read while measuring.
    fw_line_punct_thr: float = 0.12
    fw_line_punct_exclude_zero: bool = False
    fw_short_line_thr: float = 0.67
    fw_short_line_length: int = 30
    fw_char_duplicates_ratio: float = 0.01
    fw_new_line_ratio: float = 0.3

    overrides: dict[str, dict[str, float]] = field(default_factory=_default_overrides)

    def resolve(self, lang: str = "eng_Latn", unspaced: bool = False) -> "Thresholds":
        """These thresholds with the overrides that apply to `lang` (self when none do)."""
        keys = (["unspaced"] if unspaced else []) + [_iso3(lang), lang]
        changes: dict[str, float] = {}
        for key in keys:
            changes.update(self.overrides.get(key, {}))
        if not changes:
            return self
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown threshold fields in overrides: {sorted(unknown)}")
        return dataclasses.replace(self, **changes)


DEFAULT_THRESHOLDS = Thresholds()

# ----------------------------------------------------------------------------------------
# Languages and stop words
# ----------------------------------------------------------------------------------------

_ISO1_TO_3 = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pt": "por",
              "nl": "nld", "ru": "rus", "zh": "zho", "ja": "jpn", "th": "tha", "lo": "lao",
              "km": "khm", "my": "mya", "bo": "bod", "ko": "kor"}


def _iso3(lang: str) -> str:
    base = (lang or "").split("_", 1)[0].split("-", 1)[0].lower()
    return _ISO1_TO_3.get(base, base)


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

# ----------------------------------------------------------------------------------------
# Character sets copied from datatrove.utils.text and spaCy's Sentencizer
# ----------------------------------------------------------------------------------------

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

# ----------------------------------------------------------------------------------------
# Word tokenizer: spaCy's English rules (prefixes, suffixes, infixes, special cases, URLs)
# ported to `regex`, applied per whitespace chunk and memoised like spaCy's own cache.
# ----------------------------------------------------------------------------------------

_PUNCT_LIST = ["\u2026", "\u2026\u2026", ",", ":", ";", r"\!", r"\?", "\xbf", "\u061f", "\xa1",
               r"\(", r"\)", r"\[", r"\]", r"\{", r"\}", "<", ">", "_", "#", r"\*", "&",
               "\u3002", "\uff1f", "\uff01", "\uff0c", "\u3001", "\uff1b", "\uff1a", "\uff5e",
               "\xb7", "\u0964", "\u060c", "\u06d4", "\u061b", "\u066a"]
_QUOTE_LIST = ["\\'", '"', "\u201d", "\u201c", "`", "\u2018", "\xb4", "\u2019", "\u201a", ",",
               "\u201e", "\xbb", "\xab", "\u300c", "\u300d", "\u300e", "\u300f", "\uff08",
               "\uff09", "\u3014", "\u3015", "\u3010", "\u3011", "\u300a", "\u300b", "\u3008",
               "\u3009", "\u2329", "\u232a", "\u27e6", "\u27e7"]
_CURRENCY_LIST = [r"\$", "\xa3", "\u20ac", "\xa5", "\u0e3f", r"US\$", r"C\$", r"A\$", "\u20bd",
                  "\ufdfc"] + [chr(c) for c in range(0x20a0, 0x20c0)]
_UNITS = ("km|km²|km³|m|m²|m³|dm|dm²|dm³|cm|cm²|cm³|mm|mm²|mm³|ha|µm|nm|yd|in|ft|kg|g|mg|µg|t|lb|"
          "oz|m/s|km/h|kmh|mph|hPa|Pa|mbar|mb|MB|kb|KB|gb|GB|tb|TB|T|G|M|K|%|км|км²|км³|м|м²|м³|"
          "дм|дм²|дм³|см|см²|см³|мм|мм²|мм³|нм|кг|г|мг|м/с|км/ч|кПа|Па|мбар|Кб|КБ|кб|Мб|МБ|мб|"
          "Гб|ГБ|гб|Тб|ТБ|тб")
_ICON = r"\p{So}"
_QUOTES_CLS = "".join(q.replace("\\", "") for q in _QUOTE_LIST).replace("'", "\\'")
_PUNCT_CLS_CHARS = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪|"
_HYPHENS = "-|–|—|--|---|——|~"

_PREFIX_RE = regex.compile(
    "^(?:" + "|".join(["§", "%", "=", "—", "–", r"\+(?![0-9])"] + _PUNCT_LIST + [r"\.\.+", "…"]
                      + _QUOTE_LIST + _CURRENCY_LIST + [f"[{_ICON}]"]) + ")")
_SUFFIX_RE = regex.compile(
    "(?:" + "|".join(
        _PUNCT_LIST + [r"\.\.+", "…"] + _QUOTE_LIST + [f"[{_ICON}]"]
        + ["'s", "'S", "’s", "’S", "—", "–", r"(?<=[0-9])\+", r"(?<=°[FfCcKk])\.",
           r"(?<=[0-9])(?:" + "|".join(_CURRENCY_LIST) + ")",
           r"(?<=[0-9])(?:" + _UNITS + ")",
           # spaCy's class here also holds the characters of "(?:" and ")" (a quirk kept).
           r"(?<=[0-9\p{Ll}%²\-\+" + regex.escape(_PUNCT_CLS_CHARS) + r"(?:"
           + regex.escape(_QUOTES_CLS.replace("\\", "")) + r")])\.",
           r"(?<=\p{Lu}\p{Lu})\."]) + ")$")
_INFIX_RE = regex.compile("|".join([
    r"\.\.+", "…", f"[{_ICON}]",
    r"(?<=[0-9])[+\-\*^](?=[0-9-])",
    r"(?<=[\p{Ll}" + regex.escape(_QUOTES_CLS.replace("\\", "")) + r"])\.(?=[\p{Lu}"
    + regex.escape(_QUOTES_CLS.replace("\\", "")) + "])",
    r"(?<=\p{L}),(?=\p{L})",
    r"(?<=[\p{L}0-9])(?:" + _HYPHENS + r")(?=\p{L})",
    r"(?<=[\p{L}0-9])[:<>=/](?=\p{L})",
]))
# spaCy's URL_MATCH (lang/tokenizer_exceptions.py), TLD in lower-case letters.
_URL_RE = regex.compile(
    r"^(?:(?:[\w\+\-\.]{2,})://)?(?:\S+(?::\S*)?@)?(?:(?!(?:10|127)(?:\.\d{1,3}){3})"
    r"(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})"
    r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
    r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))|(?:(?:[A-Za-z0-9\u00a1-\uffff]"
    r"[A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\.)+(?:\p{Ll}{2,63}))"
    r"(?::\d{2,5})?(?:[/?#]\S*)?$")

_EMOTICONS = r"""
:) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (;
(-; :( :-( :(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :/ :-/ =/ =| :| :-| ]= =[ :1 :P
:-P :p :-p :O :-O :o :-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D :-D ;D ;-D =D
xD XD xDD XDD 8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V v_v V_V o_o o_O O_o
O_O 0_o o_0 0_0 o.O O.o O.O o.o 0.0 o.0 0.o @_@ <3 <33 <333 </3 (^_^) (-_-) (._.) (>_<) (*_*)
(¬_¬) ಠ_ಠ ಠ︵ಠ (ಠ_ಠ) ¯\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>
""".split()
_SINGLE_EXCEPTIONS = r"""
' \") <space> '' C++ a. b. c. d. e. f. g. h. i. j. k. l. m. n. o. p. q. r. s. t. u. v. w. x. y. z.
ä. ö. ü. — 'S 's ‘S ‘s and/or w/o 're 'Cause 'cause 'cos 'Cos 'coz 'Coz 'cuz 'Cuz 'bout ma'am
Ma'am o'clock O'clock lovin' Lovin' lovin Lovin havin' Havin' havin Havin doin' Doin' doin Doin
goin' Goin' goin Goin Mt. Ak. Ala. Apr. Ariz. Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla.
Ga. Ia. Id. Ill. Ind. Jan. Jul. Jun. Kan. Kans. Ky. La. Mar. Mass. Mich. Minn. Miss. N.C. N.D.
N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct. Okla. Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash.
Wis. 'd a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov. i.e. I.e. I.E. Inc.
Jr. Ltd. Md. Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s.
nothin nothin' Nothin Nothin' nuthin nuthin' Nuthin Nuthin' ol ol' Ol Ol' somethin somethin'
Somethin Somethin' em 'em ll 'll nuff 'nuff \t \n
""".split()


def _build_specials() -> dict[str, tuple[str, ...]]:
    """spaCy's English tokenizer exceptions, generated the way spacy/lang/en does."""
    exc: dict[str, tuple[str, ...]] = {}

    def both(word):
        return (word, word.title())

    for orth in both("i"):
        exc[orth + "'m"] = (orth, "'m")
        exc[orth + "m"] = (orth, "m")
        exc[orth + "'ma"] = (orth, "'m", "a")
        exc[orth + "ma"] = (orth, "m", "a")
    for pron in ("i", "you", "he", "she", "it", "we", "they"):
        for orth in both(pron):
            exc[orth + "'ll"] = (orth, "'ll")
            exc[orth + "ll"] = (orth, "ll")
            exc[orth + "'ll've"] = (orth, "'ll", "'ve")
            exc[orth + "llve"] = (orth, "ll", "ve")
            exc[orth + "'d"] = (orth, "'d")
            exc[orth + "d"] = (orth, "d")
            exc[orth + "'d've"] = (orth, "'d", "'ve")
            exc[orth + "dve"] = (orth, "d", "ve")
    for pron in ("i", "you", "we", "they"):
        for orth in both(pron):
            exc[orth + "'ve"] = (orth, "'ve")
            exc[orth + "ve"] = (orth, "ve")
    for pron in ("you", "we", "they"):
        for orth in both(pron):
            exc[orth + "'re"] = (orth, "'re")
            exc[orth + "re"] = (orth, "re")
    for pron in ("he", "she", "it"):
        for orth in both(pron):
            exc[orth + "'s"] = (orth, "'s")
            exc[orth + "s"] = (orth, "s")
    for word, number in (("who", None), ("what", None), ("when", None), ("where", None),
                         ("why", None), ("how", None), ("there", None), ("that", "sing"),
                         ("this", "sing"), ("these", "plur"), ("those", "plur")):
        for orth in both(word):
            if number != "plur":
                exc[orth + "'s"] = (orth, "'s")
                exc[orth + "s"] = (orth, "s")
            exc[orth + "'ll"] = (orth, "'ll")
            exc[orth + "ll"] = (orth, "ll")
            exc[orth + "'ll've"] = (orth, "'ll", "'ve")
            exc[orth + "llve"] = (orth, "ll", "ve")
            if number != "sing":
                exc[orth + "'re"] = (orth, "'re")
                exc[orth + "re"] = (orth, "re")
                exc[orth + "'ve"] = (orth, "'ve")
                exc[orth + "ve"] = (orth, "ve")
            exc[orth + "'d"] = (orth, "'d")
            exc[orth + "d"] = (orth, "d")
            exc[orth + "'d've"] = (orth, "'d", "'ve")
            exc[orth + "dve"] = (orth, "d", "ve")
    for verb in ("ca", "could", "do", "does", "did", "had", "may", "might", "must", "need",
                 "ought", "sha", "should", "wo", "would"):
        for orth in both(verb):
            exc[orth + "n't"] = (orth, "n't")
            exc[orth + "nt"] = (orth, "nt")
            exc[orth + "n't've"] = (orth, "n't", "'ve")
            exc[orth + "ntve"] = (orth, "nt", "ve")
    for verb in ("could", "might", "must", "should", "would"):
        for orth in both(verb):
            exc[orth + "'ve"] = (orth, "'ve")
            exc[orth + "ve"] = (orth, "ve")
    for verb in ("ai", "are", "is", "was", "were", "have", "has", "dare"):
        for orth in both(verb):
            exc[orth + "n't"] = (orth, "n't")
            exc[orth + "nt"] = (orth, "nt")
    for h in range(1, 13):
        for period in ("a.m.", "am", "p.m.", "pm"):
            exc[f"{h}{period}"] = (str(h), period)
    exc.update({
        "y'all": ("y'", "all"), "yall": ("y", "all"), "how'd'y": ("how", "'d", "'y"),
        "How'd'y": ("How", "'d", "'y"), "not've": ("not", "'ve"), "notve": ("not", "ve"),
        "Not've": ("Not", "'ve"), "Notve": ("Not", "ve"), "cannot": ("can", "not"),
        "Cannot": ("Can", "not"), "gonna": ("gon", "na"), "Gonna": ("Gon", "na"),
        "gotta": ("got", "ta"), "Gotta": ("Got", "ta"), "let's": ("let", "'s"),
        "Let's": ("Let", "'s"), "c'mon": ("c'm", "on"), "C'mon": ("C'm", "on"),
    })
    for orth in _SINGLE_EXCEPTIONS:
        exc[orth] = (orth,)
    for orth in ("Ill", "ill", "Its", "its", "Hell", "hell", "Shell", "shell", "Shed", "shed",
                 "were", "Were", "Well", "well", "Whore", "whore"):
        exc.pop(orth, None)
    for orth in _EMOTICONS:
        exc[orth] = (orth,)
    for u in "cfkCFK":
        exc[f"°{u}."] = ("°", u, ".")
    # spaCy's expand_exc: every exception with ' also exists with ’.
    for key, toks in list(exc.items()):
        if "'" in key:
            exc[key.replace("'", "’")] = tuple(t.replace("'", "’") for t in toks)
    return exc


_SPECIALS = _build_specials()
_UNSPACED_CLASS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
# The same characters as code point ranges for `re`, which scans whole texts much faster
# than `regex` with script properties (ranges listed from regex's Unicode tables).
_UNSPACED_CHAR_RE = re.compile(
    "["
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
    "]")
_HIGH_CHAR_RE = re.compile("[\u0e01-\U00033479]")
_UNSPACED_TOKEN_RE = regex.compile(rf"^[{_UNSPACED_CLASS}]\p{{M}}*$")


def _affixes(chunk: str, specials: dict) -> list[str]:
    """spaCy's Tokenizer._split_affixes + _attach_tokens for one whitespace-free chunk."""
    prefixes: list[str] = []
    suffixes: list[str] = []
    string = chunk
    last = -1
    while string and len(string) != last:
        if string in specials:
            break
        last = len(string)
        m = _PREFIX_RE.search(string)
        pre_len = m.end() if m else 0
        if pre_len:
            prefix, minus_pre = string[:pre_len], string[pre_len:]
            if minus_pre and minus_pre in specials:
                string = minus_pre
                prefixes.append(prefix)
                break
        m = _SUFFIX_RE.search(string[pre_len:])
        suf_len = (m.end() - m.start()) if m else 0
        if suf_len:
            suffix, minus_suf = string[-suf_len:], string[:-suf_len]
            if minus_suf and minus_suf in specials:
                string = minus_suf
                suffixes.append(suffix)
                break
        if pre_len and suf_len and pre_len + suf_len <= len(string):
            string = string[pre_len:-suf_len]
            prefixes.append(prefix)
            suffixes.append(suffix)
        elif pre_len:
            string = minus_pre
            prefixes.append(prefix)
        elif suf_len:
            string = minus_suf
            suffixes.append(suffix)
        if string and string in specials:
            break
    tokens = prefixes
    if string:
        if string in specials:
            tokens.extend(specials[string])
        elif _URL_RE.match(string):
            tokens.append(string)
        else:
            start = 0
            for m in _INFIX_RE.finditer(string):
                s, e = m.start(), m.end()
                if s == 0:
                    continue
                if s != start:
                    tokens.append(string[start:s])
                if s != e:
                    tokens.append(string[s:e])
                start = e
            if start < len(string):
                tokens.append(string[start:])
    tokens.extend(reversed(suffixes))
    return tokens


_SPECIAL_PATTERNS: dict[tuple[str, ...], str] = {}
_PATTERN_LENGTHS: list[int] = []


def _load_special_patterns() -> None:
    """spaCy's second pass: special cases that affix rules would split (say "Mr." inside
    "Mr.Smith", or "''" inside "''quoted''") are found again in the token sequence."""
    for key in _SPECIALS:
        if _PREFIX_RE.search(key) or _INFIX_RE.search(key) or _SUFFIX_RE.search(key):
            _SPECIAL_PATTERNS[tuple(_affixes(key, {}))] = key
    _PATTERN_LENGTHS.extend(sorted({len(p) for p in _SPECIAL_PATTERNS}, reverse=True))


def _split_chunk(chunk: str) -> list[str]:
    tokens = _affixes(chunk, _SPECIALS)
    if len(tokens) < 2:
        return tokens
    if not _SPECIAL_PATTERNS:
        _load_special_patterns()
    matches = []
    for i in range(len(tokens)):
        for n in _PATTERN_LENGTHS:
            if i + n <= len(tokens) and tuple(tokens[i:i + n]) in _SPECIAL_PATTERNS:
                matches.append((i, i + n))
    if not matches:
        return tokens
    # Longest first, then leftmost; a match is taken unless its first or last token is
    # already covered, and covers its tokens either way (spaCy's _filter_special_spans).
    matches.sort(key=lambda m: (m[0] - m[1], m[0]))
    seen: set[int] = set()
    taken = []
    for a, b in matches:
        if a not in seen and b - 1 not in seen:
            taken.append((a, b))
        seen.update(range(a, b))
    out: list[str] = []
    pos = 0
    for a, b in sorted(taken):
        out.extend(tokens[pos:a])
        text = "".join(tokens[a:b])
        out.extend(_SPECIALS.get(text, tokens[a:b]))
        pos = b
    out.extend(tokens[pos:])
    return out


# Per-chunk cache: chunk -> (token ids, n tokens, n non-symbol tokens, their total length,
# n tokens with a letter, sentence classes, n unspaced-script tokens). Token classes for the
# sentence counter: "2" sentence-final punctuation, "1" other punctuation, "0" anything else.
_VOCAB: dict[str, int] = {}
_TOK_LENS: list[int] = []
_CHUNKS: dict[str, tuple] = {}
_MAX_CHUNKS = 1 << 20
_MAX_VOCAB = 1 << 22
_STOP_IDS: dict[str, frozenset[int]] = {}
_ID_TO_TOKEN: list[str] = []


def _token_id(tok: str) -> int:
    i = _VOCAB.get(tok)
    if i is None:
        i = _VOCAB[tok] = len(_TOK_LENS)
        _TOK_LENS.append(len(tok))
    return i


def _reset_caches() -> None:
    _CHUNKS.clear()
    _VOCAB.clear()
    _TOK_LENS.clear()
    _STOP_IDS.clear()
    _ID_TO_TOKEN.clear()


def _trim_caches() -> None:
    """Bound memory between documents (never within one: token ids must stay valid)."""
    if len(_CHUNKS) >= _MAX_CHUNKS:
        if len(_VOCAB) >= _MAX_VOCAB:
            _reset_caches()
        else:
            _CHUNKS.clear()


def _stop_ids(iso: str) -> frozenset[int] | None:
    words = STOP_WORDS.get(iso)
    if words is None:
        return None
    ids = _STOP_IDS.get(iso)
    if ids is None:
        ids = _STOP_IDS[iso] = frozenset(_token_id(w) for w in words)
    return ids


def _is_punct(tok: str) -> bool:
    return all(unicodedata.category(c).startswith("P") for c in tok)


def _entry(chunk: str) -> tuple:
    toks = _split_chunk(chunk)
    if not chunk.isascii() and _UNSPACED_CHAR_RE.search(chunk):
        toks = [w for t in toks for w in (split_words(t) if _UNSPACED_CHAR_RE.search(t) else (t,))]
    n_nonsym = len_nonsym = n_alpha = n_uns = 0
    cls = []
    for t in toks:
        if not PUNCTUATION_SET.issuperset(t):
            n_nonsym += 1
            len_nonsym += len(t)
        if any(c.isalpha() for c in t):
            n_alpha += 1
        if _UNSPACED_TOKEN_RE.match(t):
            n_uns += 1
        cls.append("2" if t in _SENT_PUNCT else "1" if _is_punct(t) else "0")
    ent = (tuple(_token_id(t) for t in toks), len(toks), n_nonsym, len_nonsym, n_alpha,
           "".join(cls), n_uns)
    _CHUNKS[chunk] = ent
    return ent


def words(text: str) -> list[str]:
    """The tokens datatrove's English word tokenizer (spaCy, blank "en") would give
    (for checking and debugging; `signals` works on token ids)."""
    _trim_caches()
    get = _CHUNKS.get
    out: list[str] = []
    for chunk in text.split():
        ent = get(chunk) or _entry(chunk)
        out.extend(_id_to_token(i) for i in ent[0])
    return out


def _id_to_token(i: int) -> str:
    if len(_ID_TO_TOKEN) != len(_VOCAB):
        _ID_TO_TOKEN[:] = [""] * len(_VOCAB)
        for t, j in _VOCAB.items():
            _ID_TO_TOKEN[j] = t
    return _ID_TO_TOKEN[i]


_BOUNDARY_RE = re.compile("2[12]*0")


def _n_sentences(cls: str) -> int:
    """Sentences spaCy's sentencizer finds in a line with these token classes."""
    return 1 + len(_BOUNDARY_RE.findall(cls)) if cls else 1


# ----------------------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------------------


def _find_duplicates(items: list[str]) -> tuple[int, int]:
    seen: set[str] = set()
    n = chars = 0
    for x in items:
        if x in seen:
            n += 1
            chars += len(x)
        else:
            seen.add(x)
    return n, chars


_NUMPY_LEVEL_MIN = 160   # candidates from which a level is grouped with NumPy, not dicts


def _next_level(mp, mg, ids, arr, n: int, base: int):
    """n-grams from (n-1)-grams. `mp`: sorted positions whose (n-1)-gram occurs more than
    once, `mg`: their group ids. An n-gram can only repeat where the (n-1)-grams at p and at
    p+1 both repeat, so only those positions are grouped. Returns the positions whose
    n-gram repeats, their group ids, and (first position, count) of the most frequent
    n-gram that appears first, or None when nothing repeats."""
    if len(mp) >= _NUMPY_LEVEL_MIN:
        mp_a = mp if isinstance(mp, np.ndarray) else np.asarray(mp, dtype=np.int64)
        mg_a = mg if isinstance(mg, np.ndarray) else np.asarray(mg, dtype=np.int64)
        ok = mp_a[1:] == mp_a[:-1] + 1
        cand = mp_a[:-1][ok]
        if not len(cand):
            return None
        keys = mg_a[:-1][ok] * base + arr[cand + (n - 1)]
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        new = np.empty(len(sk), dtype=bool)
        new[0] = True
        np.not_equal(sk[1:], sk[:-1], out=new[1:])
        starts = new.nonzero()[0]
        if len(starts) == len(sk):
            return None
        counts = np.empty(len(starts), dtype=np.int64)
        counts[:-1] = starts[1:] - starts[:-1]
        counts[-1] = len(sk) - starts[-1]
        gid = np.empty(len(sk), dtype=np.int64)
        gid[order] = new.cumsum() - 1
        cnt = counts[gid]
        top_count = int(cnt.max())
        top_p = int(cand[int((cnt == top_count).argmax())])
        keep = cnt > 1
        return cand[keep], gid[keep], (top_p, top_count)
    # Few candidates: dicts. Keys need not be dense here (Python ints do not overflow, and
    # candidate sets only shrink, so no NumPy level follows a dict level).
    if isinstance(mp, np.ndarray):
        mp, mg = mp.tolist(), mg.tolist()
    m1 = n - 1
    cand, keys = [], []
    for p, g, q in zip(mp, mg, mp[1:]):
        if q == p + 1:
            cand.append(p)
            keys.append(g * base + ids[p + m1])
    if not cand:
        return None
    counts = Counter(keys)
    top_count = max(counts.values())
    if top_count == 1:
        return None
    keep = [i for i, k in enumerate(keys) if counts[k] > 1]
    first = next(i for i in keep if counts[keys[i]] == top_count)
    return [cand[i] for i in keep], [keys[i] for i in keep], (cand[first], top_count)


def _greedy_duplicates(pos: list[int], keys: list, cl: list[int], size: int) -> int:
    """datatrove's find_all_duplicate over the positions whose n-gram repeats: left to
    right, an n-gram seen at an earlier visited position counts its characters and the
    scan jumps n positions ahead (positions with a unique n-gram never count, so they are
    left out)."""
    seen: set = set()
    add = seen.add
    rep = nxt = 0
    for p, k in zip(pos, keys):
        if p < nxt:
            continue
        if k in seen:
            rep += cl[p + size] - cl[p]
            nxt = p + size
        else:
            add(k)
    return rep


def _ngram_signals(ids: list[int], text_len: int, top_ns, dup_ns, scale: float,
                   sep: int) -> dict[str, float]:
    """Top n-gram and duplicated n-gram character fractions (GopherRepetitionFilter).

    n-grams are grouped exactly, level by level, as (group of the (n-1)-gram at p, token at
    p+n-1), and only where they can repeat; once nothing repeats nothing longer does. The
    top n-gram is the most frequent one that appears first: Counter.most_common(1) over
    datatrove's " ".join strings picks the same one.
    """
    out: dict[str, float] = {}
    n_tok = len(ids)
    sizes = {n: max(2, math.ceil(n * scale)) for n in (*top_ns, *dup_ns)}
    if not n_tok or not text_len:
        for n in top_ns:
            out[f"gopher_repetition.top_{n}gram"] = 0.0
        for n in dup_ns:
            out[f"gopher_repetition.dup_{n}gram"] = 0.0
        return out
    cl = list(accumulate(map(_TOK_LENS.__getitem__, ids), initial=0))
    base = len(_TOK_LENS) + 1
    if n_tok >= _NUMPY_LEVEL_MIN:
        arr = np.asarray(ids, dtype=np.int64)
        mp, mg = np.arange(n_tok), arr
    else:
        arr, mp, mg = None, range(n_tok), ids
    levels: dict[int, tuple] = {}
    for size in range(2, min(max(sizes.values()), n_tok) + 1):
        res = _next_level(mp, mg, ids, arr, size, base)
        if res is None:
            break
        levels[size] = res
        mp, mg = res[0], res[1]

    for n in top_ns:
        size = sizes[n]
        name = f"gopher_repetition.top_{n}gram"
        if size > n_tok:
            out[name] = 0.0               # no n-grams: datatrove skips the rule
            continue
        lvl = levels.get(size)
        p, count = lvl[2] if lvl is not None else (0, 1)   # all distinct: the first, once
        out[name] = (cl[p + size] - cl[p] + sep * (size - 1)) * count / text_len
    for n in dup_ns:
        size = sizes[n]
        lvl = levels.get(size)
        rep = 0
        if lvl is not None:
            pos, keys = lvl[0], lvl[1]
            if isinstance(pos, np.ndarray):
                pos, keys = pos.tolist(), keys.tolist()
            rep = _greedy_duplicates(pos, keys, cl, size)
        out[f"gopher_repetition.dup_{n}gram"] = rep / text_len
    return out


def _c4_lines(lines, line_ents, t: Thresholds, intl: bool, no_term: bool, unspaced: bool,
              kept: list[str]) -> tuple[dict[str, float], float]:
    """C4QualityFilter's line loop. Appends the kept lines to `kept`; returns the signals
    and the word-token count (in word equivalents) of the kept lines."""
    end_punct = _C4_END_PUNCT_INTL if intl else _C4_END_PUNCT
    min_words = t.c4_min_words_per_line
    max_wl = t.c4_max_word_length
    n_sent = 0
    kept_tok = 0.0
    long_word = no_punct = few_words = js = policy = 0
    lorem_at = curly_at = -1.0
    get = _CHUNKS.get
    for li, line in enumerate(lines):
        ls = line.strip()
        ents = line_ents[li]
        if max_wl != -1 and len(ls) > max_wl and any(len(w) > max_wl for w in ls.split()):
            long_word += 1
            continue
        cited = False
        if t.c4_remove_citations and "[" in ls:
            new = _C4_CITATION_RE.sub("", ls)
            cited, ls = new != ls, new
        if t.c4_filter_no_terminal_punct and not no_term and (
                not ls.endswith(end_punct) or ls.endswith("...")):
            no_punct += 1
            continue
        n_words = len(ents)
        if unspaced and ents:
            n_words = max(n_words, sum(e[2] - e[6] + e[6] / CHARS_PER_WORD_UNSPACED for e in ents))
        if n_words < min_words:
            few_words += 1
            continue
        low = ls.lower()
        if "lorem ipsum" in low and lorem_at < 0:
            lorem_at = float(li)
        if t.c4_filter_javascript and "javascript" in low:
            js += 1
            continue
        if "{" in ls and curly_at < 0:
            curly_at = float(li)
        if t.c4_filter_policy and any(p in low for p in _C4_POLICY):
            policy += 1
            continue
        if cited:
            ents = [get(c) or _entry(c) for c in ls.split()]
        if unspaced:
            kept_tok += sum(e[1] - e[6] + e[6] / CHARS_PER_WORD_UNSPACED for e in ents)
        if no_term:
            n_sent += len(ents)
            if not unspaced:
                kept_tok += sum(e[1] for e in ents)
        else:
            cls = "".join([e[5] for e in ents])
            n_sent += _n_sentences(cls)
            if not unspaced:
                kept_tok += len(cls)
        kept.append(ls)
    return {
        "c4.lines": float(len(lines)),
        "c4.kept_lines": float(len(kept)),
        "c4.sentences": float(n_sent),
        "c4.long_word_lines": float(long_word),
        "c4.no_terminal_punct_lines": float(no_punct),
        "c4.too_few_words_lines": float(few_words),
        "c4.javascript_lines": float(js),
        "c4.policy_lines": float(policy),
        "c4.lorem_ipsum_line": lorem_at,        # first line index, -1 if none
        "c4.curly_bracket_line": curly_at,      # first line index, -1 if none
    }, kept_tok


def _tokenize_lines(lines: list[str]) -> list[list[tuple]]:
    get = _CHUNKS.get
    return [[get(c) or _entry(c) for c in line.split()] for line in lines]


def _text_flags(text: str, lang: str) -> tuple[str, bool, bool, bool]:
    iso = _iso3(lang)
    unspaced = False
    if not text.isascii():
        # Scanning for one range is much faster than for the exact class: only the (few)
        # characters from U+0E01 up are checked against it.
        high = "".join(_HIGH_CHAR_RE.findall(text))
        unspaced = _UNSPACED_CHAR_RE.search(high) is not None and is_unspaced(text)
    # Thai and Lao have no terminal punctuation: by label, or by script when mostly unspaced.
    no_term = unspaced and (iso in _NO_TERMINAL_PUNCT_LANGS or (
        len(_THAI_LAO_RE.findall(text)) * 2 > len(_UNSPACED_CHAR_RE.findall(text))))
    intl = iso != "eng" or unspaced
    return iso, unspaced, no_term, intl


def signals(text: str, lang: str = "eng_Latn", thresholds: Thresholds | None = None
            ) -> dict[str, float]:
    """Every signal of the four groups for one text, in one pass (see module docstring)."""
    _trim_caches()
    iso, unspaced, no_term, intl = _text_flags(text, lang)
    t = (thresholds or DEFAULT_THRESHOLDS).resolve(lang, unspaced)
    text_len = len(text)
    nan = math.nan

    lines = text.splitlines()
    line_ents = _tokenize_lines(lines)
    ents = [e for le in line_ents for e in le]
    if ents:
        cols = list(zip(*ents))
        ids = list(chain.from_iterable(cols[0]))
        n_tok, n_nonsym, len_nonsym, n_alpha, n_uns = (sum(cols[i]) for i in (1, 2, 3, 4, 6))
    else:
        ids, n_tok, n_nonsym, len_nonsym, n_alpha, n_uns = [], 0, 0, 0, 0, 0
    per_word = 1.0 / CHARS_PER_WORD_UNSPACED
    n_words = n_nonsym - n_uns + n_uns * per_word       # word equivalents of non-symbol tokens
    n_tok_eq = n_tok - n_uns + n_uns * per_word
    n_lines = len(lines)

    s: dict[str, float] = {"chars": float(text_len), "unspaced": 1.0 if unspaced else 0.0,
                           "tokens": float(n_tok)}

    # --- Gopher quality
    stop = _stop_ids(iso)
    s["gopher_quality.n_words"] = float(n_words)
    s["gopher_quality.avg_word_length"] = (len_nonsym / n_nonsym if n_nonsym and not unspaced
                                           else nan)
    s["gopher_quality.hash_ratio"] = text.count("#") / n_tok if n_tok else nan
    s["gopher_quality.ellipsis_ratio"] = ((text.count("...") + text.count("…")) / n_tok
                                          if n_tok else nan)
    if n_lines:
        s["gopher_quality.bullet_lines_ratio"] = sum(
            1 for ln in lines if ln.lstrip().startswith(("•", "-"))) / n_lines
        s["gopher_quality.end_ellipsis_lines_ratio"] = sum(
            1 for ln in lines if ln.rstrip().endswith(("...", "…"))) / n_lines
    else:
        s["gopher_quality.bullet_lines_ratio"] = s["gopher_quality.end_ellipsis_lines_ratio"] = nan
    s["gopher_quality.alpha_words_ratio"] = n_alpha / n_tok if n_tok else nan
    s["gopher_quality.stop_words"] = float(len(stop.intersection(ids))) if stop is not None else nan

    # --- Gopher repetition
    if text_len:
        paras = _PARA_RE.split(text.strip())
        d, c = _find_duplicates(paras)
        s["gopher_repetition.dup_para_frac"] = d / len(paras)
        s["gopher_repetition.dup_para_char_frac"] = c / text_len
        rlines = _LINE_RE.split(text)
        d, c = _find_duplicates(rlines)
        s["gopher_repetition.dup_line_frac"] = d / len(rlines)
        s["gopher_repetition.dup_line_char_frac"] = c / text_len
    else:
        for k in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
            s[f"gopher_repetition.{k}"] = 0.0
    s.update(_ngram_signals(ids, text_len, TOP_NGRAMS, DUP_NGRAMS,
                            CHARS_PER_WORD_UNSPACED if unspaced else 1.0, 0 if unspaced else 1))

    # --- C4
    kept: list[str] = []
    c4, c4_tok = _c4_lines(lines, line_ents, t, intl, no_term, unspaced, kept)
    s.update(c4)

    # --- FineWeb, on the text as given and on the text C4 leaves (what FineWeb sees after
    # C4 in a datatrove pipeline)
    _fineweb(s, "fineweb.", text, n_tok_eq, t.fw_short_line_length, no_term)
    _fineweb(s, "fineweb.after_c4.", "\n".join(kept).strip(), c4_tok, t.fw_short_line_length,
             no_term)
    return s


def _fineweb(s: dict, prefix: str, text: str, n_tok: float, short: int, no_term: bool) -> None:
    fw_lines = [ln for ln in text.split("\n") if ln.strip()]
    n_fw = len(fw_lines)
    s[prefix + "lines"] = float(n_fw)
    if n_fw:
        n_nl = text.count("\n")
        s[prefix + "line_punct_ratio"] = (
            math.nan if no_term
            else sum(1 for ln in fw_lines if ln.endswith(_FW_STOP_CHARS)) / n_fw)
        s[prefix + "short_line_ratio"] = sum(1 for ln in fw_lines if len(ln) <= short) / n_fw
        s[prefix + "char_dup_ratio"] = _find_duplicates(fw_lines)[1] / (len(text) - n_nl)
        s[prefix + "list_ratio"] = n_nl / n_tok if n_tok else math.nan
    else:
        for k in ("line_punct_ratio", "short_line_ratio", "char_dup_ratio", "list_ratio"):
            s[prefix + k] = math.nan


def c4_filter_text(text: str, lang: str = "eng_Latn", thresholds: Thresholds | None = None
                   ) -> str | None:
    """The text C4QualityFilter would pass on (kept lines, stripped, joined by newlines), or
    None when it drops the page. Our `decide` judges the original text, as datatrove's
    C4 judges its input; use this to reproduce the rewritten text."""
    _trim_caches()
    iso, unspaced, no_term, intl = _text_flags(text, lang)
    t = (thresholds or DEFAULT_THRESHOLDS).resolve(lang, unspaced)
    lines = text.splitlines()
    kept: list[str] = []
    s, _ = _c4_lines(lines, _tokenize_lines(lines), t, intl, no_term, unspaced, kept)
    if _decide_c4(s, t):
        return None
    return "\n".join(kept).strip()


# ----------------------------------------------------------------------------------------
# Deciding
# ----------------------------------------------------------------------------------------


def _decide_gq(s: dict, t: Thresholds) -> str | None:
    nw = s["gopher_quality.n_words"]
    if t.gq_min_doc_words and nw < t.gq_min_doc_words:
        return "gopher_quality:short_doc"
    if t.gq_max_doc_words and nw > t.gq_max_doc_words:
        return "gopher_quality:long_doc"
    awl = s["gopher_quality.avg_word_length"]          # NaN (unspaced / no words) passes
    if t.gq_min_avg_word_length and awl < t.gq_min_avg_word_length:
        return "gopher_quality:mean_word_length"
    if t.gq_max_avg_word_length and awl > t.gq_max_avg_word_length:
        return "gopher_quality:mean_word_length"
    if t.gq_max_symbol_word_ratio and s["gopher_quality.hash_ratio"] > t.gq_max_symbol_word_ratio:
        return "gopher_quality:hash_ratio"
    if (t.gq_max_symbol_word_ratio
            and s["gopher_quality.ellipsis_ratio"] > t.gq_max_symbol_word_ratio):
        return "gopher_quality:ellipsis_ratio"
    if (t.gq_max_bullet_lines_ratio
            and s["gopher_quality.bullet_lines_ratio"] > t.gq_max_bullet_lines_ratio):
        return "gopher_quality:bullet_lines_ratio"
    if (t.gq_max_ellipsis_lines_ratio
            and s["gopher_quality.end_ellipsis_lines_ratio"] > t.gq_max_ellipsis_lines_ratio):
        return "gopher_quality:end_ellipsis_lines_ratio"
    if (t.gq_max_non_alpha_words_ratio
            and s["gopher_quality.alpha_words_ratio"] < t.gq_max_non_alpha_words_ratio):
        return "gopher_quality:alpha_words_ratio"
    if t.gq_min_stop_words and s["gopher_quality.stop_words"] < t.gq_min_stop_words:
        return "gopher_quality:stop_words"    # NaN (no list for the language) passes
    return None


def _decide_gr(s: dict, t: Thresholds) -> str | None:
    if not s["chars"]:
        return "gopher_repetition:empty"
    for rule in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
        thr = getattr(t, f"gr_{rule}")
        if thr and s[f"gopher_repetition.{rule}"] > thr:
            return f"gopher_repetition:{rule}"
    for n in TOP_NGRAMS:
        if s[f"gopher_repetition.top_{n}gram"] > getattr(t, f"gr_top_{n}gram"):
            return f"gopher_repetition:top_{n}gram"
    for n in DUP_NGRAMS:
        if s[f"gopher_repetition.dup_{n}gram"] > getattr(t, f"gr_dup_{n}gram"):
            return f"gopher_repetition:dup_{n}gram"
    return None


def _decide_c4(s: dict, t: Thresholds) -> str | None:
    hits = []
    if t.c4_filter_lorem_ipsum and s["c4.lorem_ipsum_line"] >= 0:
        hits.append((s["c4.lorem_ipsum_line"], 0, "c4:lorem_ipsum"))
    if t.c4_filter_curly_bracket and s["c4.curly_bracket_line"] >= 0:
        hits.append((s["c4.curly_bracket_line"], 1, "c4:curly_bracket"))
    if hits:
        return min(hits)[2]
    if s["c4.sentences"] < t.c4_min_num_sentences:
        return "c4:too_few_sentences"
    return None


def _decide_fw(s: dict, t: Thresholds, prefix: str = "fineweb.") -> str | None:
    if not s[prefix + "lines"]:
        return "fineweb:empty"
    r = s[prefix + "line_punct_ratio"]                 # NaN (no terminal punctuation) passes
    if r < t.fw_line_punct_thr and not (r == 0 and t.fw_line_punct_exclude_zero):
        return "fineweb:line_punct_ratio"
    if s[prefix + "short_line_ratio"] > t.fw_short_line_thr:
        return "fineweb:short_line_ratio"
    if s[prefix + "char_dup_ratio"] > t.fw_char_duplicates_ratio:
        return "fineweb:char_dup_ratio"
    if s[prefix + "list_ratio"] > t.fw_new_line_ratio:
        return "fineweb:list_ratio"
    return None


def decide(s: dict[str, float], thresholds: Thresholds | None = None, lang: str = "eng_Latn",
           groups: tuple[str, ...] | None = None) -> str | None:
    """None to keep, else the first failing rule as `<group>:<rule>` (one of REASONS).

    Groups run in the order gopher_quality, gopher_repetition, c4, fineweb, as a datatrove
    pipeline chains the four filters; a group runs when its `enable_*` flag is set (and, if
    `groups` is given, when it is listed). When C4 runs and `c4_rewrites_text` is set,
    FineWeb judges the lines C4 keeps (`fineweb.after_c4.*`), as it would downstream of
    datatrove's C4QualityFilter; otherwise it judges the text as given (`fineweb.*`)."""
    t = (thresholds or DEFAULT_THRESHOLDS).resolve(lang, bool(s.get("unspaced")))
    on = {g: getattr(t, f"enable_{g}") and (groups is None or g in groups) for g in GROUPS}
    reason = ((on["gopher_quality"] and _decide_gq(s, t))
              or (on["gopher_repetition"] and _decide_gr(s, t))
              or (on["c4"] and _decide_c4(s, t)))
    if reason:
        return reason
    if on["fineweb"]:
        # After C4 in a datatrove pipeline, FineWeb judges the text C4 rewrote.
        prefix = "fineweb.after_c4." if on["c4"] and t.c4_rewrites_text else "fineweb."
        return _decide_fw(s, t, prefix)
    return None


def evaluate(text: str, lang: str = "eng_Latn", thresholds: Thresholds | None = None
             ) -> tuple[str | None, dict[str, float]]:
    """`decide(signals(text))` and the signals."""
    s = signals(text, lang, thresholds)
    return decide(s, thresholds, lang), s
