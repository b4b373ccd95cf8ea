"""Every signal of the four rule groups, measured in one pass (decided in decide.py).

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

import math
from itertools import chain, repeat

from filters.quality.charsets import (
    _C4_CITATION_RE,
    _C4_END_PUNCT,
    _C4_END_PUNCT_INTL,
    _C4_POLICY,
    _FW_STOP_CHARS,
    _LINE_RE,
    _NO_TERMINAL_PUNCT_LANGS,
    _PARA_RE,
    _THAI_LAO_RE,
)
from filters.quality.decide import _decide_c4, _decide_gq, _decide_gr, decide
from filters.quality.ngrams import _find_duplicates, _ngram_signals
from filters.quality.reasons import DUP_NGRAMS, TOP_NGRAMS
from filters.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds, iso3
from filters.quality.tokenizer import (
    _CHUNKS,
    _HIGH_CHAR_RE,
    _UNSPACED_CHAR_RE,
    _entry,
    _n_sentences,
    _stop_ids,
    _trim_caches,
)
from filters.words import CHARS_PER_WORD_UNSPACED, is_unspaced


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
    iso = iso3(lang)
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
    return measure(text, lang, thresholds, stop_at_reject=False)[1]


def measure(text: str, lang: str = "eng_Latn", thresholds: Thresholds | None = None,
            stop_at_reject: bool = True) -> tuple[str | None, dict[str, float]]:
    """(decision, signals): the groups measured and decided in order; with stop_at_reject,
    measuring stops at the first group that rejects, as datatrove's chain stops, and the
    signals are those of the groups that ran. The decision is `decide`'s either way."""
    _trim_caches()
    iso, unspaced, no_term, intl = _text_flags(text, lang)
    t = (thresholds or DEFAULT_THRESHOLDS).resolve(lang, unspaced)
    text_len = len(text)
    nan = math.nan

    def rejects(group: str, rule) -> str | None:
        return rule(s, t) if stop_at_reject and getattr(t, f"enable_{group}") else None

    lines = text.splitlines()
    # Every line boundary is whitespace, so the text's chunks are its lines' chunks in
    # order; the lines' own entries are looked up again only if C4 runs.
    get = _CHUNKS.get
    ents = [get(c) or _entry(c) for c in text.split()]
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
        # map() of str methods keeps these per-line loops in C.
        s["gopher_quality.bullet_lines_ratio"] = sum(
            map(str.startswith, map(str.lstrip, lines), repeat(("•", "-")))) / n_lines
        s["gopher_quality.end_ellipsis_lines_ratio"] = sum(
            map(str.endswith, map(str.rstrip, lines), repeat(("...", "…")))) / n_lines
    else:
        s["gopher_quality.bullet_lines_ratio"] = s["gopher_quality.end_ellipsis_lines_ratio"] = nan
    s["gopher_quality.alpha_words_ratio"] = n_alpha / n_tok if n_tok else nan
    s["gopher_quality.stop_words"] = float(len(stop.intersection(ids))) if stop is not None else nan
    if reason := rejects("gopher_quality", _decide_gq):
        return reason, s

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
    if reason := rejects("gopher_repetition", _decide_gr):
        return reason, s

    # --- C4
    kept: list[str] = []
    c4, c4_tok = _c4_lines(lines, _tokenize_lines(lines), t, intl, no_term, unspaced, kept)
    s.update(c4)
    if reason := rejects("c4", _decide_c4):
        return reason, s

    # --- FineWeb, on the text as given and on the text C4 leaves (what FineWeb sees after
    # C4 in a datatrove pipeline)
    _fineweb(s, "fineweb.", text, n_tok_eq, t.fw_short_line_length, no_term)
    _fineweb(s, "fineweb.after_c4.", "\n".join(kept).strip(), c4_tok, t.fw_short_line_length,
             no_term)
    return decide(s, thresholds, lang), s


def _fineweb(s: dict, prefix: str, text: str, n_tok: float, short: int, no_term: bool) -> None:
    fw_lines = [ln for ln in text.split("\n") if ln.strip()]
    n_fw = len(fw_lines)
    s[prefix + "lines"] = float(n_fw)
    if n_fw:
        n_nl = text.count("\n")
        s[prefix + "line_punct_ratio"] = (
            math.nan if no_term
            else sum(map(str.endswith, fw_lines, repeat(_FW_STOP_CHARS))) / n_fw)
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
