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
