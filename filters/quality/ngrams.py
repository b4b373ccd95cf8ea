"""Gopher repetition's n-gram signals: the top n-gram and the duplicated n-grams' character
fractions, grouped exactly level by level over token ids."""

from __future__ import annotations

import math
from collections import Counter
from itertools import accumulate

import numpy as np

from filters.quality.tokenizer import _TOK_LENS


def _find_duplicates(items: list[str]) -> tuple[int, int]:
    seen: set[str] = set()
    n = chars = 0
    for x in items:
        if x in seen:
            n += 1
            chars += len(x)
        else:
            seen.add(x)
    return n, chars


_NUMPY_LEVEL_MIN = 160   # candidates from which a level is grouped with NumPy, not dicts


def _next_level(mp, mg, ids, arr, n: int, base: int):
    """n-grams from (n-1)-grams. `mp`: sorted positions whose (n-1)-gram occurs more than
    once, `mg`: their group ids. An n-gram can only repeat where the (n-1)-grams at p and at
    p+1 both repeat, so only those positions are grouped. Returns the positions whose
    n-gram repeats, their group ids, and (first position, count) of the most frequent
    n-gram that appears first, or None when nothing repeats."""
    if len(mp) >= _NUMPY_LEVEL_MIN:
        mp_a = mp if isinstance(mp, np.ndarray) else np.asarray(mp, dtype=np.int64)
        mg_a = mg if isinstance(mg, np.ndarray) else np.asarray(mg, dtype=np.int64)
        ok = mp_a[1:] == mp_a[:-1] + 1
        cand = mp_a[:-1][ok]
        if not len(cand):
            return None
        keys = mg_a[:-1][ok] * base + arr[cand + (n - 1)]
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        new = np.empty(len(sk), dtype=bool)
        new[0] = True
        np.not_equal(sk[1:], sk[:-1], out=new[1:])
        starts = new.nonzero()[0]
        if len(starts) == len(sk):
            return None
        counts = np.empty(len(starts), dtype=np.int64)
        counts[:-1] = starts[1:] - starts[:-1]
        counts[-1] = len(sk) - starts[-1]
        gid = np.empty(len(sk), dtype=np.int64)
        gid[order] = new.cumsum() - 1
        cnt = counts[gid]
        top_count = int(cnt.max())
        top_p = int(cand[int((cnt == top_count).argmax())])
        keep = cnt > 1
        return cand[keep], gid[keep], (top_p, top_count)
    # Few candidates: dicts. Keys need not be dense here (Python ints do not overflow, and
    # candidate sets only shrink, so no NumPy level follows a dict level).
    if isinstance(mp, np.ndarray):
        mp, mg = mp.tolist(), mg.tolist()
    m1 = n - 1
    cand, keys = [], []
    for p, g, q in zip(mp, mg, mp[1:]):
        if q == p + 1:
            cand.append(p)
            keys.append(g * base + ids[p + m1])
    if not cand:
        return None
    counts = Counter(keys)
    top_count = max(counts.values())
    if top_count == 1:
        return None
    keep = [i for i, k in enumerate(keys) if counts[k] > 1]
    first = next(i for i in keep if counts[keys[i]] == top_count)
    return [cand[i] for i in keep], [keys[i] for i in keep], (cand[first], top_count)


def _greedy_duplicates(pos: list[int], keys: list, cl: list[int], size: int) -> int:
    """datatrove's find_all_duplicate over the positions whose n-gram repeats: left to
    right, an n-gram seen at an earlier visited position counts its characters and the
    scan jumps n positions ahead (positions with a unique n-gram never count, so they are
    left out)."""
    seen: set = set()
    add = seen.add
    rep = nxt = 0
    for p, k in zip(pos, keys):
        if p < nxt:
            continue
        if k in seen:
            rep += cl[p + size] - cl[p]
            nxt = p + size
        else:
            add(k)
    return rep


def _ngram_signals(ids: list[int], text_len: int, top_ns, dup_ns, scale: float,
                   sep: int) -> dict[str, float]:
    """Top n-gram and duplicated n-gram character fractions (GopherRepetitionFilter).

    n-grams are grouped exactly, level by level, as (group of the (n-1)-gram at p, token at
    p+n-1), and only where they can repeat; once nothing repeats nothing longer does. The
    top n-gram is the most frequent one that appears first: Counter.most_common(1) over
    datatrove's " ".join strings picks the same one.
    """
    out: dict[str, float] = {}
    n_tok = len(ids)
    sizes = {n: max(2, math.ceil(n * scale)) for n in (*top_ns, *dup_ns)}
    if not n_tok or not text_len:
        for n in top_ns:
            out[f"gopher_repetition.top_{n}gram"] = 0.0
        for n in dup_ns:
            out[f"gopher_repetition.dup_{n}gram"] = 0.0
        return out
    cl = list(accumulate(map(_TOK_LENS.__getitem__, ids), initial=0))
    base = len(_TOK_LENS) + 1
    if n_tok >= _NUMPY_LEVEL_MIN:
        arr = np.asarray(ids, dtype=np.int64)
        mp, mg = np.arange(n_tok), arr
    else:
        arr, mp, mg = None, range(n_tok), ids
    levels: dict[int, tuple] = {}
    for size in range(2, min(max(sizes.values()), n_tok) + 1):
        res = _next_level(mp, mg, ids, arr, size, base)
        if res is None:
            break
        levels[size] = res
        mp, mg = res[0], res[1]

    for n in top_ns:
        size = sizes[n]
        name = f"gopher_repetition.top_{n}gram"
        if size > n_tok:
            out[name] = 0.0               # no n-grams: datatrove skips the rule
            continue
        lvl = levels.get(size)
        p, count = lvl[2] if lvl is not None else (0, 1)   # all distinct: the first, once
        out[name] = (cl[p + size] - cl[p] + sep * (size - 1)) * count / text_len
    for n in dup_ns:
        size = sizes[n]
        lvl = levels.get(size)
        rep = 0
        if lvl is not None:
            pos, keys = lvl[0], lvl[1]
            if isinstance(pos, np.ndarray):
                pos, keys = pos.tolist(), keys.tolist()
            rep = _greedy_duplicates(pos, keys, cl, size)
        out[f"gopher_repetition.dup_{n}gram"] = rep / text_len
    return out
