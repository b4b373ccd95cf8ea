"""Resolve `<img>` parts against the image responses of the same WARC set.

Image responses arrive from ingest as rows with status `ingest:image_resource`; pages carry
image parts with a `src` and no bytes. The stage fills the bytes in, by whichever way this
run's data calls for (`prepare`, once ingest has counted the responses): none to find, not
at all; at most `images.resolve_on_driver_bytes` in all, their bytes broadcast by URL and
filled in the media stages' Python pass; more, a Spark join on the URL. The same parts
every way (tested). Parts left without bytes are marked unresolved later by the images
stage, never dropped quietly.
"""

from __future__ import annotations

from pipelines.readers.warc import RESOURCE_STATUS
from pipelines.schema import KEEP
from pipelines.stage import BatchStage, Stage


def resources(df):
    """(uri, id, data) of the image responses in `df`."""
    from pyspark.sql import functions as F

    return (df.filter(F.col("status") == RESOURCE_STATUS)
            .select("uri", "id", F.col("parts")[0]["data"].alias("data")))


def resource_lookup(uris: list, ids: list, data: list) -> dict:
    """Image responses -> {url: bytes of the one with the lowest id}, the copy the join picks
    (min_by); None stays None, so such a part stays unresolved either way."""
    best: dict = {}
    for uri, rid, blob in zip(uris, ids, data):
        if uri not in best or rid < best[uri][0]:
            best[uri] = (rid, blob)
    return {uri: blob for uri, (_, blob) in best.items()}


class ResolveImages(Stage):
    """The join: image responses grouped by URL, the pages' image sources joined to them.
    The responses come from `ctx.tables["ingested"]` (ingest's records, which the pipeline
    keeps as Parquet) or, without it, from `df` itself."""

    name = "resolve_images"
    reads = ("parts",)
    writes = ("parts",)
    scope = "media"

    def __init__(self, driver_max_bytes: int = 0):
        self.driver_max_bytes = driver_max_bytes

    def prepare(self, ctx) -> Stage | None:
        n, size = ctx.count("image_resources"), ctx.count("image_resource_bytes")
        if "ingested" not in ctx.tables:
            return self  # not planned from ingest's counts (a stage run on its own): join
        if not n:
            ctx.report.notes["images_resolved_on"] = None
            return None
        if size > self.driver_max_bytes:
            ctx.report.notes["images_resolved_on"] = "spark"
            return self
        table = resources(ctx.tables["ingested"]).toArrow()
        lookup = ctx.broadcast(resource_lookup(*(table.column(c).to_pylist() for c in ("uri", "id", "data"))))
        ctx.report.notes["images_resolved_on"] = "driver"
        return ResolveFromLookup(lookup)

    def apply(self, df, ctx):
        from pyspark.sql import functions as F

        if "ingested" in ctx.tables:
            source = ctx.tables["ingested"]
        else:
            # The join reads the records three times (resources, wanted images, the pages):
            # without this, Spark re-runs ingest, HTML extraction included, for each.
            df = source = ctx.materialize(df, "ingest")
        found_bytes = (
            resources(source)
            .select(F.col("uri").alias("src"), F.col("id").alias("_rid"), F.col("data").alias("_rdata"))
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
        found = (wanted.join(found_bytes, "src")
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


def fill(lookup, batch) -> dict:
    table = lookup.value
    filled = []
    for parts in batch.column("parts").to_pylist():
        row = []
        for p in parts or []:
            if p["kind"] == "image" and p["data"] is None:
                src = dict(p["meta"] or []).get("src")
                if src is not None and table.get(src) is not None:
                    p = dict(p, data=table[src])
            row.append(p)
        filled.append(row if parts is not None else None)
    return {"parts": filled}


class ResolveFromLookup(BatchStage):
    """ResolveImages when the image responses are few: their bytes by URL, broadcast from
    the driver, fill the pages' parts in the workers' Python pass (fused with the media
    stages), with no shuffle of pages or image bytes."""

    name = "resolve_images"
    reads = ("parts",)
    writes = ("parts",)
    scope = "media"

    def __init__(self, lookup):
        self.lookup = lookup  # a Spark broadcast of resource_lookup's dict

    def make_processor(self, ctx):
        from functools import partial

        return partial(fill, self.lookup)
