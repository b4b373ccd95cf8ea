"""Video dedup: videos whose sequences of frame hashes match are copies of one video.

Frames are sampled at fixed times (`video.fps`), so the i-th frames of two copies of a
video (re-encoded, rescaled, another container) show the same picture and their 64-bit
difference hashes differ in few bits. Candidates share a 16-bit band of the hash at the
same frame index among the first frames (flat, near-uniform frames such as black intros
carry no information and are not used as keys); a candidate is a duplicate when
`video_min_match` of the longer sequence's frames match within `video_max_hamming` bits.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.config import DedupConfig
from pipelines.frames import col
from pipelines.global_stage import Decision, GlobalStage
from vision_prep.hashes import to_signed

KEY_FRAMES = 16
BAND_BITS = 16
FRAME_KEYS = pa.schema([("id", pa.string()), ("i", pa.int32()), ("band", pa.int32()), ("key", pa.int64())])
SCORES = pa.schema([("a", pa.string()), ("b", pa.string()), ("score", pa.float64())])


def sequence_match(a: list[int], b: list[int], max_hamming: int) -> float:
    """Share of frames (of the longer sequence) whose aligned hashes are within the distance."""
    if not a or not b:
        return 0.0
    close = sum(((x ^ y) & 0xFFFFFFFFFFFFFFFF).bit_count() <= max_hamming for x, y in zip(a, b))
    return close / max(len(a), len(b))


def frame_keys(batch: pa.RecordBatch) -> pa.RecordBatch:
    """(id, hashes) -> (id, frame index, band, 16-bit key) for the informative hashes among
    each video's first KEY_FRAMES frames."""
    ids, idx, bands, keys = [], [], [], []
    n_bands = 64 // BAND_BITS
    for doc_id, hashes in zip(batch.column("id").to_pylist(), batch.column("hashes").to_pylist()):
        for i, h in enumerate(hashes[:KEY_FRAMES]):
            u = h & 0xFFFFFFFFFFFFFFFF
            if 8 <= u.bit_count() <= 56:
                for b in range(n_bands):
                    ids.append(doc_id)
                    idx.append(i)
                    bands.append(b)
                    keys.append((u >> (b * BAND_BITS)) & ((1 << BAND_BITS) - 1))
    return pa.RecordBatch.from_arrays([pa.array(ids, pa.string()), pa.array(idx, pa.int32()),
                                       pa.array(bands, pa.int32()), pa.array(np.array(keys, dtype=np.int64))],
                                      schema=FRAME_KEYS)


class VideoDedup(GlobalStage):
    name = "dedup_video"
    kind = "video"
    reads = ("parts",)
    writes = ("status",)
    key_schema = pa.schema([("id", pa.string()), ("hashes", pa.list_(pa.int64()))])

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.order_by, self.driver_max_rows = cfg.order_by, cfg.driver_max_rows

    def keys(self, batch):
        """(id, frame hashes in time order) of each document with sampled frames."""
        ids, seqs = [], []
        for doc_id, parts in zip(batch.column("id").to_pylist(), batch.column("parts").to_pylist()):
            hashes = [dict(p["meta"] or []).get("dhash") for p in parts if p["kind"] == "frame"]
            hashes = [to_signed(int(h, 16)) for h in hashes if h]
            if hashes:
                ids.append(doc_id)
                seqs.append(hashes)
        return pa.RecordBatch.from_arrays([pa.array(ids, pa.string()), pa.array(seqs, pa.list_(pa.int64()))],
                                          schema=self.key_schema)

    def score(self, batch):
        k = self.cfg.video_max_hamming
        x, y = batch.column("x").to_pylist(), batch.column("y").to_pylist()
        return pa.RecordBatch.from_arrays(
            [batch.column("a"), batch.column("b"), pa.array([sequence_match(p, q, k) for p, q in zip(x, y)],
                                                            pa.float64())], schema=SCORES)

    def decide(self, seqs, scope):
        cfg = self.cfg
        fk = seqs.map(frame_keys, FRAME_KEYS)
        cand = scope.materialize(
            fk.select("i", "band", "key", a="id").join(fk.select("i", "band", "key", b="id"), ["i", "band", "key"])
            .where(col("a") < col("b")).select("a", "b").distinct(), "video_candidates")
        pairs = (cand.join(seqs.select(a="id", x="hashes"), "a").join(seqs.select(b="id", y="hashes"), "b")
                 .select("a", "b", "x", "y"))
        matched = scope.materialize(pairs.map(self.score, SCORES).where(col("score") >= cfg.video_min_match)
                                    .select("a", "b"), "video_edges")
        labels, cc = scope.components(matched)
        return Decision(clusters=labels, stats={
            "videos": seqs.count(), "candidate_pairs": cand.count(), "verified_pairs": matched.count(), **cc,
            "max_hamming": cfg.video_max_hamming, "min_match": cfg.video_min_match})
