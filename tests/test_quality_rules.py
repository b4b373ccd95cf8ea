"""filters.quality against datatrove's own filters, on a generated corpus of varied pages and
on real text with an open vocabulary.

Both corpora are deterministic: benchmarks.quality_corpus.make_corpus (pages of known quality
that exercise most rules) and benchmarks.real_text.documents (the standard library's and the
installed packages' documentation). For every page and every group we compare our keep/drop
with GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter() and
FineWebQualityFilter() at their defaults, and the whole decision with the four chained as a
datatrove pipeline runs them (C4 rewrites the text FineWeb then sees). The README claims the
same decisions as datatrove on both, so agreement must be exact.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re

import pytest

from benchmarks.quality_corpus import make_corpus
from filters.quality import (
    DATATROVE_REASONS,
    DEFAULT_THRESHOLDS,
    GROUPS,
    REASONS,
    Thresholds,
    c4_filter_text,
    decide,
    signals,
    words,
)

N_DOCS = 2000
MIN_AGREEMENT = 1.0
MIN_DROP_SHARE = 0.10


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return make_corpus(N_DOCS, seed=0)


@pytest.fixture(scope="module")
def real_corpus() -> list[str]:
    from benchmarks.real_text import documents

    return documents(3000)


@pytest.fixture(scope="module")
def datatrove_results(corpus):
    return _datatrove_results(corpus)


def _datatrove_results(corpus: list[str]) -> dict:
    """Per group: datatrove's reason or None for every page; plus the chained decision."""
    __import__("spacy")  # datatrove's English word tokenizer; a test dependency, never skipped
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = {"gopher_quality": GopherQualityFilter(),
               "gopher_repetition": GopherRepetitionFilter(),
               "c4": C4QualityFilter(), "fineweb": FineWebQualityFilter()}
    out = {g: [] for g in GROUPS}
    c4_text, chain = [], []
    for i, text in enumerate(corpus):
        for g, f in filters.items():
            doc = Document(text=text, id=str(i))
            r = f.filter(doc)
            out[g].append(None if r is True else r[1])
            if g == "c4":
                c4_text.append(doc.text if r is True else None)
        kept = all(out[g][i] is None for g in ("gopher_quality", "gopher_repetition", "c4"))
        if kept:  # FineWeb downstream of C4 sees the rewritten text
            kept = filters["fineweb"].filter(Document(text=c4_text[i], id=str(i))) is True
        chain.append(kept)
    return {"groups": out, "c4_text": c4_text, "chain": chain}


@pytest.fixture(scope="module")
def ours(corpus):
    return [signals(text) for text in corpus]


@pytest.mark.parametrize("group", GROUPS)
def test_group_agrees_with_datatrove(group, corpus, ours, datatrove_results):
    theirs = datatrove_results["groups"][group]
    mine = [decide(s, groups=(group,)) for s in ours]
    assert all(r is None or r in REASONS for r in mine)
    assert all(r is None or r.startswith(group + ":") for r in mine)
    dropped = sum(r is not None for r in theirs) / len(corpus)
    assert dropped >= MIN_DROP_SHARE, f"{group}: datatrove drops only {dropped:.1%}"
    agree = sum((a is None) == (b is None) for a, b in zip(mine, theirs)) / len(corpus)
    assert agree >= MIN_AGREEMENT, f"{group}: keep/drop agreement {agree:.4f}"
    # Where both drop, the reason is datatrove's too (first failing rule, same order).
    both = [(a, b) for a, b in zip(mine, theirs) if a is not None and b is not None]
    same = sum(b in DATATROVE_REASONS[a].split("|") for a, b in both)
    assert same >= 0.98 * len(both), f"{group}: same reason for {same}/{len(both)}"


def test_corpus_exercises_most_rules(datatrove_results):
    reasons = {g: {r for r in rs if r} for g, rs in datatrove_results["groups"].items()}
    assert len(reasons["gopher_quality"]) >= 8, reasons["gopher_quality"]
    assert len(reasons["gopher_repetition"]) >= 8, reasons["gopher_repetition"]
    assert reasons["c4"] == {"too_few_sentences", "lorem_ipsum", "curly_bracket"}
    assert {"line_punct_ratio", "short_line_ratio", "char_dup_ratio"} <= reasons["fineweb"]


def test_chained_decision_agrees_with_datatrove_pipeline(corpus, ours, datatrove_results):
    mine = [decide(s) is None for s in ours]
    agree = sum(a == b for a, b in zip(mine, datatrove_results["chain"])) / len(corpus)
    assert agree >= MIN_AGREEMENT, f"chained keep/drop agreement {agree:.4f}"
    # The rewrite matters: on pages C4 keeps, FineWeb alone and FineWeb after C4 disagree on
    # some (a duplicated footer line that C4 drops, say).
    c4_kept = [s for s in ours if decide(s, groups=("c4",)) is None]
    alone = [decide(s, groups=("fineweb",)) for s in c4_kept]
    after = [decide(s, groups=("c4", "fineweb")) for s in c4_kept]
    assert sum((a is None) != (b is None) for a, b in zip(alone, after)) > 10


def test_real_text_decisions_agree_with_datatrove(real_corpus):
    theirs = _datatrove_results(real_corpus)
    ours = [signals(text) for text in real_corpus]
    for group in GROUPS:
        mine = [decide(s, groups=(group,)) for s in ours]
        agree = sum((a is None) == (b is None) for a, b in zip(mine, theirs["groups"][group])) / len(real_corpus)
        assert agree >= MIN_AGREEMENT, f"{group}: keep/drop agreement {agree:.4f}"
    chained = [decide(s) is None for s in ours]
    assert chained == theirs["chain"]
    # Real documentation: most pages fail Gopher quality, some pass the whole chain.
    assert 0.01 < sum(chained) / len(real_corpus) < 0.5


def test_c4_filter_text_matches_datatrove_rewrite(corpus, datatrove_results):
    texts = datatrove_results["c4_text"]
    for text, theirs in zip(corpus[:600], texts[:600]):
        assert c4_filter_text(text) == theirs


def test_word_split_matches_datatrove_tokenizer(corpus):
    __import__("spacy")  # a test dependency (pyproject [test]); never skipped
    from datatrove.utils.text import split_into_words

    for text in corpus[:400]:
        assert words(text) == split_into_words(text, "eng")
    tricky = ("It's 9am; Dr. Smith (U.S.) can't say—e.g. 3.5% of $40m... \"Wow!\" said O'Brien "
              "at http://example.com/a?b=1. Mr.Smith ''quoted'' co-operate 2019-2020 #tag "
              "C++ 5km/h :) and/or 10:30 I'm gonna")
    assert words(tricky) == split_into_words(tricky, "eng")


def test_thresholds_mirror_datatrove_defaults():
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    def defaults(cls):
        return {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}

    t = DEFAULT_THRESHOLDS
    for name, value in defaults(GopherQualityFilter).items():
        if name not in ("stop_words", "exclusion_writer", "language"):
            assert getattr(t, f"gq_{name}") == value, name
    rep = defaults(GopherRepetitionFilter)
    for name in ("dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac"):
        assert getattr(t, f"gr_{name}") == rep[name]
    for n, v in rep["top_n_grams"]:
        assert getattr(t, f"gr_top_{n}gram") == v
    for n, v in rep["dup_n_grams"]:
        assert getattr(t, f"gr_dup_{n}gram") == v
    for name, value in defaults(C4QualityFilter).items():
        if name not in ("exclusion_writer", "language", "split_paragraph"):
            assert getattr(t, f"c4_{name}") == value, name
    fw = defaults(FineWebQualityFilter)
    assert (t.fw_line_punct_thr, t.fw_line_punct_exclude_zero, t.fw_short_line_thr,
            t.fw_short_line_length, t.fw_char_duplicates_ratio, t.fw_new_line_ratio) == (
        fw["line_punct_thr"], fw["line_punct_exclude_zero"], fw["short_line_thr"],
        fw["short_line_length"], fw["char_duplicates_ratio"], fw["new_line_ratio"])


def test_reason_names_are_stable():
    assert len(REASONS) == len(set(REASONS))
    assert set(DATATROVE_REASONS) == set(REASONS)
    assert all(r.split(":", 1)[0] in GROUPS for r in REASONS)
    for r in ("gopher_quality:mean_word_length", "gopher_repetition:dup_line_frac",
              "c4:too_few_sentences", "fineweb:line_punct_ratio"):
        assert r in REASONS


def test_all_reasons_come_from_reasons(corpus, ours):
    for s in ours[:500]:
        r = decide(s)
        assert r is None or r in REASONS


# ----------------------------------------------------------------------------------------
# Multilingual
# ----------------------------------------------------------------------------------------

ZH = ("每个星期六早上，村里的集市都会在教堂旁边的广场上开市。附近山谷里的农民带来新鲜的蔬菜、奶酪、蜂蜜和面包。"
      "九点以前，摊位前通常已经挤满了买东西的人。许多家庭几代人都在那里做生意，认识大多数老顾客。"
      "夏天的时候，集市一直开到下午两点左右。音乐家在喷泉旁边演奏，孩子们在桌子之间跑来跑去。"
      "到了冬天，人们会喝热茶，聊一聊今年的收成和天气。")
JA = ("毎週土曜日の朝、村の市場は教会の隣にある広場で開かれます。近くの谷に住む農家の人たちが、"
      "新鮮な野菜やチーズ、はちみつ、パンを持ってきます。九時前には、どの店の前にもたくさんの人が"
      "集まっています。何世代にもわたってそこで商売をしている家族も多く、常連客の名前をよく覚えています。"
      "夏になると、市場は午後二時ごろまで開いています。噴水のそばでは音楽家が演奏し、子どもたちは"
      "テーブルの間を走り回ります。冬には温かいお茶を飲みながら、その年の収穫や天気について話します。")
TH = ("ตลาดในหมู่บ้านเปิดทุกเช้าวันเสาร์ที่ลานข้างโบสถ์ เกษตรกรจากหุบเขาโดยรอบนำผักสด ชีส น้ำผึ้ง และขนมปังมาขาย "
      "ก่อนเก้าโมงเช้าแผงลอยมักจะมีผู้คนมาซื้อของอย่างแน่นขนัด "
      "หลายครอบครัวขายของที่นั่นมาหลายชั่วอายุคนและรู้จักลูกค้าประจำด้วยชื่อ "
      "ในฤดูร้อนตลาดจะเปิดจนถึงบ่ายสองโมง นักดนตรีเล่นเพลงอยู่ข้างน้ำพุและเด็ก ๆ วิ่งเล่นไปมาระหว่างโต๊ะ "
      "ในฤดูหนาวผู้คนจะดื่มชาร้อนและคุยกันเรื่องผลผลิตและสภาพอากาศของปีนี้")
DE = ("Der Wochenmarkt findet jeden Samstag auf dem Platz neben der Kirche statt. Bauern aus den "
      "umliegenden Tälern bringen Gemüse, Käse, Honig und Brot, und die Stände sind meist schon vor "
      "neun Uhr voll. Viele Familien verkaufen dort seit Generationen und kennen die meisten Kunden "
      "beim Namen. Im Sommer bleibt der Markt bis zum frühen Nachmittag geöffnet. Musiker spielen am "
      "Brunnen, und die Kinder laufen mit den Hunden zwischen den Tischen herum. Die Eltern sprechen "
      "derweil über das Wetter und die Ernte.")
FR = ("Le marché du village a lieu chaque samedi matin sur la place, à côté de l'église. Les "
      "agriculteurs des vallées voisines apportent des légumes, du fromage, du miel et du pain. Les "
      "étals sont souvent pleins avant neuf heures. Beaucoup de familles y vendent depuis des "
      "générations et connaissent la plupart de leurs clients par leur nom. En été, le marché reste "
      "ouvert jusqu'au début de l'après-midi, et des musiciens jouent près de la fontaine. Les enfants "
      "courent entre les tables pendant que les parents parlent du temps qu'il fait.")


@pytest.mark.parametrize("text,lang", [(ZH, "zho_Hans"), (JA, "jpn_Jpan"), (TH, "tha_Thai"),
                                       (ZH, "und"), (TH, "und"), (DE, "deu_Latn"),
                                       (FR, "fra_Latn")])
def test_good_text_in_other_languages_is_kept(text, lang):
    s = signals(text, lang)
    assert decide(s, lang=lang) is None, s


def test_unspaced_scripts_skip_word_length_and_count_word_equivalents():
    for text, lang in ((ZH, "zho_Hans"), (JA, "jpn_Jpan"), (TH, "tha_Thai")):
        s = signals(text, lang)
        assert s["unspaced"] == 1.0
        assert math.isnan(s["gopher_quality.avg_word_length"])
        assert math.isnan(s["gopher_quality.stop_words"])       # no list: rule skipped
        assert s["c4.sentences"] >= 5
    zh = signals(ZH, "zho_Hans")
    assert zh["gopher_quality.n_words"] == pytest.approx(
        sum(1 for ch in ZH if "\u4e00" <= ch <= "\u9fff") / 1.5)
    # Thai has no terminal punctuation: C4 keeps its lines, FineWeb's punctuation rule is off.
    th = signals(TH, "tha_Thai")
    assert th["c4.no_terminal_punct_lines"] == 0 and th["c4.kept_lines"] == 1
    assert math.isnan(th["fineweb.line_punct_ratio"])


def test_stop_words_for_major_languages():
    assert signals(DE, "deu_Latn")["gopher_quality.stop_words"] >= 2
    assert signals(FR, "fra")["gopher_quality.stop_words"] >= 2
    # German text judged with English stop words would fail: the list follows the language.
    assert decide(signals(DE, "eng_Latn"), groups=("gopher_quality",)) == "gopher_quality:stop_words"


def test_bad_pages_in_unspaced_scripts_are_dropped():
    short = "今天天气很好。"
    assert decide(signals(short, "zho_Hans"), lang="zho_Hans") == "gopher_quality:short_doc"
    repeated = "\n".join(["欢迎光临本店，全场商品八折优惠，欢迎选购！"] * 12)
    r = decide(signals(repeated, "zho_Hans"), lang="zho_Hans", groups=("gopher_repetition",))
    assert r == "gopher_repetition:dup_line_frac"
    menu = "\n".join(["首页", "新闻", "关于我们", "联系我们", "产品", "服务", "登录", "注册"] * 2 + [ZH])
    assert decide(signals(menu, "zho_Hans"), lang="zho_Hans", groups=("fineweb",)) is not None


# ----------------------------------------------------------------------------------------
# Thresholds, overrides and group flags
# ----------------------------------------------------------------------------------------


def test_language_overrides_and_group_flags():
    t = Thresholds(overrides={"deu": {"gq_min_doc_words": 500}})
    s = signals(DE, "deu_Latn", t)
    assert decide(s, t, "deu_Latn") == "gopher_quality:short_doc"
    assert decide(s, t, "fra_Latn") is None                     # override is German only
    assert decide(s, Thresholds(overrides={"deu_Latn": {"gq_min_doc_words": 500}}),
                  "deu_Latn") == "gopher_quality:short_doc"
    with pytest.raises(ValueError):
        Thresholds(overrides={"deu": {"no_such_field": 1}}).resolve("deu_Latn")
    spam = "\n".join(["Buy cheap watches online today and save money!"] * 30)
    s = signals(spam)
    assert decide(s) == "gopher_quality:stop_words"
    off = dataclasses.replace(DEFAULT_THRESHOLDS, enable_gopher_quality=False)
    assert decide(s, off) == "gopher_repetition:dup_line_frac"
    none = dataclasses.replace(off, enable_gopher_repetition=False, enable_c4=False,
                               enable_fineweb=False)
    assert decide(s, none) is None


def test_signals_are_prefixed_by_group():
    s = signals(DE, "deu_Latn")
    groups = {k.split(".", 1)[0] for k in s if "." in k}
    assert groups == set(GROUPS)
    assert {k for k in s if "." not in k} == {"chars", "tokens", "unspaced"}
    for name in ("n_words", "avg_word_length", "hash_ratio", "ellipsis_ratio",
                 "bullet_lines_ratio", "end_ellipsis_lines_ratio", "alpha_words_ratio",
                 "stop_words"):
        assert f"gopher_quality.{name}" in s
    for n in (2, 3, 4):
        assert f"gopher_repetition.top_{n}gram" in s
    for n in range(5, 11):
        assert f"gopher_repetition.dup_{n}gram" in s


def test_empty_and_whitespace_texts():
    for text in ("", "   ", "\n\n"):
        s = signals(text)
        assert decide(s) == "gopher_quality:short_doc"
        assert decide(s, groups=("c4",)) == "c4:too_few_sentences"
        assert decide(s, groups=("fineweb",)) == "fineweb:empty"
    assert decide(signals(""), groups=("gopher_repetition",)) == "gopher_repetition:empty"


def test_copied_character_sets_match_their_sources():
    __import__("spacy")  # a test dependency (pyproject [test]); never skipped
    import regex
    from datatrove.utils import text as dt_text
    from spacy.pipeline import Sentencizer

    from filters import quality as q
    from filters.quality.charsets import _SENT_PUNCT
    from filters.scripts import UNSPACED, UNSPACED_CLASS, UNSPACED_RANGES, script_counts

    assert q.PUNCTUATION_SET == dt_text.PUNCTUATION_SET
    assert q.TERMINAL_PUNCTUATION == dt_text.TERMINAL_PUNCTUATION
    assert _SENT_PUNCT == set(Sentencizer.default_punct_chars)
    # The fast `re` ranges of unspaced scripts equal the `regex` script classes, code point by
    # code point, and every such character is counted as an unspaced script.
    exact = regex.compile(f"[{UNSPACED_CLASS}]")
    fast = re.compile(f"[{UNSPACED_RANGES}]")
    for cp in range(0x40000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        assert bool(exact.match(ch)) == bool(fast.match(ch)), hex(cp)
    for ch in "中かカไລខမབ":
        assert set(script_counts(ch)) <= UNSPACED, ch
