"""Connected components and survivors in Spark against a plain union-find."""

from __future__ import annotations

import random

import pytest

from pipelines.clusters import cluster_frames, connected_components, driver_clusters, mark, summarize, survivors


def union_find_roots(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def labels_of(spark, edges):
    df = spark.createDataFrame(edges, "a string, b string")
    comp = connected_components(df)
    return {r["node"]: r["root"] for r in comp.labels.collect()}, comp.rounds


def test_components_match_union_find_on_random_graphs(spark):
    rng = random.Random(7)
    for n_nodes, n_edges in ((40, 30), (300, 280), (200, 600)):
        nodes = [f"d{i:05d}" for i in range(n_nodes)]
        edges = [tuple(rng.sample(nodes, 2)) for _ in range(n_edges)]
        got, _ = labels_of(spark, edges)
        assert got == union_find_roots(edges)


def test_long_chain_converges_in_few_rounds(spark):
    # A path is the worst case for label propagation (rounds = length); large/small star
    # needs O(log^2 n).
    nodes = [f"n{i:05d}" for i in range(2000)]
    random.Random(3).shuffle(nodes)
    edges = list(zip(nodes, nodes[1:]))
    got, rounds = labels_of(spark, edges)
    assert set(got.values()) == {min(nodes)} and len(got) == 2000
    assert rounds <= 30


def test_no_edges_no_labels(spark):
    got, rounds = labels_of(spark, [])
    assert got == {} and rounds == 0


def test_survivor_by_order_column_then_id(spark):
    labels = spark.createDataFrame([("a", "a"), ("b", "a"), ("c", "a"), ("x", "x"), ("y", "x")],
                                   "node string, root string")
    order = spark.createDataFrame([("a", "2024-05"), ("b", "2023-01"), ("c", "2023-01"),
                                   ("x", "2020"), ("y", "2020")], "id string, uri string")
    got = {r["id"]: r["survivor"] for r in survivors(labels, order, "uri").collect()}
    assert got == {"a": False, "b": True, "c": False, "x": True, "y": False}
    got = {r["id"]: r["survivor"] for r in survivors(labels, order, "id").collect()}
    assert got == {"a": True, "b": False, "c": False, "x": True, "y": False}


def test_mark_only_touches_kept_rows_and_summary_counts(spark):
    df = spark.createDataFrame([("a", "keep"), ("b", "keep"), ("c", "quality:short")],
                               "id string, status string")
    out = mark(df, spark.createDataFrame([("b",), ("c",)], "id string"), "dedup_near:duplicate")
    assert dict(out.collect()) == {"a": "keep", "b": "dedup_near:duplicate", "c": "quality:short"}
    clusters = spark.createDataFrame([("a", "a", True), ("b", "a", False), ("c", "a", False),
                                      ("x", "x", True), ("y", "x", False)], "id string, root string, survivor boolean")
    s = summarize(clusters)
    assert s == {"clusters": 2, "members": 5, "removed": 3, "largest": 3, "size_histogram": {"2": 1, "3": 1}}


@pytest.mark.parametrize("n", [1, 2])
def test_components_independent_of_partitioning(spark, n):
    rng = random.Random(11)
    nodes = [f"d{i:04d}" for i in range(150)]
    edges = [tuple(rng.sample(nodes, 2)) for _ in range(120)]
    df = spark.createDataFrame(edges, "a string, b string").repartition(n * 3)
    got = {r["node"]: r["root"] for r in connected_components(df).labels.collect()}
    assert got == union_find_roots(edges)


def test_local_components_roots_are_component_minimums():
    from filters.components import components as local

    assert local([]) == {}
    assert local([("b", "b")]) == {}
    assert local([("c", "b"), ("b", "a"), ("x", "y"), ("z", "y")]) == {
        "a": "a", "b": "a", "c": "a", "x": "x", "y": "x", "z": "x"}
    rng = random.Random(5)
    nodes = [f"d{i:05d}" for i in range(500)]
    edges = [tuple(rng.sample(nodes, 2)) for _ in range(450)]
    assert local(edges) == union_find_roots(edges)
    chain = [(i + 1, i) for i in range(5000)]  # deep chain: no recursion, compressed paths
    assert set(local(chain).values()) == {0}


@pytest.mark.parametrize("kind", ["string", "bigint"])
def test_driver_and_spark_components_agree(spark, kind):
    from pipelines.clusters import components

    rng = random.Random(13)
    nodes = [f"d{i:04d}" for i in range(300)] if kind == "string" else list(range(10**9, 10**9 + 300))
    edges = [tuple(rng.sample(nodes, 2)) for _ in range(250)]
    df = spark.createDataFrame(edges, f"a {kind}, b {kind}").repartition(3)
    on_driver, in_spark = components(df, 1000), components(df, 0)
    over_limit = components(df, 100)  # 250 edges > 100: the Spark rounds
    assert (on_driver.where, in_spark.where, over_limit.where) == ("driver", "spark", "spark")
    assert on_driver.labels.schema == in_spark.labels.schema
    got = {r["node"]: r["root"] for r in on_driver.labels.collect()}
    assert got == {r["node"]: r["root"] for r in in_spark.labels.collect()} == union_find_roots(edges)
    empty = components(spark.createDataFrame([], f"a {kind}, b {kind}"), 1000)
    assert empty.where == "driver" and empty.labels.count() == 0


def _random_labels(seed: int, n: int = 200) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    roots = [f"sha{r:03d}" for r in range(25)]  # cluster names that are not document ids
    return [(f"d{i:04d}", rng.choice(roots)) for i in rng.sample(range(1000), n)]


@pytest.mark.parametrize("seed", [1, 2])
def test_driver_clusters_equal_spark_survivors_by_id(spark, seed):
    labels = _random_labels(seed)
    df = spark.createDataFrame([(n, "keep") for n, _ in labels] + [("z9999", "keep")], "id string, status string")
    local = driver_clusters(df, labels, "id")
    frame = spark.createDataFrame(labels, "node string, root string")
    want = sorted(tuple(r) for r in survivors(frame, df, "id").collect())
    assert sorted(tuple(r) for r in local.frame.collect()) == want
    assert sorted(zip(*(local.table.column(c).to_pylist() for c in ("id", "root", "survivor")))) == want
    assert summarize(local.frame, local.table) == summarize(local.frame) == summarize(survivors(frame, df, "id"))
    # The local frame marks like any other: only non-survivors of kept rows change.
    out = dict(mark(df, local.frame.filter("not survivor"), "dedup_near:duplicate").collect())
    assert sorted(i for i, s in out.items() if s != "keep") == sorted(i for i, _, s in want if not s)


def test_driver_clusters_leave_other_orders_to_spark_and_take_bigint_ids(spark):
    df = spark.createDataFrame([(3, "b"), (1, "c"), (2, "a")], "id bigint, uri string")
    assert driver_clusters(df, [(3, 1), (1, 1)], "uri") is None
    frames, table = cluster_frames(df, [(3, 1), (1, 1), (2, 1)], "uri", "t")
    assert table is None
    assert {r["id"]: r["survivor"] for r in frames.collect()} == {3: False, 1: False, 2: True}
    frames, table = cluster_frames(df, [(3, 1), (1, 1), (2, 1)], "id", "t")
    assert {r["id"]: r["survivor"] for r in frames.collect()} == {3: False, 1: True, 2: False}
    assert dict(zip(table.column("id").to_pylist(), table.column("survivor").to_pylist())) == {3: False, 1: True, 2: False}


def test_no_driver_labels_no_clusters(spark):
    df = spark.createDataFrame([("a", "keep")], "id string, status string")
    local = driver_clusters(df, [], "id")
    assert local.frame.collect() == [] and local.table.num_rows == 0
    empty = {"clusters": 0, "members": 0, "removed": 0, "largest": 0, "size_histogram": {}}
    assert summarize(local.frame, local.table) == summarize(local.frame) == empty
