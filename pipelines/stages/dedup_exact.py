"""Exact dedup: documents whose normalised text is identical keep one survivor.

The key is computed per document in Python (NFKC needs it); grouping is Spark SQL, so
nothing is collected to the driver (a run with few documents decides all dedup stages on
the driver instead: pipelines/dedup_driver.py). The survivor is the lowest `order_by` value, then the
lowest id: deterministic whatever the partitioning. Punctuation and digits are stripped
from the key when configured.
"""

from __future__ import annotations

from pyspark.sql import Window
from pyspark.sql import functions as F

from filters.normalize import exact_key
from pipelines.checkpoint import materialize
from pipelines.config import DedupConfig
from pipelines.schema import KEEP, document_texts
from pipelines.clusters import mark, survivors
from pipelines.stage import Stage


def _image_hashes(batch) -> list[str]:
    """Per row, the content hashes of its usable images joined in order ('' for none)."""
    import pyarrow.compute as pc

    parts = batch.column("parts")
    offsets = parts.offsets.to_numpy()
    sha = pc.map_lookup(parts.flatten().field("meta"), "sha1", "first").to_pylist()
    base = offsets[0]
    return [" ".join(h for h in sha[offsets[i] - base: offsets[i + 1] - base] if h)
            for i in range(len(parts))]


def _keys(strip_punctuation: bool, strip_digits: bool):
    def run(batches):
        import pyarrow as pa

        for batch in batches:
            # A caption shared by different pictures is not a duplicate: the pixels count too.
            keys = [exact_key(t if not h else f"{t}\0{h}", strip_punctuation, strip_digits)
                    for t, h in zip(document_texts(batch), _image_hashes(batch))]
            yield pa.RecordBatch.from_arrays([batch.column("id"), pa.array(keys, pa.string())],
                                             names=["id", "dedup_key"])
    return run


class ExactDedup(Stage):
    name = "dedup_exact"
    reads = ("parts", "status")
    writes = ("status",)

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.clusters = None  # (id, root, survivor) of groups with copies, for the report
        self.local_clusters = None  # never decided on the driver: groups are Spark's
        self.stats: dict = {}

    def apply(self, df):
        kept = df.filter(F.col("status") == KEEP).select("id", "parts")
        keys = kept.mapInArrow(_keys(self.cfg.strip_punctuation, self.cfg.strip_digits),
                               "id string, dedup_key string")
        copies = F.count("*").over(Window.partitionBy("dedup_key"))
        labels = (keys.withColumn("_n", copies).filter(F.col("_n") > 1)
                  .select(F.col("id").alias("node"), F.col("dedup_key").alias("root")))
        self.clusters = materialize(survivors(labels, df, self.cfg.order_by), "exact_clusters")
        return mark(df, self.clusters.filter(~F.col("survivor")), f"{self.name}:duplicate")
