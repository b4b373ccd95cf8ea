"""Near-duplicate documents: MinHash LSH, verified candidates, connected components.

Phases, each a Spark step over the previous one's output:
1. band keys: per Arrow batch, shingles -> signatures -> (id, band, key) rows;
2. candidates: each band bucket links its members to its lowest id (a star, so a bucket
   of m documents gives m-1 edges, never m^2/2);
3. verification (optional): the exact Jaccard similarity of the two shingle sets, or the
   share of equal MinHash values, against `threshold`;
4. clusters: connected components of the verified edges; the survivor of each is chosen
   by `order_by`, then id.
Image-text pairs and videos are not judged by their captions here; their own stages do it.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from pyspark.sql import functions as F

from filters.minhash import MinHashParams, band_keys, jaccard, shingle_hashes, signatures
from pipelines.checkpoint import materialize
from pipelines.clusters import cluster_frames, components, mark, score_pairs, small_table, survivors
from pipelines.config import DedupConfig
from pipelines.faults import maybe_fail
from pipelines.schema import KEEP, caption_documents, document_texts
from pipelines.stage import Stage


def prose_texts(batch):
    """(ids, texts) of the rows judged by their text (not pairs, not videos, not empty)."""
    ids = batch.column("id").to_pylist()
    keep = [(i, t) for i, t, media in zip(ids, document_texts(batch), caption_documents(batch))
            if t and not media]
    return [i for i, _ in keep], [t for _, t in keep]


def _band_rows(params: MinHashParams, ngram: int):
    def run(batches):
        import pyarrow as pa

        for batch in batches:
            maybe_fail("dedup")
            ids, texts = prose_texts(batch)
            hashes, offsets = shingle_hashes(texts, ngram)
            has = np.diff(offsets) > 0
            keys = band_keys(signatures(hashes, offsets, params), params)[has]
            ids = [i for i, h in zip(ids, has) if h]
            yield pa.RecordBatch.from_arrays(
                [pa.array(np.repeat(np.array(ids, dtype=object), params.bands), pa.string()),
                 pa.array(np.tile(np.arange(params.bands, dtype=np.int32), len(ids))),
                 pa.array(keys.reshape(-1))],
                names=["id", "band", "key"])
    return run


def _fingerprints(params: MinHashParams, ngram: int, verify: str):
    """(id, fp): the sorted shingle set, or the signature, as bytes."""
    def run(batches):
        import pyarrow as pa

        for batch in batches:
            ids, texts = prose_texts(batch)
            hashes, offsets = shingle_hashes(texts, ngram)
            if verify == "signature":
                sig = signatures(hashes, offsets, params)
                fps = [row.tobytes() for row in sig]
            else:
                fps = [np.unique(hashes[lo:hi]).tobytes() for lo, hi in zip(offsets[:-1], offsets[1:])]
            yield pa.RecordBatch.from_arrays([pa.array(ids, pa.string()), pa.array(fps, pa.binary())],
                                             names=["id", "fp"])
    return run


def similarity(verify: str, x: bytes, y: bytes) -> float:
    a, b = np.frombuffer(x, dtype=np.uint64), np.frombuffer(y, dtype=np.uint64)
    return float(np.mean(a == b)) if verify == "signature" else jaccard(a, b)


class NearDedup(Stage):
    name = "dedup_near"
    reads = ("id", "parts", "status")
    writes = ("status",)

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.params = MinHashParams(cfg.bands, cfg.rows, cfg.seed)
        self.clusters = None  # (id, root, survivor) after apply, for the report
        self.local_clusters = None  # the same rows as an Arrow table, when decided on the driver
        self.stats: dict = {}

    def candidates(self, bands):
        lowest = bands.groupBy("band", "key").agg(F.min("id").alias("root"))
        return (bands.join(lowest, ["band", "key"]).filter(F.col("id") != F.col("root"))
                .select(F.col("root").alias("a"), F.col("id").alias("b")).distinct())

    def verified(self, kept, cand):
        if self.cfg.verify == "none":
            return cand.withColumn("score", F.lit(None).cast("double"))
        ids = cand.select(F.col("a").alias("id")).union(cand.select(F.col("b").alias("id"))).distinct()
        fps = (kept.join(ids, "id", "left_semi")
               .mapInArrow(_fingerprints(self.params, self.cfg.ngram, self.cfg.verify), "id string, fp binary"))
        pairs = (cand.join(fps.select(F.col("id").alias("a"), F.col("fp").alias("x")), "a")
                 .join(fps.select(F.col("id").alias("b"), F.col("fp").alias("y")), "b"))
        sims = score_pairs(pairs, partial(similarity, self.cfg.verify))
        return sims.filter(F.col("score") >= self.cfg.threshold)

    def apply(self, df):
        self.local_clusters = None
        kept = df.filter(F.col("status") == KEEP).select("id", "parts")
        bands = kept.mapInArrow(_band_rows(self.params, self.cfg.ngram), "id string, band int, key long")
        local = small_table(bands, self.cfg.driver_max_rows)
        if local is not None:
            self.clusters, self.local_clusters = cluster_frames(
                df, self._on_driver(kept, local), self.cfg.order_by, "near_clusters")
        else:
            self.clusters = materialize(survivors(self._in_spark(kept, bands), df, self.cfg.order_by),
                                        "near_clusters")
        return mark(df, self.clusters.filter(~F.col("survivor")), f"{self.name}:duplicate")

    def _stats(self, cand: int, verified: int, rounds: int, where: str) -> None:
        self.stats = {"candidate_pairs": cand, "verified_pairs": verified, "cc_rounds": rounds,
                      "cc_on": where, "verify": self.cfg.verify,
                      "threshold": self.cfg.threshold if self.cfg.verify != "none" else None}

    def _in_spark(self, kept, bands):
        cand = materialize(self.candidates(bands), "near_candidates")
        edges = materialize(self.verified(kept, cand), "near_edges")
        comp = components(edges.select("a", "b"), self.cfg.driver_max_rows)
        self._stats(cand.count(), edges.count(), comp.rounds, comp.where)
        return comp.labels

    def _on_driver(self, kept, table):
        """The band rows were few: candidates, verification and clusters in this process;
        only the candidates' fingerprints are computed by Spark. -> (node, root) pairs."""
        import pyarrow as pa

        from filters.components import components as local_components

        cand = candidates_local(table)
        edges = sorted(cand)
        if cand and self.cfg.verify != "none":
            ids = pa.table({"id": pa.array(sorted({x for pair in cand for x in pair}), pa.string())})
            wanted = kept.join(kept.sparkSession.createDataFrame(ids, "id string"), "id", "left_semi")
            fps = wanted.mapInArrow(_fingerprints(self.params, self.cfg.ngram, self.cfg.verify),
                                    "id string, fp binary").toArrow()
            fp = dict(zip(fps.column("id").to_pylist(), fps.column("fp").to_pylist()))
            edges = [(a, b) for a, b in edges
                     if similarity(self.cfg.verify, fp[a], fp[b]) >= self.cfg.threshold]
        self._stats(len(cand), len(edges), 0, "driver")
        return local_components(edges).items()


def candidates_local(bands) -> set[tuple[str, str]]:
    """Band rows (id, band, key) -> the Spark path's candidate pairs: each bucket links its
    members to its lowest id."""
    from collections import defaultdict

    buckets = defaultdict(list)
    for i, band, key in zip(bands.column("id").to_pylist(), bands.column("band").to_pylist(),
                            bands.column("key").to_pylist()):
        buckets[(band, key)].append(i)
    cand = set()
    for members in buckets.values():
        root = min(members)
        cand.update((root, i) for i in members if i != root)
    return cand
