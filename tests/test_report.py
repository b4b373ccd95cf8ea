import pytest

from pipelines.report import stage_counts


def test_stage_counts_chain():
    counts = {"keep": 5, "ingest:bad_json": 1, "langid:low_score": 2, "quality:gopher_short_doc": 3,
              "quality:gopher_too_many_hashes": 1}
    out = stage_counts(counts, ["ingest", "langid", "quality", "dedup_exact"])
    assert [(s["stage"], s["in"], s["kept"], s["rejected"]) for s in out] == [
        ("ingest", 12, 11, 1), ("langid", 11, 9, 2), ("quality", 9, 5, 4), ("dedup_exact", 5, 5, 0)]
    assert out[2]["reasons"] == {"gopher_short_doc": 3, "gopher_too_many_hashes": 1}
    for s in out:
        assert s["in"] == s["kept"] + s["rejected"]


def test_unknown_stage_is_an_error():
    with pytest.raises(ValueError, match="names no stage"):
        stage_counts({"keep": 1, "mystery:x": 1}, ["ingest"])


@pytest.mark.spark
def test_status_and_drops_in_one_aggregation(spark):
    from collections import Counter

    from pipelines.report import status_and_drops
    from pipelines.schema import RECORD_DDL, image_part, record, text_part

    def img(dropped=None):
        return image_part(None, src="x.jpg", dropped=dropped)

    rows = [
        record("a", "crawl", "u", [text_part("t"), img("unresolved"), img("unresolved"), img("too_large")]),
        record("b", "crawl", "u", [text_part("t"), img()]),
        record("c", "crawl", "u", [text_part("t"), img("unresolved")], status="quality:short"),  # not kept: not counted
        record("d", "docs", "u", [text_part("t")], status="langid:low_score"),
        record("e", "docs", "u", [img("frequent_image"), text_part("t")]),
        record("f", "docs", "u", []),
        record("g", "pairs", "u", [text_part("t")], status="keep"),
    ]
    # record() builds Arrow-ready rows (maps as pair lists); createDataFrame wants dicts.
    as_rows = [dict(r, signals=dict(r["signals"]), parts=[dict(p, meta=dict(p["meta"])) for p in r["parts"]])
               for r in rows]
    df = spark.createDataFrame(as_rows, RECORD_DDL).repartition(3)
    by_source, drops = status_and_drops(df)
    want = Counter((r["source"], r["status"]) for r in rows)
    assert by_source == [{"source": s, "status": st, "count": n} for (s, st), n in sorted(want.items())]
    assert drops == {"unresolved": 2, "too_large": 1, "frequent_image": 1}


@pytest.mark.spark
def test_background_action_carries_job_properties_and_raises_on_join(spark):
    from pipelines.phases import Background

    sc = spark.sparkContext
    sc.setJobDescription("report")
    seen = {}
    ok = Background(lambda: seen.update(desc=sc.getLocalProperty("spark.job.description"), n=spark.range(5).count()))
    ok.join()
    assert seen == {"desc": "report", "n": 5}
    failing = Background(lambda: spark.sql("SELECT * FROM no_such_table").collect())
    failing.join(raise_error=False)
    with pytest.raises(Exception, match="no_such_table"):
        failing.join()
    sc.setJobDescription(None)
