"""MinHash signatures, band keys and the exact-dedup key: pure functions, no Spark."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.dedup_corpus import make_corpus
from filters.minhash import (
    MinHashParams,
    band_keys,
    candidate_probability,
    jaccard,
    shingle_hashes,
    signature_similarity,
    signatures,
    threshold,
    token_hashes,
    tokenize,
)
from filters.normalize import exact_key, normalize_text

P = MinHashParams()


def sig_of(texts, n=5):
    h, o = shingle_hashes(texts, n)
    return h, o, signatures(h, o, P)


def test_tokens_ignore_case_punctuation_and_width():
    assert tokenize("Hello, WORLD! it's ５ ｏ'clock") == ["hello", "world", "it", "s", "5", "o", "clock"]
    assert tokenize("हिन्दी भाषा, नमस्ते") == ["हिन्दी", "भाषा", "नमस्ते"]  # marks stay in words
    assert tokenize("这是测试。テスト") == list("这是测试テスト")  # unspaced: one character each
    assert tokenize("ภาษาไทย")[:2] == ["ภ", "า"]


def test_token_hash_depends_on_content_only():
    h = token_hashes(["abc", "x", "abc", "abd", "bac"])
    assert h[0] == h[2] and len(set(h.tolist())) == 4


def test_shingles_respect_document_bounds_and_short_texts():
    texts = ["a b c d e f", "a b c d e f", "", "x y", "一二三四五六"]
    h, o = shingle_hashes(texts, 5)
    assert list(np.diff(o)) == [2, 2, 0, 1, 2]
    assert (h[o[0]:o[1]] == h[o[1]:o[2]]).all()
    # Layout and case do not matter; word order does.
    a, b, c = (shingle_hashes([t], 3)[0] for t in ("One two three", "one   TWO, three!", "three two one"))
    assert (a == b).all() and not (a == c).any()


def test_batches_give_the_same_shingles_as_single_texts():
    c = make_corpus(40, seed=3)
    h, o = shingle_hashes(c.texts, 5)
    for i in (0, 17, 39):
        hi, oi = shingle_hashes([c.texts[i]], 5)
        assert (h[o[i]:o[i + 1]] == hi).all()


def test_signature_estimates_are_unbiased_with_binomial_spread():
    c = make_corpus(400, n_high=100, n_low=100, seed=5)
    index = {d: i for i, d in enumerate(c.ids)}
    h, o, sig = sig_of(c.texts)
    errors, sds = [], []
    for a, b, j in c.high + c.low:
        ia, ib = index[a], index[b]
        assert jaccard(h[o[ia]:o[ia + 1]], h[o[ib]:o[ib + 1]]) == pytest.approx(j)
        errors.append(signature_similarity(sig[ia], sig[ib]) - j)
        sds.append(np.sqrt(j * (1 - j) / P.num_perm))
    z = np.array(errors) / np.array(sds)
    assert abs(np.mean(errors)) < 0.01
    assert 0.7 < np.std(z) < 1.3  # permutations behave as independent min-wise hashes


def test_signatures_do_not_depend_on_chunking():
    c = make_corpus(30, seed=1, words=(50, 3000))
    h, o = shingle_hashes(c.texts, 5)
    assert (signatures(h, o, P, chunk_rows=97) == signatures(h, o, P)).all()


def test_band_keys_equal_exactly_when_rows_equal():
    _, _, sig = sig_of(["the same words in the same order here", "the same words in the same order here",
                        "completely different words appear in this one"])
    keys = band_keys(sig, P)
    assert keys.shape == (3, 14) and (keys[0] == keys[1]).all() and not (keys[0] == keys[2]).any()
    # Bands are keyed by position too: equal rows in different bands give different keys.
    flat = np.tile(sig[:1, :8], (1, 14))
    k = band_keys(flat, P)
    assert len(set(k[0].tolist())) == 14


def test_documented_threshold_and_s_curve():
    assert threshold(14, 8) == pytest.approx(0.719, abs=1e-3)
    assert candidate_probability(0.85, 14, 8) > 0.98
    assert candidate_probability(0.5, 14, 8) < 0.06
    assert candidate_probability(0.3, 14, 8) < 0.001


def test_empty_document_has_no_signature():
    h, o = shingle_hashes(["", "!!!"], 5)
    assert len(h) == 0 and list(o) == [0, 0, 0]
    assert signatures(h, o, P).shape == (2, 112)


def test_exact_key_options():
    assert normalize_text("  Hello\u00a0 WORLD \n") == "hello world"
    assert exact_key("Price: 10 EUR!") != exact_key("Price: 12 EUR!")
    assert exact_key("Price: 10 EUR!", strip_digits=True) == exact_key("Price: 12 EUR!", strip_digits=True)
    assert exact_key("“Quoted” — text") != exact_key('"Quoted" - text')
    assert exact_key("“Quoted” — text", strip_punctuation=True) == exact_key('"Quoted" - text', strip_punctuation=True)
