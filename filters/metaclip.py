"""MetaCLIP's curation by metadata (docs/stages/metaclip.md): captions matched against a
list of entries by MetaCLIP's substring rule, and the keep probability that balances
over-represented entries. Plain Python; the automaton is pyahocorasick's.
"""

from __future__ import annotations

import ahocorasick
import numpy as np
import xxhash

_WRAP = str.maketrans({c: f" {c} " for c in ",.;:?!`"})
_SPACE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def spacing(text: str) -> str:
    """MetaCLIP's text for matching: wrapped in spaces, `, . ; : ? ! `` set off by spaces,
    tabs and line breaks made spaces. Case is kept: matching is case-sensitive."""
    return f" {text} ".translate(_WRAP).translate(_SPACE)


class Matcher:
    """Every entry found in a text as " entry " (MetaCLIP's rule), by one Aho-Corasick
    automaton over all the entries: one pass over the text whatever the number of entries."""

    def __init__(self, entries: list[str]):
        self.entries = entries
        self.automaton = ahocorasick.Automaton()
        for i, e in enumerate(entries):
            if e.strip():
                self.automaton.add_word(f" {e} ", i)
        self.automaton.make_automaton()

    def match(self, text: str) -> list[int]:
        """The ids of the entries in `text`, each once, ascending."""
        if not text or len(self.automaton) == 0:
            return []
        return sorted({i for _, i in self.automaton.iter(spacing(text))})


def read_entries(data: bytes) -> list[str]:
    """One entry per line, UTF-8; blank lines skipped, surrounding whitespace kept out."""
    return [line.strip() for line in data.decode("utf-8").splitlines() if line.strip()]


def keep_probability(counts, t: float) -> np.ndarray:
    """p_e = 1 when an entry has fewer than t pairs, else t / count_e (MetaCLIP)."""
    c = np.asarray(counts, dtype=np.float64)
    return np.where(c < t, 1.0, t / np.maximum(c, 1.0))


def coins(seed: int, ids: list[str], entries) -> np.ndarray:
    """A uniform [0, 1) draw per (pair id, entry): a seeded hash, the same on every worker,
    rerun and partitioning."""
    return np.fromiter((xxhash.xxh64_intdigest(f"{i}\x1f{e}", seed) >> 11 for i, e in zip(ids, entries)),
                       dtype=np.float64, count=len(ids)) / float(1 << 53)
