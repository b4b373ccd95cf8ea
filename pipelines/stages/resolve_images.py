"""Resolve `<img>` parts against the image responses of the same WARC set, in Spark SQL.

Image responses arrive from ingest as rows with status `ingest:image_resource`; pages
carry image parts with a `src` and no bytes. A join on the URL fills the bytes in; parts
left without bytes are marked unresolved later by the images stage, never dropped quietly.
"""

from __future__ import annotations

from pyspark.sql import functions as F

from pipelines import checkpoint
from pipelines.readers.warc import RESOURCE_STATUS
from pipelines.schema import KEEP
from pipelines.stage import Stage


class ResolveImages(Stage):
    name = "resolve_images"
    reads = ("parts", "status")
    writes = ("parts",)

    def apply(self, df, resources_from=None):
        """`resources_from`: where the image responses are, when `df` holds only the pages
        (the pipeline passes both from its Parquet checkpoint, which is cheap to read twice)."""
        if resources_from is None:
            # The join reads the records three times (resources, wanted images, the pages):
            # without this, Spark re-runs ingest, HTML extraction included, for each.
            df = resources_from = checkpoint.materialize(df, "ingest")
        resources = (
            resources_from.filter(F.col("status") == RESOURCE_STATUS)
            .select(F.col("uri").alias("src"), F.col("id").alias("_rid"),
                    F.col("parts")[0]["data"].alias("_rdata"))
            # One copy per URL, the same one on every run.
            .groupBy("src").agg(F.min_by("_rdata", "_rid").alias("_rdata"))
        )
        wanted = (
            df.filter(F.col("status") == KEEP)
            .select("id", F.posexplode("parts").alias("_pos", "_p"))
            .filter((F.col("_p.kind") == "image") & F.col("_p.data").isNull())
            .select("id", "_pos", F.col("_p.meta")["src"].alias("src"))
            .filter(F.col("src").isNotNull())
        )
        found = (wanted.join(resources, "src")
                 .groupBy("id")
                 .agg(F.map_from_entries(F.collect_list(F.struct("_pos", "_rdata"))).alias("_found")))
        # element_at on a map looks the key up; positions from posexplode are 0-based like i.
        filled = F.transform(
            "parts",
            lambda p, i: F.when(p["data"].isNull() & F.element_at(F.col("_found"), i).isNotNull(),
                                p.withField("data", F.element_at(F.col("_found"), i))).otherwise(p),
        )
        out = df.join(found, "id", "left")
        return out.withColumn("parts", F.when(F.col("_found").isNull(), F.col("parts")).otherwise(filled)) \
                  .select(*df.columns)
