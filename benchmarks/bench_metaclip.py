"""MetaCLIP matching: the Aho-Corasick matcher against MetaCLIP's own loop (each entry
tested with `in`) on the same captions and 500,000 entries.

Entries: 500,000 distinct generated entries over a 60,000-word vocabulary of pseudo-words
(50,000 unigrams, the rest bigrams and trigrams) (an entry list of MetaCLIP's size and shape: WordNet synsets, Wikipedia
unigrams, bigrams and titles). Captions: 1,000 alt-text-like captions of 5 to 25 words
from the same vocabulary, so entries do match. Both sides match the same `spacing` text and
return the same entry ids (asserted). The automaton is built once, as a worker builds it
(not timed; its build time is in the detail). The baseline's " entry " strings are made
once too; its loop is timed on the first 40 captions and credited per caption (the whole
1,000 would take minutes a run). Interleaved runs after a warm-up, median (min-max).
"""

from __future__ import annotations

import random
import time

from benchmarks.timing import interleaved, rate, ratio_row

N_ENTRIES, N_CAPTIONS, BASELINE_CAPTIONS = 500_000, 1000, 40


def corpus(seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = list({"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(70_000)})[:60_000]
    entries = dict.fromkeys(vocab[:50_000])  # unigrams, then distinct bigrams and trigrams
    while len(entries) < N_ENTRIES:
        entries[" ".join(rng.choice(vocab) for _ in range(rng.choice((2, 2, 3))))] = None
    entries = list(entries)
    captions = [" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 25))) + rng.choice([".", "", "!"])
                for _ in range(N_CAPTIONS)]
    return entries, captions


def run(runs: int = 3) -> dict:
    from filters.metaclip import Matcher, spacing

    entries, captions = corpus()
    t0 = time.perf_counter()
    matcher = Matcher(entries)
    build = time.perf_counter() - t0
    padded = [f" {e} " for e in entries]
    few = captions[:BASELINE_CAPTIONS]
    out = {}

    def ours():
        out["ours"] = [matcher.match(c) for c in captions]

    def naive():
        res = []
        for c in few:
            text = spacing(c)
            res.append([i for i, e in enumerate(padded) if e in text])
        out["naive"] = res

    times = interleaved({"ours": ours, "naive": naive}, runs=runs)
    assert out["ours"][:BASELINE_CAPTIONS] == out["naive"]
    matched = sum(bool(m) for m in out["ours"])
    per_caption = {"ours": [t / N_CAPTIONS for t in times["ours"]],
                   "naive": [t / BASELINE_CAPTIONS for t in times["naive"]]}
    row = ratio_row(per_caption["naive"], per_caption["ours"])
    return {"name": "MetaCLIP matching, Aho-Corasick vs MetaCLIP's loop of `in` per entry, 500,000 entries",
            "ours": rate(1, per_caption["ours"], "captions/s"), "baseline": rate(1, per_caption["naive"], "captions/s"),
            **row, "target": 100.0,
            "detail": f"{N_CAPTIONS:,} captions ({matched:,} matching an entry) against {len(entries):,} entries; the "
                      f"baseline timed on {BASELINE_CAPTIONS} of them, per caption; automaton built once in "
                      f"{build:.1f} s; {row['runs']} interleaved runs after a warm-up"}
