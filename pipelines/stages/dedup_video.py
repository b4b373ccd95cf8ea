"""Video dedup: videos whose sequences of frame hashes match are copies of one video.

Frames are sampled at fixed times (`video.fps`), so the i-th frames of two copies of a
video (re-encoded, rescaled, another container) show the same picture and their 64-bit
difference hashes differ in few bits. Candidates share a 16-bit band of the hash at the
same frame index among the first frames (flat, near-uniform frames such as black intros
carry no information and are not used as keys); a candidate is a duplicate when
`video_min_match` of the longer sequence's frames match within `video_max_hamming` bits.
"""

from __future__ import annotations

from functools import partial

from pyspark.sql import functions as F

from pipelines.checkpoint import materialize
from pipelines.clusters import cluster_frames, components, mark, score_pairs, small_table, survivors
from pipelines.config import DedupConfig
from pipelines.schema import KEEP
from pipelines.stage import Stage

KEY_FRAMES = 16
BAND_BITS = 16


def _sequences(batches):
    import pyarrow as pa

    from vision_prep.phash import to_signed

    for batch in batches:
        ids, seqs = [], []
        for doc_id, parts in zip(batch.column("id").to_pylist(), batch.column("parts").to_pylist()):
            hashes = [dict(p["meta"] or []).get("dhash") for p in parts if p["kind"] == "frame"]
            hashes = [to_signed(int(h, 16)) for h in hashes if h]
            if hashes:
                ids.append(doc_id)
                seqs.append(hashes)
        yield pa.RecordBatch.from_arrays([pa.array(ids, pa.string()), pa.array(seqs, pa.list_(pa.int64()))],
                                         names=["id", "hashes"])


M64 = (1 << 64) - 1


def candidates_local(seqs: dict[str, list[int]]) -> set[tuple[str, str]]:
    """The Spark path's candidate pairs (a < b), in one process: videos sharing a 16-bit band
    of an informative hash at the same frame index among the first KEY_FRAMES."""
    from collections import defaultdict

    buckets = defaultdict(list)
    for doc_id, hashes in seqs.items():
        for i, h in enumerate(hashes[:KEY_FRAMES]):
            u = h & M64
            if 8 <= u.bit_count() <= 56:
                for b in range(64 // BAND_BITS):
                    buckets[(i, b, (u >> (b * BAND_BITS)) & ((1 << BAND_BITS) - 1))].append(doc_id)
    return {(x, y) for members in buckets.values() for x in members for y in members if x < y}


def sequence_match(a: list[int], b: list[int], max_hamming: int) -> float:
    """Share of frames (of the longer sequence) whose aligned hashes are within the distance."""
    if not a or not b:
        return 0.0
    close = sum(((x ^ y) & 0xFFFFFFFFFFFFFFFF).bit_count() <= max_hamming for x, y in zip(a, b))
    return close / max(len(a), len(b))


class VideoDedup(Stage):
    name = "dedup_video"
    reads = ("id", "parts", "status")
    writes = ("status",)

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.clusters = None
        self.local_clusters = None  # the clusters' rows as an Arrow table, when decided on the driver
        self.stats: dict = {}

    def apply(self, df):
        self.local_clusters = None
        kept = df.filter(F.col("status") == KEEP).select("id", "parts")
        seqs = materialize(kept.mapInArrow(_sequences, "id string, hashes array<bigint>"), "video_sequences")
        local = small_table(seqs, self.cfg.driver_max_rows)
        if local is not None:
            self.clusters, self.local_clusters = cluster_frames(
                df, self._on_driver(seqs, local), self.cfg.order_by, "video_clusters")
        else:
            self.clusters = materialize(survivors(self._in_spark(seqs), df, self.cfg.order_by), "video_clusters")
        return mark(df, self.clusters.filter(~F.col("survivor")), f"{self.name}:duplicate")

    def _in_spark(self, seqs):
        frames = seqs.select("id", F.posexplode(F.slice("hashes", 1, KEY_FRAMES)).alias("i", "h"))
        informative = F.bit_count("h").between(8, 56)
        keys = frames.filter(informative).select(
            "id", "i", F.explode(F.array(*[F.struct(F.lit(b).alias("band"),
                                                    F.shiftrightunsigned("h", b * BAND_BITS)
                                                    .bitwiseAND(F.lit((1 << BAND_BITS) - 1).cast("long")).alias("key"))
                                          for b in range(64 // BAND_BITS)])).alias("k")).select("id", "i", "k.*")
        x, y = keys.alias("x"), keys.alias("y")
        cand = (x.join(y, ["i", "band", "key"]).filter(F.col("x.id") < F.col("y.id"))
                .select(F.col("x.id").alias("a"), F.col("y.id").alias("b")).distinct())
        pairs = (cand.join(seqs.select(F.col("id").alias("a"), F.col("hashes").alias("x")), "a")
                 .join(seqs.select(F.col("id").alias("b"), F.col("hashes").alias("y")), "b"))
        score = partial(sequence_match, max_hamming=self.cfg.video_max_hamming)
        matched = materialize(score_pairs(pairs, score).filter(F.col("score") >= self.cfg.video_min_match),
                              "video_edges")
        comp = components(matched.select("a", "b"), self.cfg.driver_max_rows)
        self.stats = {"videos": seqs.count(), "candidate_pairs": cand.count(), "verified_pairs": matched.count(),
                      "cc_rounds": comp.rounds, "cc_on": comp.where, "max_hamming": self.cfg.video_max_hamming,
                      "min_match": self.cfg.video_min_match}
        return comp.labels

    def _on_driver(self, seqs, table):
        from filters.components import components as local_components

        seq = dict(zip(table.column("id").to_pylist(), table.column("hashes").to_pylist()))
        cand = candidates_local(seq)
        edges = [(a, b) for a, b in sorted(cand)
                 if sequence_match(seq[a], seq[b], self.cfg.video_max_hamming) >= self.cfg.video_min_match]
        self.stats = {"videos": len(seq), "candidate_pairs": len(cand), "verified_pairs": len(edges),
                      "cc_rounds": 0, "cc_on": "driver", "max_hamming": self.cfg.video_max_hamming,
                      "min_match": self.cfg.video_min_match}
        return local_components(edges).items()

