"""The plain one-process pipeline (bench_e2e's baseline) does the Spark job's work: on the
bundled sample it keeps the same documents, rejects the rest for the same reasons
(dedup included), and writes byte-identical shards."""

import json
from pathlib import Path

import pytest

from benchmarks.bench_e2e import compare_outputs
from benchmarks.plain_pipeline import run_plain, spark_hash, spark_partition
from tests.conftest import sample_config

pytestmark = pytest.mark.spark


def test_spark_hash_is_sparks(spark):
    from pyspark.sql import functions as F

    from pipelines.readers import stable_id

    values = ["", "a", "ab", "abc", "abcd", "abcde", "é", "ünïcødé", "日本語のテキスト", "\x00\x7f\xff",
              *(stable_id("crawl", f"crawl-{i:05d}.warc.gz", i * 977) for i in range(40))]
    rows = (spark.createDataFrame([(v,) for v in values], "v string")
            .select("v", F.hash("v").alias("h"), F.expr("pmod(hash(v), 7)").alias("p")).collect())
    assert len(rows) == len(values)
    for r in rows:
        assert spark_hash(r["v"]) == r["h"], r["v"]
        assert spark_partition(r["v"], 7) == r["p"], r["v"]


def test_plain_keeps_what_spark_keeps(sample_run, tmp_path):
    result, truth, root = sample_run
    plain = run_plain(sample_config(root, tmp_path / "plain"))

    report = json.loads((Path(result.output) / "report" / "stages.json").read_text())
    spark_by_source: dict[str, dict[str, int]] = {}
    for row in report["by_source"]:
        spark_by_source.setdefault(row["source"], {})[row["status"]] = row["count"]
    # Every status per source: kept counts, and each rejection reason, dedup ones included.
    assert plain.by_source == spark_by_source
    assert plain.status_counts == report["status_counts"]
    dedup = {k: v for k, v in plain.status_counts.items() if k.startswith("dedup_")}
    assert dedup.get("dedup_exact:duplicate") and dedup.get("dedup_near:duplicate")

    same = compare_outputs(result.output, plain.output)
    assert same["same_ids"], same
    assert same["same_shards"], same  # names and sha256 of every shard
    assert plain.manifest["totals"] == result.manifest["totals"]
