"""The quality tokenizer's shortcuts against its own full rules, and against spaCy.

`_affix_tokens` answers the commonest chunk shapes without the affix rules, and `_affixes`
skips a regex when a cheap test shows it cannot match (`guarded`). Both must give exactly
what the unguarded rules give: checked on every whitespace chunk of real prose with an open
vocabulary, of the generated corpus, and of random strings built from the characters the
rules care about. The unguarded rules themselves are checked against spaCy (datatrove's
English word tokenizer) on real prose.
"""

from __future__ import annotations

import itertools
import random

import pytest

from benchmarks.quality_corpus import make_corpus
from benchmarks.real_text import documents
from filters.quality import decide, measure, signals, words
from filters.quality.affixes import _affix_tokens, _affixes, _ascii_suffix_len
from filters.quality.spacy_rules import _SPECIALS, _SUFFIX_RE, _UNITS
from filters.quality.tokenizer import _UNSPACED_CHAR_RE

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


def test_ascii_suffix_rule_is_the_regex_on_every_short_string():
    # Every string of up to four characters over the characters the suffix alternatives and
    # their lookbehinds are made of, then longer random ones: the leftmost match wins.
    alphabet = "09aszAMSKkmgh.'$+%/PUC-,(_\"x"
    strings = ["".join(t) for n in range(1, 5) for t in itertools.product(alphabet, repeat=n)]
    rng = random.Random(3)
    strings += ["".join(rng.choice(alphabet) for _ in range(rng.randint(5, 12))) for _ in range(50_000)]
    # Each alternative that follows a digit (units up to "mbar" and "km/h"), after every
    # one- and two-character lead, alone and with a character after it.
    units = [u for u in _UNITS.split("|") if u.isascii()] + ["$", "US$", "C$", "A$", "+", "'s", "'S"]
    leads = [""] + [*alphabet] + ["".join(t) for t in itertools.product("9a.'", repeat=2)]
    strings += [lead + u + end for u in units for lead in leads for end in ("", ".", "s", "9")]

    def regex_len(s: str) -> int:
        m = _SUFFIX_RE.search(s)
        return m.end() - m.start() if m else 0

    bad = [s for s in strings if _ascii_suffix_len(s) != regex_len(s)]
    assert not bad, bad[:20]
    assert sum(map(_ascii_suffix_len, strings)) > 10_000  # the rule did fire, often


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
