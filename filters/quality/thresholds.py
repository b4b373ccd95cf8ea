"""Thresholds of every rule, datatrove's defaults, with per-language overrides."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from filters.options import opt

_ISO1_TO_3 = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pt": "por",
              "nl": "nld", "ru": "rus", "zh": "zho", "ja": "jpn", "th": "tha", "lo": "lao",
              "km": "khm", "my": "mya", "bo": "bod", "ko": "kor"}


def iso3(lang: str) -> str:
    base = (lang or "").split("_", 1)[0].split("-", 1)[0].lower()
    return _ISO1_TO_3.get(base, base)


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

    enable_gopher_quality: bool = opt(True, "Gopher quality group")
    enable_gopher_repetition: bool = opt(True, "Gopher repetition group")
    enable_c4: bool = opt(True, "C4 group")
    enable_fineweb: bool = opt(True, "FineWeb group")

    gq_min_doc_words: float | None = opt(50, "fewer words -> `gopher_quality:short_doc` (unspaced scripts: characters"
                                         " / 1.5); a Gopher threshold of 0 disables its rule")
    gq_max_doc_words: float | None = opt(100_000, "more words")
    gq_min_avg_word_length: float | None = opt(3, "mean word length (not for unspaced scripts)")
    gq_max_avg_word_length: float | None = opt(10, "mean word length")
    gq_max_symbol_word_ratio: float | None = opt(0.1, "`#` and ellipses per word")
    gq_max_bullet_lines_ratio: float | None = opt(0.9, "bullet lines")
    gq_max_ellipsis_lines_ratio: float | None = opt(0.3, "lines ending in an ellipsis")
    gq_max_non_alpha_words_ratio: float | None = opt(0.8, "minimum share of words with a letter (datatrove's name, "
                                                     "though it is a minimum)")
    gq_min_stop_words: float | None = opt(2, "stop words required (lists for eng, deu, fra, spa, ita, por, nld, rus; "
                                          "others skip)")

    gr_dup_line_frac: float | None = opt(0.3, "duplicate lines by count")
    gr_dup_para_frac: float | None = opt(0.3, "duplicate paragraphs by count")
    gr_dup_line_char_frac: float | None = opt(0.2, "duplicate lines by characters")
    gr_dup_para_char_frac: float | None = opt(0.2, "duplicate paragraphs by characters")
    gr_top_2gram: float = opt(0.20, "top 2-gram character fraction")
    gr_top_3gram: float = opt(0.18, "top 3-gram character fraction")
    gr_top_4gram: float = opt(0.16, "top 4-gram character fraction")
    gr_dup_5gram: float = opt(0.15, "duplicate 5-gram character fraction")
    gr_dup_6gram: float = opt(0.14, "duplicate 6-gram character fraction")
    gr_dup_7gram: float = opt(0.13, "duplicate 7-gram character fraction")
    gr_dup_8gram: float = opt(0.12, "duplicate 8-gram character fraction")
    gr_dup_9gram: float = opt(0.11, "duplicate 9-gram character fraction")
    gr_dup_10gram: float = opt(0.10, "duplicate 10-gram character fraction")

    c4_remove_citations: bool = opt(True, "C4 drops `[1]`-style citations")
    c4_filter_no_terminal_punct: bool = opt(True, "C4 drops lines without terminal punctuation")
    c4_min_words_per_line: int = opt(3, "C4 drops lines with fewer words (-1 disables)")
    c4_max_word_length: int = opt(1000, "C4 drops lines with a longer word (-1 disables)")
    c4_filter_javascript: bool = opt(True, "C4 drops lines mentioning javascript")
    c4_filter_policy: bool = opt(True, "C4 drops policy/cookie lines")
    c4_filter_lorem_ipsum: bool = opt(True, "lorem ipsum rejects the page")
    c4_filter_curly_bracket: bool = opt(True, "`{` rejects the page")
    c4_min_num_sentences: int = opt(5, "fewer sentences left after C4's line rules reject the page (-1 disables)")
    c4_rewrites_text: bool = opt(True, "FineWeb, the group after C4, judges the lines C4 keeps (`fineweb.after_c4.*` "
                                 "signals), as in a datatrove chain")

    fw_line_punct_thr: float = opt(0.12, "FineWeb: minimum share of lines ending in punctuation")
    fw_line_punct_exclude_zero: bool = opt(False, "FineWeb: skip that rule when no line ends in punctuation")
    fw_short_line_thr: float = opt(0.67, "FineWeb: maximum share of short lines")
    fw_short_line_length: int = opt(30, "FineWeb: a short line has at most this many characters")
    fw_char_duplicates_ratio: float = opt(0.01, "FineWeb: duplicate-line characters")
    fw_new_line_ratio: float = opt(0.3, "FineWeb: newlines per word")

    overrides: dict[str, dict[str, float]] = opt(factory=_default_overrides, doc="per language (`eng`, `eng_Latn`) or"
                                                 " `unspaced` (text mostly in an unspaced script, whatever its "
                                                 "label), field -> value, applied in that order: `{ zho = { "
                                                 "gq_min_doc_words = 100 } }`; the default makes a short line of "
                                                 "unspaced text 10 characters (30 characters of English are about 5 "
                                                 "words, 5 Chinese words about 8-10 characters); a table you give "
                                                 "replaces the default")

    def resolve(self, lang: str = "eng_Latn", unspaced: bool = False) -> Thresholds:
        """These thresholds with the overrides that apply to `lang` (self when none do)."""
        keys = (["unspaced"] if unspaced else []) + [iso3(lang), lang]
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
