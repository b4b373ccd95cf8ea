"""The quality tokenizer's shortcuts against its own full rules, and against spaCy.

`_affix_tokens` answers the commonest chunk shapes without the affix rules, and `_affixes`
skips a regex when a cheap test shows it cannot match (`guarded`). Both must give exactly
what the unguarded rules give: checked on every whitespace chunk of real prose with an open
vocabulary, of the generated corpus, and of random strings built from the characters the
rules care about. The unguarded rules themselves are checked against spaCy (datatrove's
English word tokenizer) on real prose.
"""

from __future__ import annotations

import random

import pytest

from benchmarks.quality_corpus import make_corpus
from benchmarks.real_text import documents
from filters.quality import decide, measure, signals, words
from filters.quality.spacy_rules import _SPECIALS
from filters.quality.tokenizer import _UNSPACED_CHAR_RE, _affix_tokens, _affixes

# Pieces random chunks are made of: letters of several scripts, digits, every ASCII
# punctuation character, the Unicode punctuation, quotes, currency and units spaCy's rules
# name, and fragments of its special cases, URLs and emoticons.
_PIECES = [*"abcxyzABCXYZéßÄöЖжλ中あ0123456789", *"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
           *"…—–‘’“”«»„‚´°§€£¥₹✅😀", "'s", "'S", "n't", "'ll", "'re", "'d", "Mr", "Dr.", "a.m",
           "p.m.", "e.g.", "i.e.", "U.S.", "US$", "C$", "km", "kg", "°C", "°F", "http://", "https://",
           "www.", ".com", ".org/", "?q=", ":)", ":-(", "<3", "^_^", "...", "''", "``", "--", "->",
           "can", "Let", "gonna", "1a.m", "and/or", "8-)", "o.O", "C++", "1st", "10th"]


def _random_chunks(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 7))) for _ in range(n)]


@pytest.fixture(scope="module")
def real_docs() -> list[str]:
    return documents(3000)


@pytest.fixture(scope="module")
def chunks(real_docs) -> list[str]:
    seen = {c for text in real_docs + make_corpus(1500, seed=0) for c in text.split()}
    seen.update(_random_chunks(60_000, seed=0))
    seen.update(_SPECIALS)
    return sorted(seen)


def test_corpora_are_large_and_varied(chunks):
    assert len(chunks) > 100_000
    assert sum(not c.isalnum() for c in chunks) > 60_000


def test_guards_never_change_the_rules_answer(chunks):
    bad = [c for c in chunks if _affixes(c, _SPECIALS) != _affixes(c, _SPECIALS, guarded=False)]
    assert not bad, bad[:20]


def test_shape_shortcuts_give_the_rules_answer(chunks):
    bad = [c for c in chunks if _affix_tokens(c) != _affixes(c, _SPECIALS, guarded=False)]
    assert not bad, bad[:20]


def test_words_match_spacy_on_real_prose(real_docs):
    __import__("spacy")  # a test dependency (pyproject [test]); never skipped
    from datatrove.utils.text import split_into_words

    # Characters of unspaced scripts (Han, Kana, Thai, ...) are one token each by design,
    # where spaCy's English rules keep a run of them whole: pages with them are left out.
    docs = [t for t in real_docs[::2] if not _UNSPACED_CHAR_RE.search(t)]
    assert len(docs) > 800
    for text in docs:
        assert words(text) == split_into_words(text, "eng")


def test_early_exit_decides_as_the_full_measurement(real_docs):
    texts = real_docs + make_corpus(800, seed=3)
    for text in texts:
        reason, partial = measure(text)
        full = signals(text)
        assert reason == decide(full)
        # The groups that ran measured what the full pass measured.
        assert all(full[k] == v or (v != v and full[k] != full[k]) for k, v in partial.items())
    assert sum(measure(t)[0] is not None for t in texts) > 100
