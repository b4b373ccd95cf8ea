"""The names of the quality rules: groups, reasons (`<group>:<rule>`), and datatrove's own
reason strings for the same rules."""

from __future__ import annotations

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
