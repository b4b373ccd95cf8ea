"""Sequence packing (docs/stages/packing.md): token streams cut into pieces of at most
`seq_len` tokens, never inside an image's token block, and packed best-fit-decreasing
(Ding et al. 2024, "Fewer Truncations Improve Language Modeling") into sequences.

Pure functions over lengths and spans; the shard writer (pipelines/stages/pack.py) applies
the plan to the tokens. Best fit picks, for each piece in decreasing length, the open
sequence with the least room that still holds it (ties to the oldest sequence); a segment
tree over room sizes finds it in O(log seq_len), so a plan costs O(n log n) for n pieces.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_SEQ_LEN = 1 << 28  # cu_seqlens are int32; well beyond any context length in use


class ImageTooLong(ValueError):
    """An image's token block is longer than a whole sequence: it cannot be packed unsplit."""


def pieces(n_tokens: int, spans: Sequence[tuple[int, int]], seq_len: int) -> list[tuple[int, int]]:
    """(start, length) pieces of a stream of `n_tokens` covering it exactly, each at most
    `seq_len` long and as long as possible, never cutting through a span (an image's
    `<|image_start|>`..`<|image_end|>` block, as (start, length) in stream order)."""
    longest = max((length for _, length in spans), default=0)
    if longest > seq_len:
        raise ImageTooLong(f"an image of {longest} tokens does not fit in a sequence of {seq_len}")
    starts = [s for s, _ in spans]
    out, start = [], 0
    while n_tokens - start > seq_len:
        end = start + seq_len
        i = bisect_left(starts, end) - 1  # the last span starting before the cut
        if i >= 0 and starts[i] > start and starts[i] + spans[i][1] > end:
            end = starts[i]  # the cut would split this image: cut before it
        out.append((start, end - start))
        start = end
    out.append((start, n_tokens - start))
    return out


class BestFit:
    """Open sequences of `capacity` tokens; `add(n)` places n tokens in the one with the
    least room that still fits them (the oldest among equals), or opens a new one.

    The tree holds, per room size r in 0..capacity, whether some sequence has exactly r
    tokens of room; finding the smallest r >= n with one is a walk up and down the tree.
    """

    def __init__(self, capacity: int):
        if not 1 <= capacity <= MAX_SEQ_LEN:
            raise ValueError(f"sequence length must be 1..{MAX_SEQ_LEN}, got {capacity}")
        self.capacity = capacity
        size = 1
        while size < capacity + 1:
            size <<= 1
        self._size = size
        self._tree = bytearray(2 * size)
        self._by_room: dict[int, list[int]] = {}
        self.room: list[int] = []

    def _mark(self, room: int, present: bool) -> None:
        i = room + self._size
        tree = self._tree
        tree[i] = present
        i >>= 1
        while i:
            v = tree[2 * i] | tree[2 * i + 1]
            if tree[i] == v:
                break
            tree[i] = v
            i >>= 1

    def _smallest_room(self, n: int) -> int:
        """The smallest room >= n some open sequence has, or -1."""
        tree, size = self._tree, self._size
        i = n + size
        if tree[i]:
            return n
        while True:
            if not i & 1 and tree[i + 1]:
                i += 1
                break
            i >>= 1
            if i <= 1:
                return -1
        while i < size:
            i = 2 * i if tree[2 * i] else 2 * i + 1
        return i - size

    def add(self, n: int) -> int:
        if not 0 < n <= self.capacity:
            raise ValueError(f"a piece of {n} tokens does not fit a sequence of {self.capacity}")
        room = self._smallest_room(n)
        if room < 0:
            seq, room = len(self.room), self.capacity
            self.room.append(room)
        else:
            heap = self._by_room[room]
            seq = heapq.heappop(heap)
            if not heap:
                del self._by_room[room]
                self._mark(room, False)
        left = room - n
        self.room[seq] = left
        if left:
            heap = self._by_room.get(left)
            if heap is None:
                self._by_room[left] = [seq]
                self._mark(left, True)
            else:
                heapq.heappush(heap, seq)
        return seq


def best_fit_decreasing(lengths: Sequence[int] | np.ndarray, capacity: int) -> list[list[int]]:
    """Indices of `lengths` per sequence, in the order sequences were opened; within one,
    in the order placed. Longest first; equal lengths in index order (deterministic)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    packer = BestFit(capacity)
    bins: list[list[int]] = []
    for i, n in zip(order.tolist(), lengths[order].tolist()):
        seq = packer.add(n)
        if seq == len(bins):
            bins.append([i])
        else:
            bins[seq].append(i)
    return bins


def first_fit_decreasing(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """The plain-Python reference: each piece, longest first, into the first sequence with
    room. Kept for tests and as the benchmark's baseline."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    rooms: list[int] = []
    bins: list[list[int]] = []
    for i in order:
        n = lengths[i]
        for b, room in enumerate(rooms):
            if room >= n:
                rooms[b] -= n
                bins[b].append(i)
                break
        else:
            rooms.append(capacity - n)
            bins.append([i])
    return bins


def chains(groups: Sequence[str], lengths: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Consecutive documents of one group joined up to `max_tokens` (a long-context stage's
    concatenation): indices in the given order, a new chain when the group changes or the
    next document would pass `max_tokens`. A document longer than that is a chain alone."""
    out: list[list[int]] = []
    total, last = 0, None
    for i, (g, n) in enumerate(zip(groups, lengths)):
        if out and g == last and total + n <= max_tokens:
            out[-1].append(i)
            total += n
        else:
            out.append([i])
            total = n
        last = g
    return out


@dataclass(frozen=True)
class Piece:
    """Tokens [start, start + length) of unit `unit`, its piece `part` of `parts`."""

    unit: int
    start: int
    length: int
    part: int
    parts: int


def plan(unit_lengths: Sequence[int], unit_spans: Sequence[Sequence[tuple[int, int]]],
         seq_len: int) -> tuple[list[list[Piece]], list[int]]:
    """Units (documents, or chains of them) -> (sequences of pieces, units rejected because
    an image block is longer than `seq_len`)."""
    all_pieces: list[Piece] = []
    rejected: list[int] = []
    for u, (n, spans) in enumerate(zip(unit_lengths, unit_spans)):
        try:
            cut = pieces(int(n), spans, seq_len)
        except ImageTooLong:
            rejected.append(u)
            continue
        all_pieces += [Piece(u, s, length, k, len(cut)) for k, (s, length) in enumerate(cut)]
    bins = best_fit_decreasing([p.length for p in all_pieces], seq_len)
    return [[all_pieces[i] for i in b] for b in bins], rejected
