"""Line-level dedup's pure functions: normalisation, hashes, buckets, removal. No Spark."""

from __future__ import annotations

import random
import string
import unicodedata

import numpy as np
import pytest
import regex

from filters.lines import (
    CCNET_PUNCT,
    bucket_key,
    bucket_of,
    doc_line_hashes,
    line_hash,
    n_buckets,
    normalize_line,
    remove_lines,
)

# Characters that exercise every branch: ASCII (all of it), Unicode punctuation and digits,
# CCNet's symbols, C0/C1 controls, odd whitespace, letters that case-fold to several.
POOL = ([chr(i) for i in range(128)] + list(CCNET_PUNCT) + list("’«»—–…¿¡・‐‹›•＄＋｜©") + list("٣४๙０１")
        + ["\x85", "\x9f", "\x80", "\xa0", "\u3000", "\u2028", "\u0301", "\ud800"]
        + list("éßΣςİПриветмир中文字ǅ🙂"))
WORDS = ["cookie", "policy", "accept", "всё", "中文", "straße", "ΟΔΟΣ"]


def reference(line: str) -> str:
    """The rules written the slow, obvious way, to check the fast path against."""
    line = regex.sub(r"\d", "0", line.casefold())
    line = regex.sub(rf"[\p{{P}}{regex.escape(CCNET_PUNCT + string.punctuation)}]", "", line)
    line = "".join(c for c in line if c.isspace() or unicodedata.category(c) != "Cc")
    return " ".join(line.split())


def ccnet_normalize_for_dedup(line: str) -> str:
    """CCNet's normalize_for_dedup, transcribed."""
    line = line.strip().lower()
    line = regex.sub(r"\d", "0", line)
    controls = "".join(map(chr, [*range(32), *range(127, 160)]))
    return regex.sub(f"[{regex.escape(CCNET_PUNCT + controls)}]", "", line)


def random_text(rng: random.Random, n: int, pool=POOL) -> str:
    return "".join(rng.choice(pool) if rng.random() < 0.6 else f" {rng.choice(WORDS)} " for _ in range(n))


@pytest.mark.parametrize("a, b", [
    ("Cookies: accept ALL 2024!", "cookies accept all 1999"),
    ("© 2019 Example Inc. All rights reserved.", "© 2024 example inc — all rights reserved"),
    ("«Подписаться» на рассылку — 12 раз", "подписаться на рассылку 99 раз"),
    ("版权所有，2008年。", "版权所有2023年"),
    ("Share\ton   Facebook", " share on\u00a0facebook "),
    ("Page ١٢ of ３４", "page 00 of 00"),  # Arabic-Indic and fullwidth digits
    ("STRASSE", "Straße"),
])
def test_variants_normalise_and_hash_the_same(a, b):
    assert normalize_line(a) == normalize_line(b) != ""
    assert line_hash(normalize_line(a)) == line_hash(normalize_line(b))


def test_examples_normalise_to_what_the_rules_say():
    assert normalize_line("  Cookies: accept ALL 2024!  ") == "cookies accept all 0000"
    assert normalize_line("a\tb\x00c\x9fd\x85e") == "a bcd e"  # whitespace controls separate
    assert normalize_line("Price: $5 + tax") == "price 0 tax"  # ASCII symbols go too
    assert normalize_line("Price: ＄5 ＋ tax") == "price ＄0 ＋ tax"  # other symbols stay
    assert normalize_line("it’s ´quoted´ ► next") == "its quoted next"  # CCNet's symbols go
    assert normalize_line("Home | News") == normalize_line("Home / News") == "home news"
    for blank in ["", "   ", "----", "* * *", "«»", "\x00\t"]:
        assert normalize_line(blank) == ""


@pytest.mark.parametrize("a, b", [("accept all cookies", "reject all cookies"),
                                  ("read more", "read me"), ("page 1", "page a"), ("ab", "a b")])
def test_different_words_differ(a, b):
    assert normalize_line(a) != normalize_line(b)
    assert line_hash(normalize_line(a)) != line_hash(normalize_line(b))


def test_fast_path_matches_the_reference():
    rng = random.Random(0)
    for _ in range(3000):
        text = random_text(rng, rng.randrange(0, 30))
        assert normalize_line(text) == reference(text), repr(text)


def test_never_finer_than_ccnet():
    """Lines CCNet's normalisation makes equal are equal here too (text without the
    whitespace controls, which CCNet deletes and this module turns into spaces)."""
    rng = random.Random(1)
    pool = [c for c in POOL if not c.isspace() or c == " "]
    for _ in range(2000):
        text = random_text(rng, rng.randrange(0, 30), pool)
        assert normalize_line(ccnet_normalize_for_dedup(text)) == normalize_line(text), repr(text)


def test_hashes_are_pinned_int64_and_spread():
    # Pinned: a change of hash function would orphan every stored line count.
    assert line_hash("cookies accept all 0000") == -211958931400719056
    hashes = [line_hash(f"line {i}") for i in range(2000)]
    assert all(type(h) is int and -(2**63) <= h < 2**63 for h in hashes)
    assert len(set(hashes)) == 2000
    assert min(hashes) < -(2**62) and max(hashes) > 2**62  # the sign bit is used


def test_doc_line_hashes_are_distinct_and_skip_empty_lines():
    texts = ["Menu\nHOME 1\n\n   \n----\nReal text, here.\nmenu", "home 2\n* * *\nMenu!"]
    got = doc_line_hashes(texts)
    assert got.dtype == np.int64
    assert got.tolist() == sorted(line_hash(s) for s in ["menu", "home 0", "real text here"])
    assert doc_line_hashes(["", "\n\n", "-- !"]).tolist() == []
    assert doc_line_hashes([]).dtype == np.int64


def test_doc_line_hashes_agree_with_normalize_line():
    rng = random.Random(2)
    for _ in range(300):
        texts = ["\n".join(random_text(rng, rng.randrange(0, 8)) for _ in range(rng.randrange(1, 6)))
                 for _ in range(rng.randrange(0, 3))]
        lines = {normalize_line(line) for text in texts for line in text.split("\n")} - {""}
        assert doc_line_hashes(texts).tolist() == sorted(map(line_hash, lines)), repr(texts)


def frequent_keys(bucket: int, *lines: str) -> np.ndarray:
    return np.sort(bucket_key(bucket, np.array([line_hash(normalize_line(s)) for s in lines], np.int64)))


def test_remove_lines_drops_every_copy_keeps_order_and_blank_lines():
    texts = ["Title\nAccept cookies!\n\nFirst paragraph.\n\nACCEPT COOKIES\nSecond paragraph.\n----",
             "Sign in · Register", "Caption\n\taccept   cookies"]
    frequent = frequent_keys(3, "accept cookies", "sign in register", "never seen")
    out, n_lines, n_chars = remove_lines(texts, 3, frequent)
    assert out == ["Title\n\nFirst paragraph.\n\nSecond paragraph.\n----", "", "Caption"]
    assert n_lines == 4
    assert n_chars == sum(map(len, texts)) - sum(map(len, out)) == 16 + 15 + 18 + 18


def test_remove_lines_only_for_its_bucket():
    texts = ["Accept cookies\nbody text"]
    frequent = frequent_keys(3, "accept cookies")
    assert remove_lines(texts, 4, frequent) == (texts, 0, 0)
    assert remove_lines(texts, 0, frequent) == (texts, 0, 0)
    assert remove_lines(texts, 3, frequent) == (["body text"], 1, 15)


def test_remove_lines_leaves_untouched_parts_alone():
    texts = ["  \n", "Keep me\n\n", "drop me", "\n \nDROP ME\n"]
    out, n_lines, n_chars = remove_lines(texts, 0, frequent_keys(0, "drop me"))
    assert out == ["  \n", "Keep me\n\n", "", ""] and (n_lines, n_chars) == (2, 7 + 11)
    assert remove_lines(texts, 0, np.array([], np.int64)) == (texts, 0, 0)
    assert remove_lines(["", "---"], 0, frequent_keys(0, "x")) == (["", "---"], 0, 0)


def test_remove_lines_uses_the_whole_sorted_array():
    """Membership is a binary search: keys at both ends and in the middle must be found."""
    lines = [f"boilerplate {chr(97 + i)}" for i in range(26)]
    frequent = frequent_keys(7, *lines)
    assert remove_lines(["\n".join(lines + ["kept"])], 7, frequent) == (["kept"], 26, sum(map(len, lines)) + 26)


def test_bucket_key_mixes_buckets_and_keeps_int64():
    h = np.array([0, 1, -1, 2**63 - 1, -(2**63), 12345], np.int64)
    for bucket in (0, 1, 5, 10**6):
        keys = bucket_key(bucket, h)
        assert keys.dtype == np.int64
        assert keys.tolist() == [bucket_key(bucket, int(x)) for x in h]
        assert bucket_key(bucket, np.int64(12345)) == keys[-1]
    assert bucket_key(0, h).tolist() == h.tolist()
    # Pinned: keys counted by one run are looked up by the next.
    assert (bucket_key(1, 0), bucket_key(5, 12345)) == (-7046029254386353131, 1663341875487333456)
    masks = {bucket_key(b, 0) for b in range(10_000)}
    assert len(masks) == 10_000 and all(-(2**63) <= m < 2**63 for m in masks)


def test_bucket_of_is_stable_and_spreads():
    assert bucket_of("doc-42", 1000) == 491  # pinned: buckets must agree across runs
    assert bucket_of("doc-42", 1) == 0
    counts = np.bincount([bucket_of(f"https://example.com/{i}", 4) for i in range(10_000)], minlength=4)
    assert len(counts) == 4 and all(2000 <= c <= 3000 for c in counts), counts


@pytest.mark.parametrize("n_docs, bucket_docs, expected", [
    (0, 10, 1), (1, 10, 1), (10, 10, 1), (11, 10, 2), (30_000_001, 30_000_000, 2), (5, 1, 5)])
def test_n_buckets(n_docs, bucket_docs, expected):
    assert n_buckets(n_docs, bucket_docs) == expected


@pytest.mark.parametrize("n_docs, bucket_docs", [(10, 0), (-1, 10)])
def test_n_buckets_rejects_nonsense(n_docs, bucket_docs):
    with pytest.raises(ValueError):
        n_buckets(n_docs, bucket_docs)
