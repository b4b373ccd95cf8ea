"""Sequence packing: best-fit-decreasing with the segment tree (tokenization/packing.py)
against first-fit-decreasing in plain Python, as a user writes it (each piece, longest
first, into the first sequence with room), on the same pieces.

Documents: token lengths drawn log-normally (median 600 tokens, sigma 1.3: web pages from a
few dozen tokens to well past a sequence; capped at 200,000), cut into pieces of at most
8,192 tokens as the packed layout cuts them (the cutting is not timed on either side). Both
sides sort and place the same pieces; throughput is document tokens placed per second, and
each side's padding share (pad tokens / sequence tokens) is reported beside it. Two sizes:
the ratio grows with the documents, since first fit scans the open sequences for each piece.
Interleaved runs after a warm-up, median (min-max).
"""

from __future__ import annotations

import numpy as np

from benchmarks.timing import interleaved, rate, ratio_row

SEQ_LEN = 8192


def lengths(n_docs: int, seed: int = 0) -> list[int]:
    from tokenization.packing import pieces

    rng = np.random.default_rng(seed)
    docs = np.minimum(np.maximum(rng.lognormal(np.log(600), 1.3, n_docs).astype(np.int64), 2), 200_000)
    return [n for d in docs.tolist() for _, n in pieces(d, [], SEQ_LEN)]


def concat_cuts(n_docs: int, seed: int = 0) -> tuple[int, int]:
    """What packing avoids: (documents cut by plain concatenate-and-chunk, documents longer
    than a sequence, which any layout must cut), for the same documents."""
    rng = np.random.default_rng(seed)
    docs = np.minimum(np.maximum(rng.lognormal(np.log(600), 1.3, n_docs).astype(np.int64), 2), 200_000)
    ends = np.cumsum(docs)
    starts = ends - docs
    cut = (starts // SEQ_LEN) != ((ends - 1) // SEQ_LEN)  # a chunk boundary falls inside
    return int(cut.sum()), int((docs > SEQ_LEN).sum())


def _padding(bins: list[list[int]], lens: list[int]) -> float:
    return 1 - sum(lens) / (len(bins) * SEQ_LEN)


def run(runs: int = 3, sizes: tuple[int, ...] = (5_000, 20_000)) -> dict:
    from tokenization.packing import best_fit_decreasing, first_fit_decreasing

    per_size, out = {}, {}
    for n in sizes:
        lens = lengths(n)

        def ours(lens=lens, n=n):
            out[("ours", n)] = best_fit_decreasing(lens, SEQ_LEN)

        def ffd(lens=lens, n=n):
            out[("ffd", n)] = first_fit_decreasing(lens, SEQ_LEN)

        per_size[n] = (sum(lens), len(lens), interleaved({"ours": ours, "ffd": ffd}, runs=runs))
    n = max(sizes)
    tokens, n_pieces, times = per_size[n]
    row = ratio_row(times["ffd"], times["ours"])
    pad = {side: _padding(out[(side, n)], lengths(n)) for side in ("ours", "ffd")}
    smaller = []
    for m in sizes[:-1]:
        t_m, p_m, times_m = per_size[m]
        r = ratio_row(times_m["ffd"], times_m["ours"])
        pad_m = {side: _padding(out[(side, m)], lengths(m)) for side in ("ours", "ffd")}
        smaller.append(f"at {m:,} documents ({p_m:,} pieces, {t_m:,} tokens): {r['ratio']:.1f}x "
                       f"({r['ratio_min']:.1f}-{r['ratio_max']:.1f}), padding {pad_m['ours']:.4%} "
                       f"vs {pad_m['ffd']:.4%}")
    assert pad["ours"] <= pad["ffd"]
    return {"name": f"packing {n:,} documents into {SEQ_LEN:,}-token sequences, best-fit-decreasing (segment tree) vs "
                    "first-fit-decreasing in plain Python",
            "ours": rate(tokens / 1e6, times["ours"], "M tokens/s", ",.1f"),
            "baseline": rate(tokens / 1e6, times["ffd"], "M tokens/s", ",.1f"), **row, "target": 1.0,
            "detail": f"{n_pieces:,} pieces, {tokens:,} tokens, {len(out[('ours', n)]):,} sequences; padding "
                      f"{pad['ours']:.4%} (ours) vs {pad['ffd']:.4%} (first fit); documents cut: "
                      f"{concat_cuts(n)[1]:,} (only those longer than a sequence) vs {concat_cuts(n)[0]:,} by "
                      f"concatenate-and-chunk; " + "; ".join(smaller)
                      + f"; {row['runs']} interleaved runs after a warm-up"}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
