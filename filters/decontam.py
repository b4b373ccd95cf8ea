"""Benchmark decontamination: word n-grams of evaluation tasks found in documents
(docs/stages/decontamination.md). Plain Python and NumPy.

Text is normalised as NeMo Curator does (lower-cased, punctuation removed, split on
whitespace), keeping each word's character span so matches can be cut from the original
text. A word hashes to 64 bits (xxh3); an n-gram is a polynomial of its words' hashes
modulo 2^64, computed for all positions of a document at once with NumPy.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import xxhash

_WORD = re.compile(r"\S+")
_MULT = np.uint64(0x9E3779B97F4A7C15)


@functools.cache
def _punctuation() -> dict[int, None]:
    """Every Unicode punctuation character, deleted from words (NeMo Curator removes
    punctuation); built on first use, not at import (a third of a second)."""
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P")}

_SENTENCE_END = re.compile(r"[.!?。！？]\s|\n")


def words(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Normalised words with their character spans in `text` (words that were only
    punctuation are left out)."""
    out, starts, ends = [], [], []
    punct = _punctuation()
    for m in _WORD.finditer(text):
        w = m.group().lower().translate(punct)
        if w:
            out.append(w)
            starts.append(m.start())
            ends.append(m.end())
    return out, np.asarray(starts, np.int64), np.asarray(ends, np.int64)


def plain_words(text: str) -> list[str]:
    """The same words as `words`, without their spans: lower-casing and deleting punctuation
    over the whole text at once (whitespace is not punctuation, so the words are the same)."""
    return text.lower().translate(_punctuation()).split()


def word_hashes(ws: list[str]) -> np.ndarray:
    return np.fromiter((xxhash.xxh3_64_intdigest(w) for w in ws), dtype=np.uint64, count=len(ws))


def ngram_hashes(wh: np.ndarray, n: int) -> np.ndarray:
    """Hash of every n consecutive words (position i covers words i..i+n-1)."""
    m = wh.size - n + 1
    if m <= 0:
        return np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        acc = wh[:m].copy()
        for j in range(1, n):
            acc = acc * _MULT + wh[j:j + m]
    return acc


@dataclass
class Index:
    """Sorted n-gram hashes per length (n, and the whole length of each short task text),
    each with the task it came from."""

    tasks: list[str]
    n: int
    by_length: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    stats: dict[str, dict] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(h.size for h, _ in self.by_length.values())

    @functools.cached_property
    def combined(self) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], np.ndarray]:
        """Every length's hashes in one sorted array with their tasks, the lengths, and a
        filter: one look-up per text instead of one per length (a hash of one length equal
        to another length's is as likely as any 64-bit collision). The filter is a table of
        at least 16 slots per n-gram (up to 2^27) marking the slots the hashes' low bits
        fill: almost every n-gram of a document misses it, and only the few that hit are
        searched in the sorted array, whose random reads cost more than the whole rest."""
        if not self.by_length:
            return np.zeros(0, np.uint64), np.zeros(0, np.int32), (), np.zeros(1, bool)
        h = np.concatenate([a for a, _ in self.by_length.values()])
        t = np.concatenate([b for _, b in self.by_length.values()])
        order = np.argsort(h, kind="stable")
        slots = 1 << int(min(27, max(16, np.ceil(np.log2(max(h.size, 1) * 16)))))
        table = np.zeros(slots, bool)
        table[(h & np.uint64(slots - 1)).astype(np.int64)] = True
        return h[order], t[order], tuple(sorted(self.by_length)), table

    def only(self, hashes: np.ndarray) -> Index:
        """The index cut down to these n-grams (those the documents hold, common text left
        out): what the second pass needs, however large the sets."""
        out = Index(self.tasks, self.n, stats=self.stats)
        for length, (h, t) in self.by_length.items():
            keep = np.isin(h, hashes)
            out.by_length[length] = (h[keep], t[keep])
        return out


def build_index(task_texts: dict[str, list[str]], n: int = 13, min_words: int = 8) -> Index:
    """Task name -> its texts (questions, answers) -> the index. A text of at least n words
    gives its n-grams; a shorter one of at least `min_words` is used whole; shorter ones
    are counted as ignored."""
    tasks = sorted(task_texts)
    grams: dict[int, list[tuple[np.ndarray, int]]] = {}
    stats = {}
    for ti, task in enumerate(tasks):
        indexed = short = ignored = 0
        for text in task_texts[task]:
            ws, _, _ = words(text or "")
            if len(ws) < min_words:
                ignored += 1
                continue
            length = min(len(ws), n)
            h = np.unique(ngram_hashes(word_hashes(ws), length))
            grams.setdefault(length, []).append((h, ti))
            indexed += h.size
            short += len(ws) < n
        stats[task] = {"texts": len(task_texts[task]), "ngrams_indexed": indexed, "texts_used_whole": short,
                       "texts_too_short": ignored}
    index = Index(tasks, n, stats=stats)
    for length, items in grams.items():
        h = np.concatenate([a for a, _ in items])
        t = np.concatenate([np.full(a.size, ti, np.int32) for a, ti in items])
        order = np.argsort(h, kind="stable")
        index.by_length[length] = (h[order], t[order])
    return index


@dataclass(frozen=True)
class Match:
    start: int  # characters in the text
    end: int
    hash: int
    task: int


def all_ngrams(wh: np.ndarray, lengths: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hashes of every n-gram of every length in `lengths`, with each one's length and
    start: one rolling pass up to the longest (the (k+1)-grams extend the k-grams)."""
    grams, lens, starts = [], [], []
    acc = wh
    with np.errstate(over="ignore"):
        for k in range(1, (lengths[-1] if lengths else 0) + 1):
            if k > 1:
                acc = acc[:-1] * _MULT + wh[k - 1:]
            if not acc.size:
                break
            if k in lengths:
                grams.append(acc)
                lens.append(np.full(acc.size, k, np.int32))
                starts.append(np.arange(acc.size, dtype=np.int64))
    if not grams:
        return np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0, np.int64)
    return np.concatenate(grams), np.concatenate(lens), np.concatenate(starts)


def _hits(wh: np.ndarray, index: Index):
    """(lengths, starts, hashes, tasks) of the indexed n-grams among words hashed `wh`."""
    h, t, lengths, table = index.combined
    g, lens, starts = all_ngrams(wh, lengths)
    if not g.size or not h.size:
        return lens[:0], starts[:0], g[:0], t[:0]
    maybe = np.flatnonzero(table[(g & np.uint64(table.size - 1)).astype(np.int64)])
    pos = np.searchsorted(h, g[maybe])
    pos[pos == h.size] = 0
    sure = h[pos] == g[maybe]
    hit = maybe[sure]
    return lens[hit], starts[hit], g[hit], t[pos[sure]]


def doc_ngrams(text: str, lengths: tuple[int, ...]) -> np.ndarray:
    """The distinct n-gram hashes of `text` for each of `lengths` (to join with an index)."""
    return np.unique(all_ngrams(word_hashes(plain_words(text)), lengths)[0])


def matched(text: str, index: Index) -> np.ndarray:
    """The distinct indexed n-gram hashes in `text` (no spans: the fast path)."""
    if not index.by_length:
        return np.zeros(0, np.uint64)
    return np.unique(_hits(word_hashes(plain_words(text)), index)[2])


def find(text: str, index: Index) -> list[Match]:
    """Every indexed n-gram in `text`, as character spans, in text order. Most texts match
    nothing: they are checked without spans first."""
    if not index.by_length or not matched(text, index).size:
        return []
    ws, starts, ends = words(text)
    lens, first, gs, ts = _hits(word_hashes(ws), index)
    out = [Match(int(starts[i]), int(ends[i + n - 1]), int(g), int(t)) for n, i, g, t in zip(lens, first, gs, ts)]
    return sorted(out, key=lambda m: (m.start, m.end))


def cut(text: str, matches: list[Match], window: int, min_fragment: int) -> tuple[list[str], int, int]:
    """NeMo Curator's removal: each match plus `window` characters on either side, widened
    to the nearest sentence ends, is cut out; overlapping cuts merge; fragments shorter
    than `min_fragment` characters go too. -> (fragments, cuts, characters removed)."""
    regions: list[list[int]] = []
    for m in matches:
        a, b = max(0, m.start - window), min(len(text), m.end + window)
        ends_before = [e.end() for e in _SENTENCE_END.finditer(text, 0, a)]
        a = ends_before[-1] if ends_before else 0
        after = _SENTENCE_END.search(text, b)
        b = after.end() if after else len(text)
        if regions and a <= regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], b)
        else:
            regions.append([a, b])
    fragments, prev = [], 0
    for a, b in regions:
        fragments.append(text[prev:a])
        prev = b
    fragments.append(text[prev:])
    kept = [f.strip() for f in fragments if len(f.strip()) >= min_fragment]
    return kept, len(regions), len(text) - sum(len(f) for f in kept)
