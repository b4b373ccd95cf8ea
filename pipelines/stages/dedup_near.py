"""Near-duplicate documents: MinHash LSH, verified candidates, connected components.

Phases, each over the previous one's output:
1. band keys: per Arrow batch, shingles -> signatures -> (id, band, key) rows;
2. candidates: each band bucket links its members to its lowest id (a star, so a bucket
   of m documents gives m-1 edges, never m^2/2);
3. verification (optional): the exact Jaccard similarity of the two shingle sets, or the
   share of equal MinHash values, against `threshold` (only the candidates' fingerprints
   are computed);
4. clusters: connected components of the verified edges; the survivor of each is chosen
   by `order_by`, then id.
Image-text pairs and videos are not judged by their captions here; their own stages do it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from filters.minhash import MinHashParams, band_keys, jaccard, shingle_hashes, signatures
from pipelines.config import DedupConfig
from pipelines.faults import maybe_fail
from pipelines.frames import col, minimum
from pipelines.global_stage import Decision, GlobalStage
from pipelines.schema import caption_documents, document_texts

FINGERPRINTS = pa.schema([("id", pa.string()), ("fp", pa.binary())])
SCORES = pa.schema([("a", pa.string()), ("b", pa.string()), ("score", pa.float64())])


def prose_texts(batch):
    """(ids, texts) of the rows judged by their text (not pairs, not videos, not empty)."""
    ids = batch.column("id").to_pylist()
    keep = [(i, t) for i, t, media in zip(ids, document_texts(batch), caption_documents(batch))
            if t and not media]
    return [i for i, _ in keep], [t for _, t in keep]


def fingerprints(batch, params: MinHashParams, ngram: int, verify: str) -> pa.RecordBatch:
    """(id, fp): the sorted shingle set, or the signature, as bytes."""
    ids, texts = prose_texts(batch)
    hashes, offsets = shingle_hashes(texts, ngram)
    if verify == "signature":
        fps = [row.tobytes() for row in signatures(hashes, offsets, params)]
    else:
        fps = [np.unique(hashes[lo:hi]).tobytes() for lo, hi in zip(offsets[:-1], offsets[1:])]
    return pa.RecordBatch.from_arrays([pa.array(ids, pa.string()), pa.array(fps, pa.binary())], schema=FINGERPRINTS)


def similarity(verify: str, x: bytes, y: bytes) -> float:
    a, b = np.frombuffer(x, dtype=np.uint64), np.frombuffer(y, dtype=np.uint64)
    return float(np.mean(a == b)) if verify == "signature" else jaccard(a, b)


class NearDedup(GlobalStage):
    name = "dedup_near"
    kind = "near"
    reads = ("parts",)
    writes = ("status",)
    key_schema = pa.schema([("id", pa.string()), ("band", pa.int32()), ("key", pa.int64())])

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.params = MinHashParams(cfg.bands, cfg.rows, cfg.seed)
        self.order_by, self.driver_max_rows = cfg.order_by, cfg.driver_max_rows

    def keys(self, batch):
        maybe_fail("dedup")
        ids, texts = prose_texts(batch)
        hashes, offsets = shingle_hashes(texts, self.cfg.ngram)
        has = np.diff(offsets) > 0
        keys = band_keys(signatures(hashes, offsets, self.params), self.params)[has]
        ids = [i for i, h in zip(ids, has) if h]
        bands = self.params.bands
        return pa.RecordBatch.from_arrays(
            [pa.array(np.repeat(np.array(ids, dtype=object), bands), pa.string()),
             pa.array(np.tile(np.arange(bands, dtype=np.int32), len(ids))), pa.array(keys.reshape(-1))],
            schema=self.key_schema)

    def fingerprints(self, batch):
        return fingerprints(batch, self.params, self.cfg.ngram, self.cfg.verify)

    def score(self, batch):
        verify = self.cfg.verify
        x, y = batch.column("x").to_pylist(), batch.column("y").to_pylist()
        values = [similarity(verify, a, b) for a, b in zip(x, y)]
        return pa.RecordBatch.from_arrays([batch.column("a"), batch.column("b"), pa.array(values, pa.float64())],
                                          schema=SCORES)

    def decide(self, keys, scope):
        cfg = self.cfg
        lowest = keys.group(["band", "key"], root=minimum("id"))
        cand = scope.materialize(keys.join(lowest, ["band", "key"]).where(col("id") != col("root"))
                                 .select(a="root", b="id").distinct(), "near_candidates")
        n_cand = cand.count()
        edges = cand
        if cfg.verify != "none" and n_cand:
            ids = cand.select(id="a").union(cand.select(id="b")).distinct()
            fps = scope.from_docs(ids, self.fingerprints, FINGERPRINTS)
            pairs = (cand.join(fps.select(a="id", x="fp"), "a").join(fps.select(b="id", y="fp"), "b")
                     .select("a", "b", "x", "y"))
            edges = scope.materialize(pairs.map(self.score, SCORES).where(col("score") >= cfg.threshold)
                                      .select("a", "b"), "near_edges")
        labels, cc = scope.components(edges)
        return Decision(clusters=labels, stats={
            "candidate_pairs": n_cand, "verified_pairs": edges.count() if n_cand else 0, **cc,
            "verify": cfg.verify, "threshold": cfg.threshold if cfg.verify != "none" else None})
