"""Exact dedup: documents whose normalised text is identical keep one survivor.

The key is computed per document in Python (NFKC needs it); grouping is Spark SQL, so
nothing is collected to the driver. The survivor is the lowest `order_by` value, then the
lowest id: deterministic whatever the partitioning.
"""

from __future__ import annotations

from pyspark.sql import Window
from pyspark.sql import functions as F

from filters.normalize import exact_key
from pipelines.config import DedupConfig
from pipelines.schema import KEEP, document_texts
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


def _keys(batches):
    import pyarrow as pa

    for batch in batches:
        # A caption shared by different pictures is not a duplicate: the pixels count too.
        keys = [exact_key(t if not h else f"{t}\0{h}")
                for t, h in zip(document_texts(batch), _image_hashes(batch))]
        yield pa.RecordBatch.from_arrays([batch.column("id"), pa.array(keys, pa.string())],
                                         names=["id", "dedup_key"])


class ExactDedup(Stage):
    name = "dedup_exact"
    reads = ("parts", "status")
    writes = ("status",)

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg

    def apply(self, df):
        kept = df.filter(F.col("status") == KEEP).select("id", "parts")
        keys = kept.mapInArrow(_keys, "id string, dedup_key string")
        order = [F.col(self.cfg.order_by), F.col("id")] if self.cfg.order_by != "id" else [F.col("id")]
        ranked = (
            keys.join(df.select("id", *{self.cfg.order_by}), "id")
            .withColumn("_rank", F.row_number().over(Window.partitionBy("dedup_key").orderBy(*order)))
            .filter(F.col("_rank") > 1)
            .select("id", F.lit(True).alias("_dup"))
        )
        out = df.join(ranked, "id", "left")
        status = F.when(F.col("_dup") & (F.col("status") == KEEP),
                        F.lit(f"{self.name}:duplicate")).otherwise(F.col("status"))
        return out.withColumn("status", status).drop("_dup").select(*df.columns)
