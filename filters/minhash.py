"""MinHash signatures and LSH band keys, vectorised over a batch of documents.

One phase per function (text-dedup's layout): `tokenize` -> `shingle_hashes` ->
`signatures` -> `band_keys`; `jaccard` is the exact similarity used to verify candidates.

Shingles are word n-grams of the normalised text (NFKC, case-folded, punctuation dropped).
Characters of scripts written without spaces (Han, Kana, Thai, ...) are one token each, so
the same n-gram rule gives character n-grams there, and mixed-script pages need no switch.

Everything after the regex runs on whole batches in NumPy: token hashes are one reduceat
over the batch's UTF-8 bytes, n-gram hashes shifted sums of token hashes (all mod 2^64),
and each permutation an affine map mod 2^64 followed by an xor-shift. Estimates from these
signatures are unbiased with the binomial spread of true MinHash (tests check both).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import regex

from filters.scripts import UNSPACED_CLASS, UNSPACED_RANGES

# Everything that is not a word character (letters with their marks, digits) separates
# tokens; single spaces already do, so they are left alone (a third fewer substitutions).
_SEPARATORS = regex.compile(r"[^\w ]+")
_UNSPACED_CHAR = regex.compile(rf"[{UNSPACED_CLASS}]\p{{M}}*")
_ASCII_SEPARATORS = {i: " " for i in range(128) if not (chr(i).isalnum() or chr(i) == "_")}
# The same characters by plain ranges: the stdlib scans these much faster.
_MAYBE_UNSPACED = re.compile(f"[{UNSPACED_RANGES}]")
_DOC_SEP = "\n"  # never survives _SEPARATORS, so it can mark where documents end

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
# Odd multipliers that combine the n tokens of a shingle (order matters: "a b" != "b a").
_POSITION = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                      0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                     dtype=np.uint64)
_ROW = np.array([0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3,
                 0x1D8E4E27C47D124F, 0x9FB21C651E98DF25, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F],
                dtype=np.uint64)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every output bit depends on every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def normalize(text: str) -> str:
    """NFKC, case-folded, separators as spaces, unspaced characters spaced apart."""
    if text.isascii():  # most of the web: a translate table does the same, 7x faster
        return text.casefold().translate(_ASCII_SEPARATORS)
    text = _SEPARATORS.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    # All unspaced scripts start at U+0E00 (Thai); max() is a cheap first test.
    if max(text, default=" ") >= "\u0e00" and _MAYBE_UNSPACED.search(text):
        text = _UNSPACED_CHAR.sub(r" \g<0> ", text)
    return text


def tokenize(text: str) -> list[str]:
    """The tokens shingles are made of (see the module docstring)."""
    return normalize(text).split()


# Random odd multipliers by position within a token: a token's hash is the sum of its
# bytes times these, so all tokens of a batch hash in one reduceat. Positions past the
# table wrap; tokens that long (base64, URLs) still hash by all of their bytes.
_BYTE_POS = (np.random.default_rng(0x5EED).integers(0, 2**63, size=256, dtype=np.uint64)
             * np.uint64(2) + np.uint64(1))


def _spans(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of every run of bytes other than space and the document separator."""
    word = (buf != 32) & (buf != 10)
    edges = np.flatnonzero(np.diff(np.r_[False, word, False].astype(np.int8)))
    return edges[0::2], edges[1::2]


def _hash_spans(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    marker = np.zeros(len(buf), dtype=np.int64)
    marker[starts] = 1
    token = np.cumsum(marker) - 1  # the token each byte belongs to (or follows)
    pos = np.arange(len(buf)) - starts[np.maximum(token, 0)]
    vals = (buf.astype(np.uint64) + np.uint64(1)) * _BYTE_POS[pos % len(_BYTE_POS)]
    vals[(buf == 32) | (buf == 10) | (token < 0)] = 0
    return mix64(np.add.reduceat(vals, starts) + (ends - starts).astype(np.uint64))


def token_hashes(tokens: list[str]) -> np.ndarray:
    """64-bit hash of each token (tokens hold no spaces), all tokens at once."""
    buf = np.frombuffer(" ".join(tokens).encode("utf-8"), dtype=np.uint8)
    return _hash_spans(buf, *_spans(buf))


def _batch_tokens(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token hashes of all texts in order, and the number of tokens of each text."""
    buf = np.frombuffer(_DOC_SEP.join(normalize(t) for t in texts).encode("utf-8"), dtype=np.uint8)
    starts, ends = _spans(buf)
    doc_ends = np.r_[np.flatnonzero(buf == 10), len(buf)]
    counts = np.bincount(np.searchsorted(doc_ends, starts), minlength=len(texts))[:len(texts)]
    return _hash_spans(buf, starts, ends), counts


def shingle_hashes(texts: list[str], n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every word n-gram of every text -> (hashes, offsets), text i owning
    hashes[offsets[i]:offsets[i+1]]. A text shorter than n tokens is one shingle of all
    its tokens; a text without tokens has none."""
    if not texts:
        return np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64)
    tok, counts = _batch_tokens(texts)
    doc_end = np.repeat(np.cumsum(counts), counts)  # per token: end of its document
    idx = np.arange(len(tok))
    acc = np.zeros(len(tok), dtype=np.uint64)
    shifted = np.zeros(len(tok), dtype=np.uint64)
    for k in range(n):
        shifted[:] = 0
        shifted[:len(tok) - k] = tok[k:]
        shifted *= _POSITION[k % len(_POSITION)]
        shifted[idx + k >= doc_end] = 0  # never reach into the next document
        acc += shifted
    doc_start = doc_end - np.repeat(counts, counts)
    keep = (idx + n <= doc_end) | ((doc_end - doc_start < n) & (idx == doc_start))
    per_doc = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
    offsets = np.r_[0, np.cumsum(per_doc)].astype(np.int64)
    return mix64(acc[keep]), offsets


@dataclass(frozen=True)
class MinHashParams:
    bands: int = 14
    rows: int = 8
    seed: int = 1

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    def coefficients(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        a = rng.integers(0, 2**63, size=self.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        b = rng.integers(0, 2**63, size=self.num_perm, dtype=np.uint64)
        return a, b


_EMPTY = np.iinfo(np.uint64).max


def signatures(hashes: np.ndarray, offsets: np.ndarray, params: MinHashParams,
               chunk_rows: int = 4096) -> np.ndarray:
    """(docs, bands*rows) minimum of each permutation over each document's shingles.

    Rows go through fixed, cache-sized chunks, so memory is bounded whatever a document's
    size; a document without shingles keeps all-max values (callers skip it).
    """
    a, b = params.coefficients()
    n_docs = len(offsets) - 1
    sig = np.full((n_docs, params.num_perm), _EMPTY, dtype=np.uint64)
    doc_of = np.repeat(np.arange(n_docs), np.diff(offsets))
    buf = np.empty((min(chunk_rows, len(hashes)), params.num_perm), dtype=np.uint64)
    tmp = np.empty_like(buf)
    for lo in range(0, len(hashes), chunk_rows):
        hi = min(lo + chunk_rows, len(hashes))
        v, t = buf[:hi - lo], tmp[:hi - lo]
        np.multiply(hashes[lo:hi, None], a, out=v)
        v += b
        np.right_shift(v, np.uint64(29), out=t)
        v ^= t
        docs = doc_of[lo:hi]
        first = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
        rows = docs[first]
        sig[rows] = np.minimum(sig[rows], np.minimum.reduceat(v, first, axis=0))
    return sig


def band_keys(sig: np.ndarray, params: MinHashParams) -> np.ndarray:
    """(docs, bands) int64 key of each band: equal keys <=> equal rows (up to 2^-64)."""
    view = sig.reshape(len(sig), params.bands, params.rows)
    acc = (view * _ROW[np.arange(params.rows) % len(_ROW)]).sum(axis=2, dtype=np.uint64)
    acc += np.arange(params.bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return mix64(acc).view(np.int64)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two shingle-hash sets."""
    a, b = np.unique(a), np.unique(b)
    if not len(a) and not len(b):
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def signature_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Share of equal MinHash values: an unbiased estimate of the Jaccard similarity."""
    return float(np.mean(a == b))


def candidate_probability(j: float, bands: int, rows: int) -> float:
    """Chance that two documents of Jaccard similarity j share at least one band."""
    return 1.0 - (1.0 - j ** rows) ** bands


def threshold(bands: int, rows: int) -> float:
    """The similarity where the LSH S-curve is steepest, (1/b)^(1/r)."""
    return (1.0 / bands) ** (1.0 / rows)
