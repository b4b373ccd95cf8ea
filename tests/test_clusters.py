"""Connected components and survivors in Spark against a plain union-find."""

from __future__ import annotations

import random

import pytest

from pipelines.clusters import connected_components, survivors
from pipelines.global_stage import LocalScope, mark
from pipelines.report import summarize


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


@pytest.mark.parametrize("seed,order_by", [(1, "id"), (2, "id"), (3, "uri")])
def test_driver_survivors_equal_spark_survivors(spark, seed, order_by):
    """The engine's survivors on the driver (LocalScope) and in Spark pick the same member,
    ordered by id or by another column (nulls first, then id)."""
    import pyarrow as pa

    from pipelines.frames import LocalFrame

    labels = _random_labels(seed)
    rng = random.Random(seed)
    uris = {n: (None if rng.random() < 0.1 else f"u{rng.randrange(30):02d}") for n, _ in labels}
    df = spark.createDataFrame([(n, "keep", uris[n]) for n, _ in labels] + [("z9999", "keep", "u")],
                               "id string, status string, uri string")
    frame = spark.createDataFrame(labels, "node string, root string")
    want = sorted(tuple(r) for r in survivors(frame, df, order_by).collect())
    table = pa.table({"node": [n for n, _ in labels], "root": [r for _, r in labels]})
    order = uris if order_by == "uri" else None
    local = LocalScope(fetch=None, order_by=order_by, order=order).survivors(LocalFrame(table))
    assert sorted(zip(*(local.column(c).to_pylist() for c in ("id", "root", "survivor")))) == want
    assert summarize(local) == summarize(survivors(frame, df, order_by))
    # Driver clusters mark like any other: only non-survivors of kept rows change.
    gone = spark.createDataFrame(local.filter(pa.compute.invert(local.column("survivor"))))
    out = dict(mark(df.select("id", "status"), gone, "dedup_near:duplicate").collect())
    assert sorted(i for i, s in out.items() if s != "keep") == sorted(i for i, _, s in want if not s)


def test_driver_survivors_fetch_their_order_when_not_given(spark):
    import pyarrow as pa

    from pipelines.frames import LocalFrame

    asked = []

    def fetch(ids, fn, schema):
        asked.append(sorted(ids.to_pylist()))
        batch = pa.RecordBatch.from_pydict({"id": ["a", "b", "c"], "uri": ["z", "m", "q"]})
        return pa.Table.from_batches([fn(batch)], schema=schema)

    labels = LocalFrame(pa.table({"node": ["a", "b", "c"], "root": ["a", "a", "a"]}))
    got = LocalScope(fetch, "uri").survivors(labels)
    assert dict(zip(got.column("id").to_pylist(), got.column("survivor").to_pylist())) == {
        "a": False, "b": True, "c": False}
    assert asked == [["a", "b", "c"]]


def test_no_labels_no_clusters():
    import pyarrow as pa

    from pipelines.frames import LocalFrame

    local = LocalScope(None).survivors(LocalFrame(pa.table({"node": pa.array([], pa.string()),
                                                            "root": pa.array([], pa.string())})))
    assert local.num_rows == 0
    assert summarize(local) == summarize(None) == {"clusters": 0, "members": 0, "removed": 0, "largest": 0,
                                                   "size_histogram": {}}
