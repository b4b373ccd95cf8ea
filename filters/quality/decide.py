"""Decisions over measured signals: None to keep, or the first failing rule."""

from __future__ import annotations

from filters.quality.reasons import DUP_NGRAMS, GROUPS, TOP_NGRAMS
from filters.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds


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
