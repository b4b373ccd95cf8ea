"""Duplicate clusters in Spark: connected components of candidate edges, one survivor each.

Connected components use the large-star / small-star alternation (Kiveris et al., 2014):
every round is a group-by and a join over the edge list, so no vertex's neighbourhood is
collected in one place and nothing reaches the driver; it converges in O(log^2 n) rounds
even on long chains. Edges are kept oriented (u > v); when every u has a single v and no v
is also a u, the edge list is a set of stars whose centres are the component minimums.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from pipelines.checkpoint import materialize

MAX_ROUNDS = 64


@dataclass
class Components:
    labels: DataFrame  # node, root: every node that has an edge; root = the component minimum
    rounds: int
    where: str = "spark"  # or "driver": a small edge list, solved in one process


def _oriented(edges: DataFrame) -> DataFrame:
    return (edges.select(F.greatest("a", "b").alias("u"), F.least("a", "b").alias("v"))
            .filter(F.col("u") != F.col("v")).distinct())


def _large_star(e: DataFrame) -> DataFrame:
    """Each node's larger neighbours are re-attached to its smallest neighbour (or itself)."""
    both = e.unionByName(e.select(F.col("v").alias("u"), F.col("u").alias("v")))
    m = F.least(F.min("v").over(Window.partitionBy("u")), F.col("u"))
    return (both.withColumn("m", m).filter(F.col("v") > F.col("u"))
            .select(F.col("v").alias("u"), F.col("m").alias("v")).distinct())


def _small_star(e: DataFrame) -> DataFrame:
    """Each node and its smaller neighbours are re-attached to the smallest of them."""
    with_m = e.withColumn("m", F.min("v").over(Window.partitionBy("u")))
    leaves = with_m.filter(F.col("v") != F.col("m")).select(F.col("v").alias("u"), F.col("m").alias("v"))
    return leaves.unionByName(with_m.select("u", F.col("m").alias("v"))).distinct()


def _converged(e: DataFrame) -> bool:
    """Stars already: no u with two v's and no v that is also a u (one Spark job)."""
    degree = e.groupBy("u").agg(F.count("*").alias("n"))
    centres = e.select(F.col("v").alias("u")).distinct().withColumn("centre", F.lit(True))
    bad = degree.join(centres, "u", "left").filter((F.col("n") > 1) | F.col("centre").isNotNull())
    return bad.limit(1).count() == 0


def connected_components(edges: DataFrame, max_rounds: int = MAX_ROUNDS) -> Components:
    """edges (a, b) of one comparable type -> labels (node, root) and rounds taken."""
    e = materialize(_oriented(edges), "cc_edges")
    rounds = 0
    while not _converged(e):
        if rounds >= max_rounds:
            raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
        # Checkpointing each round keeps the plan (and its recomputation) one round deep.
        e = materialize(_small_star(_large_star(e)), "cc_round")
        rounds += 1
    roots = e.select(F.col("v").alias("node")).distinct().withColumn("root", F.col("node"))
    labels = e.select(F.col("u").alias("node"), F.col("v").alias("root")).unionByName(roots)
    return Components(labels, rounds)


def small_table(df: DataFrame, max_rows: int):
    """df's rows as one Arrow table when there are at most `max_rows` of them (one Spark
    job), else None. The small side of dedup goes to the driver the way a broadcast join's
    small side does: a bounded amount, decided by size."""
    if max_rows <= 0:
        return None
    table = df.limit(max_rows + 1).toArrow()
    return table if table.num_rows <= max_rows else None


def labels_frame(spark, labels, kind, root_kind=None) -> DataFrame:
    """(node, root) pairs from the driver -> a (node, root) DataFrame of Spark types `kind`
    (and `root_kind`, when roots are not node ids)."""
    import pyarrow as pa

    from pyspark.sql.types import StructField, StructType

    labels = list(labels)
    schema = StructType([StructField("node", kind), StructField("root", root_kind or kind)])
    if not labels:
        return spark.createDataFrame([], schema)
    return spark.createDataFrame(pa.table({"node": [n for n, _ in labels], "root": [r for _, r in labels]}),
                                 schema)


def components(edges: DataFrame, driver_max_rows: int) -> Components:
    """Connected components of (a, b), on the driver when there are at most
    `driver_max_rows` edges: one Spark job to fetch them instead of two per round (each a
    shuffle), which on small and medium inputs is most of dedup's time. Larger edge lists,
    or driver_max_rows = 0, take the distributed rounds. Same labels either way."""
    from filters.components import components as local_components

    table = small_table(edges.select("a", "b"), driver_max_rows)
    if table is None:
        return connected_components(edges)
    roots = local_components(zip(table.column("a").to_pylist(), table.column("b").to_pylist()))
    return Components(labels_frame(edges.sparkSession, roots.items(), edges.schema["a"].dataType), 0, "driver")


@dataclass
class DriverClusters:
    """Clusters decided on the driver: the (id, root, survivor) rows, and the same as a
    local DataFrame, which Spark broadcasts where it is joined (no job of its own)."""
    table: "pa.Table"
    frame: DataFrame


def driver_clusters(df: DataFrame, labels, order_by: str, root_type=None) -> DriverClusters | None:
    """(node, root) pairs found on the driver -> clusters (id, root, survivor), when the
    survivor is known here: ordered by id it is each cluster's lowest id. Other orders need
    a column of `df`, so None: the caller takes Spark's `survivors`. Same rows either way."""
    import pyarrow as pa

    from pyspark.sql.types import BooleanType, StructField, StructType

    if order_by != "id":
        return None
    labels = list(labels)
    lowest: dict = {}
    for node, root in labels:
        if root not in lowest or node < lowest[root]:
            lowest[root] = node
    id_type = df.schema["id"].dataType
    schema = StructType([StructField("id", id_type), StructField("root", root_type or id_type),
                         StructField("survivor", BooleanType())])
    table = pa.table({"id": [n for n, _ in labels], "root": [r for _, r in labels],
                      "survivor": [lowest[r] == n for n, r in labels]})
    frame = (df.sparkSession.createDataFrame(table, schema) if labels
             else df.sparkSession.createDataFrame([], schema))
    return DriverClusters(table, frame)


def cluster_frames(df: DataFrame, labels, order_by: str, name: str, root_type=None):
    """(node, root) pairs decided on the driver -> (clusters DataFrame, their rows as an
    Arrow table or None): driver_clusters when the order allows, else Spark's survivors
    over a labels DataFrame, checkpointed as `name`."""
    labels = list(labels)
    local = driver_clusters(df, labels, order_by, root_type)
    if local is not None:
        return local.frame, local.table
    frame = labels_frame(df.sparkSession, labels, df.schema["id"].dataType, root_type)
    return materialize(survivors(frame, df, order_by), name), None


def score_pairs(pairs: DataFrame, score) -> DataFrame:
    """pairs (a, b, x, y) -> (a, b, score) with score(x, y) computed per row in Python
    (over Arrow batches); `score` must be picklable (a module-level function or partial)."""
    def run(batches):
        import pyarrow as pa

        for batch in batches:
            values = [score(x, y) for x, y in zip(batch.column("x").to_pylist(), batch.column("y").to_pylist())]
            yield pa.RecordBatch.from_arrays([batch.column("a"), batch.column("b"), pa.array(values, pa.float64())],
                                             names=["a", "b", "score"])
    return pairs.select("a", "b", "x", "y").mapInArrow(run, "a string, b string, score double")


def survivors(labels: DataFrame, order: DataFrame, order_by: str) -> DataFrame:
    """labels (node = document id, root) + order (id, order_by) -> (id, root, survivor).

    The survivor is the member with the lowest `order_by`, then the lowest id, so the
    choice depends on data only, never on partitioning or task order.
    """
    keys = [F.col(order_by), F.col("id")] if order_by != "id" else [F.col("id")]
    cols = ["id"] if order_by == "id" else ["id", order_by]
    members = labels.select(F.col("node").alias("id"), "root").join(order.select(*cols), "id")
    rank = F.row_number().over(Window.partitionBy("root").orderBy(*keys))
    return members.withColumn("survivor", rank == 1).select("id", "root", "survivor")


def mark(df: DataFrame, rejected: DataFrame, status: str) -> DataFrame:
    """Set `status` on kept rows whose id is in `rejected` (id); other rows unchanged."""
    from pipelines.schema import KEEP

    flagged = rejected.select("id").distinct().withColumn("_dup", F.lit(True))
    out = df.join(flagged, "id", "left")
    new = F.when(F.col("_dup") & (F.col("status") == KEEP), F.lit(status)).otherwise(F.col("status"))
    return out.withColumn("status", new).drop("_dup").select(*df.columns)


def summarize(clusters: DataFrame, local: "pa.Table | None" = None) -> dict:
    """clusters (id, root, survivor) -> counts and the size histogram, computed in Spark,
    or from `local`, the same rows when they were decided on the driver."""
    if local is not None:
        from collections import Counter

        hist = dict(Counter(Counter(local.column("root").to_pylist()).values()))
    else:
        sizes = clusters.groupBy("root").count()
        hist = {int(r["count"]): int(r["n"]) for r in
                sizes.groupBy("count").agg(F.count("*").alias("n")).collect()}
    members = sum(k * v for k, v in hist.items())
    return {"clusters": sum(hist.values()), "members": members,
            "removed": members - sum(hist.values()),
            "largest": max(hist) if hist else 0,
            "size_histogram": {str(k): hist[k] for k in sorted(hist)}}
