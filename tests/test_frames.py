"""The two engines of pipelines/frames.py give the same rows for every operation a decision
uses, on random data with duplicates, nulls, negative 64-bit hashes and list columns."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from pipelines.frames import LocalFrame, SparkFrame, coalesce, col, count, count_distinct, hamming, minimum

pytestmark = pytest.mark.spark

SCHEMA = pa.schema([("id", pa.string()), ("k", pa.int32()), ("h", pa.int64()), ("s", pa.string()),
                    ("flag", pa.bool_()), ("xs", pa.list_(pa.int64()))])


def _table(seed: int, n: int) -> pa.Table:
    rng = random.Random(seed)
    rows = {"id": [f"d{rng.randrange(n // 2):03d}" for _ in range(n)], "k": [rng.randrange(5) for _ in range(n)],
            "h": [rng.getrandbits(64) - (1 << 63) for _ in range(n)],
            "s": [None if rng.random() < 0.2 else f"s{rng.randrange(4)}" for _ in range(n)],
            "flag": [rng.random() < 0.5 for _ in range(n)],
            "xs": [[rng.randrange(10) for _ in range(rng.randrange(3))] for _ in range(n)]}
    return pa.table(rows, schema=SCHEMA)


def _rows(frame) -> list[tuple]:
    t = frame.to_arrow()
    return sorted(tuple(map(repr, r.values())) for r in t.to_pylist())


@pytest.fixture(scope="module")
def both(spark):
    a, b = _table(1, 60), _table(2, 40)
    return (LocalFrame(a), LocalFrame(b)), (SparkFrame(spark.createDataFrame(a)), SparkFrame(spark.createDataFrame(b)))


OPERATIONS = {
    "select_rename": lambda x, y: x.select("id", kk="k"),
    "where_cmp": lambda x, y: x.where(col("k") >= 2),
    "where_and_str": lambda x, y: x.where((col("s") != "s1") & col("flag")),
    "hamming": lambda x, y: x.select("id", "h").join(y.select("id", g="h"), "id")
                             .where(hamming(col("h"), col("g")) <= 30).select("id", "h", "g"),
    "coalesce": lambda x, y: x.with_column("s", coalesce(col("s"), col("id"))).select("id", "s"),
    "join_inner_lists": lambda x, y: x.select("id", "xs").join(y.select("id", ys="xs"), "id"),
    "join_left": lambda x, y: x.select("id", "k").join(y.select("id", k2="k").distinct(), "id", "left"),
    "join_semi": lambda x, y: x.join(y.select("id"), "id", "semi"),
    "join_anti": lambda x, y: x.join(y.select("id"), "id", "anti"),
    "join_two_keys": lambda x, y: x.select("id", "k", "h").join(y.select("id", "k", g="h"), ["id", "k"]),
    "group": lambda x, y: x.group("k", n=count(), low=minimum("id"), ids=count_distinct("id")),
    "group_two": lambda x, y: x.group(["k", "flag"], n=count()),
    "distinct": lambda x, y: x.select("k", "s").distinct(),
    "union": lambda x, y: x.select("id", "k").union(y.select("id", "k")),
    "map": lambda x, y: x.select("id", "h").map(
        lambda b: pa.RecordBatch.from_arrays([b.column("id"), pa.array([v % 7 for v in b.column("h").to_pylist()])],
                                             names=["id", "m"]), pa.schema([("id", pa.string()), ("m", pa.int64())])),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_local_and_spark_frames_agree(both, name):
    (la, lb), (sa, sb) = both
    op = OPERATIONS[name]
    local, spark = op(la, lb), op(sa, sb)
    assert local.to_arrow().column_names == spark.to_arrow().column_names
    assert _rows(local) == _rows(spark)
    assert local.count() == spark.count()


def test_empty_frames(spark):
    empty = SCHEMA.empty_table()
    for frame in (LocalFrame(empty), SparkFrame(spark.createDataFrame(empty))):
        assert frame.group("k", n=count()).count() == 0
        assert frame.map(lambda b: b.select(["id"]), pa.schema([("id", pa.string())])).count() == 0
        assert frame.join(frame.select("id"), "id", "semi").count() == 0
