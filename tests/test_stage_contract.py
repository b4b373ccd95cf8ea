"""The stage contract (pipelines/stage.py), without Spark: batch stages see only the
columns they read, may change only the columns they write, and are fused and timed as one
pass without losing their own statuses and time."""

from __future__ import annotations

import pytest

from pipelines.config import parse_config
from pipelines.plan import global_stages, record_stages
from pipelines.schema import record, records_to_batch, text_part
from pipelines.stage import RECORD_COLUMNS, BatchRun, BatchStage, SourceStage, StageContractError, Step, fuse


class _Stage(BatchStage):
    def __init__(self, name, reads, writes, fn):
        self.name, self.reads, self.writes, self._fn = name, reads, writes, fn

    def make_processor(self, ctx):
        return self._fn


def _batch():
    return records_to_batch([record("a", "s", "http://x/a", [text_part("alpha")]),
                             record("b", "s", "http://x/b", [text_part("beta")], status="ingest:no_text"),
                             record("c", "s", "http://x/c", [text_part("gamma")])])


def test_a_stage_writing_a_column_it_does_not_declare_fails():
    sneaky = _Stage("sneaky", ("parts",), ("signals",), lambda b: {"lang": ["xx"] * b.num_rows})
    with pytest.raises(StageContractError, match=r"sneaky wrote \['lang'\]"):
        Step(sneaky, None)(_batch())


def test_rejecting_needs_status_in_writes_and_signals_need_signals():
    rejects = _Stage("r", (), ("signals",), lambda b: {"reasons": ["no"] * b.num_rows})
    with pytest.raises(StageContractError, match=r"\['status'\]"):
        Step(rejects, None)(_batch())
    measures = _Stage("m", (), ("status",), lambda b: {"signals": [{"m.x": 1.0}] * b.num_rows})
    with pytest.raises(StageContractError, match=r"\['signals'\]"):
        Step(measures, None)(_batch())


def test_a_stage_sees_only_id_and_what_it_reads_of_the_kept_rows():
    seen = {}

    def look(batch):
        seen["columns"], seen["ids"] = batch.schema.names, batch.column("id").to_pylist()
        return {}

    Step(_Stage("look", ("uri",), (), look), None)(_batch())
    assert seen == {"columns": ["id", "uri"], "ids": ["a", "c"]}
    with pytest.raises(StageContractError, match="records do not have"):
        Step(_Stage("bad", ("tokens",), (), look), None)


def test_declared_writes_land_and_statuses_are_the_stages_own():
    tag = _Stage("tag", ("parts",), ("lang", "signals", "status"),
                 lambda b: {"lang": ["eng_Latn"] * b.num_rows, "signals": [{"tag.n": 1.0}] * b.num_rows,
                            "reasons": [None, "second"][: b.num_rows]})
    out = Step(tag, None)(_batch()).to_pylist()
    assert [r["status"] for r in out] == ["keep", "ingest:no_text", "tag:second"]
    assert [r["lang"] for r in out] == ["eng_Latn", None, "eng_Latn"]
    assert out[1]["signals"] == [] and out[0]["signals"] == [("tag.n", 1.0)]


class _Timer:
    def __init__(self):
        self.value = 0.0

    def add(self, v):
        self.value += v


class _Ctx:
    def __init__(self):
        self.timers = {}

    def timer(self, name):
        return self.timers.setdefault(name, _Timer())


def test_fused_stages_keep_their_own_time():
    import time

    slow = _Stage("slow", (), (), lambda b: time.sleep(0.02) or {})
    fast = _Stage("fast", (), (), lambda b: {})
    ctx = _Ctx()
    batch = _batch()
    for step in (Step(slow, ctx), Step(fast, ctx)):
        batch = step(batch)
    assert ctx.timers["slow"].value >= 0.02 > ctx.timers["fast"].value


def test_fuse_hosts_the_text_stages_in_the_source_and_runs_the_rest_together():
    cfg = parse_config({"inputs": [{"name": "w", "format": "warc", "path": "x"},
                                   {"name": "v", "format": "video", "path": "y"}]}, "<t>")
    stages = record_stages(cfg)
    fused = fuse(stages)
    assert isinstance(fused[0], SourceStage) and [s.name for s in fused[0].hosted] == [
        "urlfilter", "pii", "langid", "quality"]
    assert [s.name for s in fused[1:]] == ["resolve_images", "video+images"]
    assert isinstance(fused[2], BatchRun) and fused[2].scope == "media"


def test_every_stage_declares_record_columns():
    cfg = parse_config({"inputs": [{"name": "w", "format": "warc", "path": "x"},
                                   {"name": "v", "format": "video", "path": "y"}]}, "<t>")
    for stage in record_stages(cfg) + global_stages(cfg):
        assert set(stage.reads) <= set(RECORD_COLUMNS) and set(stage.writes) <= set(RECORD_COLUMNS), stage.name
        assert stage.writes, stage.name
