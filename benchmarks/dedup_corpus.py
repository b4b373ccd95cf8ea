"""A generated corpus with planted duplicates at known Jaccard similarities.

Documents are Zipf-distributed pseudo-words (so unrelated documents share common words
but almost no 5-grams, as on the web). Planted pairs copy a document and replace words
at random positions until the exact 5-gram Jaccard similarity (measured with the same
shingling the pipeline uses) lands in the wanted range; each pair records its true value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from filters.minhash import jaccard, shingle_hashes

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


@dataclass
class Corpus:
    texts: list[str]
    ids: list[str]
    # (id_a, id_b, true Jaccard) of planted pairs, split by band
    high: list[tuple[str, str, float]] = field(default_factory=list)
    low: list[tuple[str, str, float]] = field(default_factory=list)
    exact: list[tuple[str, str]] = field(default_factory=list)


def _vocabulary(rng: np.random.Generator, size: int) -> np.ndarray:
    lengths = rng.integers(1, 5, size=size)
    words = {"".join(rng.choice(_SYLLABLES, size=n)) for n in lengths}
    return np.array(sorted(words))


def _variant(rng, words, vocab, probs, lo, hi, n):
    """Replace words until the Jaccard similarity is near a target drawn from [lo, hi)
    -> (words, jaccard), so planted values spread over the whole range."""
    base_h, base_o = shingle_hashes([" ".join(words)], n)
    base = base_h[base_o[0]:base_o[1]]
    target = rng.uniform(lo, hi)
    # Each replaced word changes up to n shingles: J ~ (S - n k) / (S + n k).
    k = max(1, round(len(base) * (1 - target) / (n * (1 + target))))
    best = None
    for _ in range(60):
        out = list(words)
        positions = rng.choice(len(out), size=min(k, len(out)), replace=False)
        for pos, word in zip(positions, vocab[rng.choice(len(vocab), size=len(positions), p=probs)]):
            out[pos] = word
        h, o = shingle_hashes([" ".join(out)], n)
        j = jaccard(base, h[o[0]:o[1]])
        if lo <= j < hi and (best is None or abs(j - target) < abs(best[1] - target)):
            best = (out, j)
            if abs(j - target) < 0.02:
                break
        # (1 - J) / (1 + J) grows about linearly with k: rescale, then step by one.
        scaled = round(k * ((1 - target) / (1 + target)) / max((1 - j) / (1 + j), 1e-9))
        k = max(1, scaled if scaled != k else k + (1 if j > target else -1))
    if best is None:
        raise RuntimeError(f"could not reach Jaccard in [{lo}, {hi})")
    return best


def make_corpus(n_docs: int, n_high: int = 0, n_low: int = 0, n_exact: int = 0, seed: int = 0,
                words: tuple[int, int] = (200, 600), ngram: int = 5) -> Corpus:
    """`n_docs` documents in all, of which planted copies: `n_high` near-duplicates with
    Jaccard in [0.86, 0.99), `n_low` with Jaccard in [0.2, 0.5), `n_exact` identical."""
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng, 30_000)
    ranks = np.arange(1, len(vocab) + 1)
    probs = (1 / ranks) / (1 / ranks).sum()
    n_base = n_docs - n_high - n_low - n_exact
    lengths = rng.integers(*words, size=n_base)
    flat = vocab[rng.choice(len(vocab), size=int(lengths.sum()), p=probs)]
    bounds = np.r_[0, np.cumsum(lengths)]
    flat = flat.tolist()
    docs = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    ids = [f"doc-{i:07d}" for i in range(n_base)]
    corpus = Corpus([" ".join(d) for d in docs], ids)
    plan = [("high", 0.86, 0.99)] * n_high + [("low", 0.2, 0.5)] * n_low + [("exact", 1.0, 1.0)] * n_exact
    sources = rng.choice(n_base, size=len(plan), replace=False)
    for i, ((kind, lo, hi), src) in enumerate(zip(plan, sources)):
        new_id = f"copy-{i:07d}"
        if kind == "exact":
            text = corpus.texts[src]
            corpus.exact.append((ids[src], new_id))
        else:
            out, j = _variant(rng, docs[src], vocab, probs, lo, hi, ngram)
            text = " ".join(out)
            getattr(corpus, kind).append((ids[src], new_id, j))
        corpus.texts.append(text)
        corpus.ids.append(new_id)
    return corpus
