"""Image dedup: exact and perceptual duplicates, and images repeated across many documents.

Nodes are image contents (sha1 of the bytes). Two contents are near-duplicates when their
64-bit perceptual hashes are within `image_max_hamming` bits: the hash is cut into
max_hamming + 1 bands, so such a pair agrees exactly on at least one band (pigeonhole) and
only contents sharing a band are compared. Connected components give image clusters, each
named by its lowest sha1.

- A cluster found in more than `image_max_docs` documents (logos, icons, buttons, share
  widgets) is removed from every document: the part stays with `meta.dropped =
  frequent_image` so the drop is counted, and an image-text pair left without its picture
  is rejected.
- Among image-text pairs (one picture, only captions), one pair per image cluster survives.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.config import DedupConfig
from pipelines.frames import coalesce, col, count, count_distinct, hamming, minimum
from pipelines.global_stage import Decision, GlobalStage
from pipelines.schema import caption_documents
from vision_prep.hashes import to_signed

FREQUENT = "frequent_image"
BANDED = pa.schema([("sha1", pa.string()), ("phash", pa.int64()), ("band", pa.int32()), ("key", pa.int64())])


def band_widths(max_hamming: int) -> list[tuple[int, int]]:
    """(bit offset, width) of max_hamming + 1 bands covering the 64 bits."""
    n = max_hamming + 1
    widths = [64 // n + (1 if b < 64 % n else 0) for b in range(n)]
    offsets = [sum(widths[:b]) for b in range(n)]
    return list(zip(offsets, widths))


def banded(batch: pa.RecordBatch, max_hamming: int) -> pa.RecordBatch:
    """(sha1, phash) -> one row per band of each hash: (sha1, phash, band, key)."""
    ph = batch.column("phash").to_numpy(zero_copy_only=False).astype(np.int64).view(np.uint64)
    bands = band_widths(max_hamming)
    n = len(ph)
    keys = np.empty((n, len(bands)), dtype=np.int64)
    for b, (off, w) in enumerate(bands):
        keys[:, b] = ((ph >> np.uint64(off)) & np.uint64((1 << w) - 1)).astype(np.int64)
    idx = pa.array(np.repeat(np.arange(n), len(bands)))
    return pa.RecordBatch.from_arrays(
        [batch.column("sha1").take(idx), batch.column("phash").take(idx),
         pa.array(np.tile(np.arange(len(bands), dtype=np.int32), n)), pa.array(keys.reshape(-1))], schema=BANDED)


class ImageDedup(GlobalStage):
    name = "dedup_images"
    kind = "images"
    reads = ("parts",)
    writes = ("parts", "status")
    key_schema = pa.schema([("id", pa.string()), ("pos", pa.int32()), ("sha1", pa.string()),
                            ("phash", pa.int64()), ("pair", pa.bool_())])

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.order_by, self.driver_max_rows = cfg.order_by, cfg.driver_max_rows

    def keys(self, batch):
        """One row per usable image (decoded, hashed) of each document; `pair` marks the
        picture of an image-text pair."""
        parts = batch.column("parts")
        offsets = parts.offsets.to_numpy()
        flat = parts.flatten()
        kinds = flat.field("kind").to_pylist()
        meta = flat.field("meta")
        sha1 = pc.map_lookup(meta, "sha1", "first").to_pylist()
        phash = pc.map_lookup(meta, "phash", "first").to_pylist()
        ids = batch.column("id").to_pylist()
        rows: dict[str, list] = {"id": [], "pos": [], "sha1": [], "phash": [], "pair": []}
        base = offsets[0]
        for i, is_pair in enumerate(caption_documents(batch)):
            lo, hi = offsets[i] - base, offsets[i + 1] - base
            usable = [j for j in range(lo, hi) if kinds[j] == "image" and sha1[j] and phash[j]]
            for j in usable:
                rows["id"].append(ids[i])
                rows["pos"].append(j - lo)
                rows["sha1"].append(sha1[j])
                rows["phash"].append(to_signed(int(phash[j], 16)))
                rows["pair"].append(bool(is_pair and len(usable) == 1))
        return pa.RecordBatch.from_pydict(rows, schema=self.key_schema)

    def bands(self, batch):
        return banded(batch, self.cfg.image_max_hamming)

    def decide(self, rows, scope):
        k, max_docs = self.cfg.image_max_hamming, self.cfg.image_max_docs
        contents = rows.group("sha1", phash=minimum("phash"))
        b = contents.map(self.bands, BANDED)
        near = (b.select("band", "key", a="sha1", pa="phash").join(b.select("band", "key", b="sha1", pb="phash"),
                                                                   ["band", "key"])
                .where(col("a") < col("b")).where(hamming(col("pa"), col("pb")) <= k).select("a", "b").distinct())
        labels, cc = scope.components(near)
        clusters = scope.materialize(
            contents.join(labels.select(sha1="node", cluster="root"), "sha1", "left")
            .with_column("cluster", coalesce(col("cluster"), col("sha1"))).select("sha1", "cluster"),
            "image_clusters")
        placed = rows.join(clusters, "sha1")
        docs = placed.group("cluster", docs=count_distinct("id"))
        frequent = docs.where(col("docs") > max_docs).select("cluster")
        dropped = scope.materialize(placed.join(frequent, "cluster", "semi"), "frequent_dropped")
        pairs = placed.where(col("pair")).join(frequent, "cluster", "anti").select(node="id", root="cluster")
        copies = pairs.group("root", n=count()).where(col("n") > 1).select("root")
        return Decision(
            drops=dropped.select("id", "pos"), drop_reason=FREQUENT,
            rejects=[(dropped.where(col("pair")).select("id"), FREQUENT)],
            clusters=pairs.join(copies, "root", "semi"), reason="near_duplicate",
            stats={**cc, "images": rows.count(), "distinct_images": clusters.count(),
                   "image_clusters": clusters.select("cluster").distinct().count(),
                   "frequent_clusters": dropped.select("cluster").distinct().count(),
                   "frequent_parts_dropped": dropped.count(), "max_docs_per_image": max_docs, "max_hamming": k})
