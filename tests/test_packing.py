"""Sequence packing without Spark: pieces, best fit with the segment tree, chains, and the
packed writer's memory on long sequences."""

import io
import json
import random
import tarfile
import tracemalloc

import numpy as np
import pyarrow as pa
import pytest

from pipelines.config import ImagesConfig, LongContextConfig
from pipelines.stages.pack import write_packed_partition
from pipelines.stages.tokenize import TOKENS_ARROW
from tokenization.packing import (
    BestFit,
    ImageTooLong,
    best_fit_decreasing,
    chains,
    first_fit_decreasing,
    pieces,
    plan,
)


def test_the_papers_example():
    """Ding et al.: seq_len 8, lengths [8, 6, 6, 4, 3] -> [0], [1], [2], [3, 4]; then a 2 goes
    to bin 1 (least room that fits, the older of the two bins with room 2) and a 3 opens bin 4."""
    assert best_fit_decreasing([8, 6, 6, 4, 3], 8) == [[0], [1], [2], [3, 4]]
    packer = BestFit(8)
    assert [packer.add(n) for n in (8, 6, 6, 4, 3)] == [0, 1, 2, 3, 3]
    assert packer.add(2) == 1
    assert packer.add(3) == 4
    assert packer.room == [0, 0, 2, 1, 5]


def _best_fit_by_scan(lengths, capacity):
    """Best fit the slow, obvious way: every bin looked at for every piece."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    rooms, bins = [], []
    for i in order:
        fits = [(room, b) for b, room in enumerate(rooms) if room >= lengths[i]]
        if fits:
            _, b = min(fits)
            rooms[b] -= lengths[i]
            bins[b].append(i)
        else:
            rooms.append(capacity - lengths[i])
            bins.append([i])
    return bins


@pytest.mark.parametrize("seed", range(40))
def test_segment_tree_places_every_piece_as_a_full_scan_would(seed):
    r = random.Random(seed)
    capacity = r.choice([1, 7, 64, 1000, 8192])
    lengths = [r.randint(1, capacity) for _ in range(r.randint(0, 300))]
    assert best_fit_decreasing(lengths, capacity) == _best_fit_by_scan(lengths, capacity)


def test_padding_is_never_worse_than_first_fit_decreasing_on_random_lengths():
    for seed in range(200):
        r = random.Random(seed)
        capacity = r.choice([8, 64, 512, 2048, 8192])
        lengths = [r.randint(1, capacity) for _ in range(r.randint(1, 400))]
        ours, ffd = len(best_fit_decreasing(lengths, capacity)), len(first_fit_decreasing(lengths, capacity))
        assert ours <= ffd, (seed, ours, ffd)


def test_pieces_cover_the_stream_and_never_cut_an_image():
    assert pieces(20, [], 8) == [(0, 8), (8, 8), (16, 4)]
    assert pieces(8, [], 8) == [(0, 8)]
    # The cut at 8 would split the image at 5..9: the piece ends before it.
    assert pieces(20, [(5, 4), (14, 6)], 8) == [(0, 5), (5, 8), (13, 7)]
    assert pieces(16, [(0, 8), (8, 8)], 8) == [(0, 8), (8, 8)]
    with pytest.raises(ImageTooLong):
        pieces(30, [(2, 9)], 8)


@pytest.mark.parametrize("seed", range(25))
def test_fragment_mode_keeps_every_token_once_and_images_whole(seed):
    r = random.Random(seed)
    seq_len = r.choice([16, 100, 300])
    lengths, spans = [], []
    for _ in range(r.randint(1, 60)):
        n, at, doc_spans = r.randint(2, 4 * seq_len), 1, []
        while at < n - 1 and r.random() < 0.6:
            start = r.randint(at, n - 2)
            length = min(r.randint(1, seq_len + 2), n - 1 - start)
            if length >= 1:
                doc_spans.append((start, length))
            at = start + length
        lengths.append(n)
        spans.append(doc_spans)
    sequences, rejected = plan(lengths, spans, seq_len)
    assert rejected == [u for u, s in enumerate(spans) if any(n > seq_len for _, n in s)]
    covered = {u: np.zeros(n, dtype=int) for u, n in enumerate(lengths) if u not in rejected}
    for seq in sequences:
        assert 0 < sum(p.length for p in seq) <= seq_len
        for p in seq:
            covered[p.unit][p.start:p.start + p.length] += 1
            for s, n in spans[p.unit]:
                assert s + n <= p.start or s >= p.start + p.length or p.start <= s < s + n <= p.start + p.length
    assert all((c == 1).all() for c in covered.values())
    assert plan(lengths, spans, seq_len) == (sequences, rejected)  # deterministic


def test_chains_join_one_group_in_order_up_to_the_limit():
    groups = ["a", "a", "a", "b", "b", "c"]
    assert chains(groups, [5, 4, 3, 9, 2, 20], 10) == [[0, 1], [2], [3], [4], [5]]
    assert chains(groups, [1, 1, 1, 1, 1, 1], 10) == [[0, 1, 2], [3, 4], [5]]
    assert chains([], [], 10) == []


def _text_batches(n_docs: int, doc_tokens: int, partition: int = 0):
    """Arrow batches as the tokenize stage gives them, one text document each, made on demand."""
    rng = np.random.default_rng(0)
    for i in range(n_docs):
        ids = rng.integers(0, 50_000, doc_tokens, dtype=np.uint32)
        tokens = pa.array([ids.tobytes()], pa.binary())
        cols = {"id": [f"doc{i:04d}"], "source": ["books"], "uri": [f"file:///b/{i}"], "lang": ["eng_Latn"],
                "lang_score": [0.99], "signals": [[("len", float(doc_tokens))]], "n_tokens": [doc_tokens],
                "images": [[]], "image_meta": ["[]"], "modality": ["text"]}
        arrays = [tokens if f.name == "tokens" else pa.array(cols[f.name], f.type) for f in TOKENS_ARROW]
        batch = pa.RecordBatch.from_arrays(arrays, schema=TOKENS_ARROW)
        yield batch.append_column("_partition", pa.array([partition], pa.int32()))


def test_a_million_token_sequence_is_built_with_one_sequence_in_memory(tmp_path):
    """40 documents of 300,000 tokens (48 MB of tokens) into sequences of 2^20: the writer's
    Python memory peaks near two sequences (4 MiB of tokens each), not the partition."""
    seq_len = 1 << 20
    # Once small first, so modules imported on first use are not counted.
    list(write_packed_partition(_text_batches(2, 10), str(tmp_path / "warm"), "w", 10, 1 << 30, ImagesConfig(),
                                64, 7, LongContextConfig(), None))
    tracemalloc.start()
    try:
        rows = list(write_packed_partition(_text_batches(40, 300_000), str(tmp_path), "long", 1000, 1 << 30,
                                           ImagesConfig(), seq_len, 7, LongContextConfig(), None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One sequence being built (4 MiB), the previous one still being hashed, an input batch.
    assert peak < 20 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    infos = rows[0].to_pylist()
    shard = [i for i in infos if i["name"]][0]
    assert shard["tokens"] == 40 * 300_000 and shard["documents"] == 40 and shard["samples"] == 14  # 3 a sequence
    with tarfile.open(tmp_path / shard["name"]) as tar:
        names = tar.getnames()
        first = json.loads(tar.extractfile(names[1]).read())
        tokens = np.load(io.BytesIO(tar.extractfile(names[3]).read()))
    assert names[:4] == ["p00000_s0000000.cu_seqlens.npy", "p00000_s0000000.json", "p00000_s0000000.tiles.npy",
                         "p00000_s0000000.tokens.npy"]
    assert tokens.shape == (seq_len,) and first["seq_len"] == seq_len
    assert sum(d["length"] for d in first["documents"]) == first["n_tokens"] == seq_len - first["padding"]
