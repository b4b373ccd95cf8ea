"""Duplicate clusters in Spark: connected components of candidate edges, one survivor each.

Connected components use the large-star / small-star alternation (Kiveris et al., 2014):
every round is a group-by and a join over the edge list, so no vertex's neighbourhood is
collected in one place; it converges in O(log^2 n) rounds even on long chains. Edges are
kept oriented (u > v); when every u has a single v and no v is also a u, the edge list is a
set of stars whose centres are the component minimums. A small edge list is solved on the
driver instead (filters/components.py), with the same labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

if TYPE_CHECKING:
    import pyarrow as pa

MAX_ROUNDS = 64


@dataclass
class Components:
    labels: DataFrame  # node, root: every node that has an edge; root = the component minimum
    rounds: int
    where: str = "spark"  # or "driver": a small edge list, solved in one process


def _local_checkpoint(df: DataFrame, name: str) -> DataFrame:
    return df.localCheckpoint()


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


def connected_components(edges: DataFrame, max_rounds: int = MAX_ROUNDS,
                         materialize: Callable[[DataFrame, str], DataFrame] = _local_checkpoint) -> Components:
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


def small_table(df: DataFrame, max_rows: int) -> pa.Table | None:
    """df's rows as one Arrow table when there are at most `max_rows` of them (one Spark
    job), else None. The small side of a global stage goes to the driver the way a
    broadcast join's small side does: a bounded amount, decided by size."""
    if max_rows <= 0:
        return None
    table = df.limit(max_rows + 1).toArrow()
    return table if table.num_rows <= max_rows else None


def components(edges: DataFrame, driver_max_rows: int,
               materialize: Callable[[DataFrame, str], DataFrame] = _local_checkpoint) -> Components:
    """Connected components of (a, b), on the driver when there are at most
    `driver_max_rows` edges: one Spark job to fetch them instead of two per round (each a
    shuffle). Larger edge lists, or driver_max_rows = 0, take the distributed rounds. Same
    labels either way."""
    import pyarrow as pa

    from filters.components import components as local_components

    table = small_table(edges.select("a", "b"), driver_max_rows)
    if table is None:
        return connected_components(edges, materialize=materialize)
    roots = local_components(zip(table.column("a").to_pylist(), table.column("b").to_pylist()))
    typ = table.schema.field("a").type
    labels = pa.table({"node": pa.array(list(roots), typ), "root": pa.array(list(roots.values()), typ)})
    schema = f"node {edges.schema['a'].dataType.simpleString()}, root {edges.schema['a'].dataType.simpleString()}"
    return Components(edges.sparkSession.createDataFrame(labels, schema), 0, "driver")


def survivors(labels: DataFrame, order: DataFrame, order_by: str) -> DataFrame:
    """labels (node = document id, root) + order (id, order_by) -> (id, root, survivor).

    The survivor is the member with the lowest `order_by`, then the lowest id, so the
    choice depends on data only, never on partitioning or task order.
    """
    keys = [F.col(order_by), F.col("id")] if order_by != "id" else [F.col("id")]
    cols = ["id"] if order_by == "id" else ["id", order_by]
    members = labels.select(F.col("node").alias("id"), F.col("root").cast("string").alias("root")) \
        .join(order.select(*cols), "id")
    rank = F.row_number().over(Window.partitionBy("root").orderBy(*keys))
    return members.withColumn("survivor", rank == 1).select("id", "root", "survivor")
