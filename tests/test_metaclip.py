"""MetaCLIP balancing: the substring rule, the coins, the decision over a Zipf pool, and the
stage in a pipeline run."""

import math

import numpy as np
import pyarrow as pa
import pytest

from filters.metaclip import Matcher, coins, keep_probability
from pipelines.config import MetaClipConfig
from pipelines.frames import LocalFrame
from pipelines.stages import metaclip as mc


def test_metaclip_substring_rule():
    m = Matcher(["cat", "red car", "猫"])
    names = lambda text: [m.entries[i] for i in m.match(text)]  # noqa: E731
    assert names("A cat.") == ["cat"] and names("cat") == ["cat"]
    assert names("cats") == [] and names("Cat") == []
    assert names("a red car!") == ["red car"] and names("red cars") == [] and names("a red, car") == []
    assert names("a cat\tand a red car") == ["cat", "red car"]
    # CJK without spaces: an entry matches only when set off by spaces or the listed punctuation.
    assert names("我有一只猫。") == [] and names("一只 猫 ,") == ["猫"]


def test_coins_give_the_keep_probability():
    p = keep_probability([4, 1, 2, 3], 2)
    assert p.tolist() == [0.5, 1.0, 1.0, 2 / 3]
    ids = [f"pair{i}" for i in range(100_000)]
    kept = (coins(7, ids, ["cat"] * len(ids)) < p[0]).mean()
    assert abs(kept - 0.5) <= 0.01
    assert (coins(7, ids[:10], ["cat"] * 10) == coins(7, ids[:10], ["cat"] * 10)).all()


def _decide(rows, cfg, entries):
    stage = mc.MetaClipBalance(cfg)
    mc._MATCHERS[cfg.entries] = Matcher(entries)
    keys = LocalFrame(pa.table({"id": [r[0] for r in rows], "entry": pa.array([r[1] for r in rows], pa.int32())}))
    d = stage.decide(keys, None)
    return {reason: set(f.to_arrow().column("id").to_pylist()) for f, reason in d.rejects}, d.stats


def test_a_pair_with_a_rare_entry_is_always_kept():
    cfg = MetaClipConfig(enabled=True, entries="mem://t2", t=2)
    rows = [("p0", 0), ("p0", 1), ("p1", 0), ("p2", 0), ("p3", 0), ("p4", -1)]  # cat 4, dog 1
    for seed in range(50):
        cfg.seed = seed
        out, stats = _decide(rows, cfg, ["cat", "dog"])
        assert "p0" not in out["balanced_out"] and out["no_entry"] == {"p4"}
    assert stats["entries_matched"] == 2 and stats["pairs"] == 5 and stats["pairs_no_entry"] == 1


@pytest.mark.spark
def test_spark_and_driver_decide_alike(spark):
    from pipelines.frames import SparkFrame

    rng = np.random.default_rng(5)
    rows = [(f"p{i}", int(e)) for i, e in enumerate(rng.zipf(1.5, 3000) % 50)]
    cfg = MetaClipConfig(enabled=True, entries="mem://spark", t=20, seed=9)
    mc._MATCHERS[cfg.entries] = Matcher([f"e{i}" for i in range(50)])
    table = pa.table({"id": [r[0] for r in rows], "entry": pa.array([r[1] for r in rows], pa.int32())})
    local = mc.MetaClipBalance(cfg).decide(LocalFrame(table), None)
    remote = mc.MetaClipBalance(cfg).decide(SparkFrame(spark.createDataFrame(table).repartition(7)), None)
    ids = lambda d: {r: sorted(f.to_arrow().column("id").to_pylist()) for f, r in d.rejects}  # noqa: E731
    assert ids(local) == ids(remote) and local.stats == remote.stats


def test_zipf_pool_is_balanced_and_deterministic():
    rng = np.random.default_rng(0)
    n_entries, t = 2000, 200
    weights = 1.0 / np.arange(1, n_entries + 1) ** 1.1
    # One entry a pair, so each entry's kept pairs are Binomial(n, t/n) (a pair with several
    # entries is kept through any of them: the {cat, dog} test).
    picks = rng.choice(n_entries, size=50_000, p=weights / weights.sum())
    rows = [(f"pair{i:05d}", int(e)) for i, e in enumerate(picks)]
    cfg = MetaClipConfig(enabled=True, entries="mem://zipf", t=t, seed=3)
    entries = [f"e{i}" for i in range(n_entries)]
    out, stats = _decide(rows, cfg, entries)
    again, _ = _decide(list(reversed(rows)), cfg, entries)  # another order of the same pool
    assert out == again
    before, after = {}, {}
    for pid, e in rows:
        before[e] = before.get(e, 0) + 1
        if pid not in out["balanced_out"]:
            after[e] = after.get(e, 0) + 1
    for e, n in before.items():
        if n < t:
            assert after.get(e, 0) == n  # under t: every pair kept
        else:
            assert abs(after.get(e, 0) - t) <= 4 * math.sqrt(t * (1 - t / n)) + 1
    head = max(before, key=before.get)
    assert before[head] > 10 * t and after[head] < 2 * t
    assert stats["top_entries"][0]["entry"] == f"e{head}" and stats["top_entries"][0]["before"] == before[head]
    assert stats["pairs_kept"] == 50_000 - len(out["balanced_out"]) - len(out.get("no_entry", ()))


@pytest.mark.spark
def test_pipeline_balances_the_sample_pairs(spark, sample_inputs, tmp_path, capsys):
    from pipelines.run import run_pipeline
    from pipelines.stats import summarize
    from tests.conftest import sample_config

    root, truth = sample_inputs
    words: dict[str, int] = {}
    for p in truth.get("pairs", []):
        for w in (p.get("caption") or "").split():
            words[w] = words.get(w, 0) + 1
    entries = tmp_path / "entries.txt"
    entries.write_text("\n".join(["a", "the", "photo", "of"] + sorted(words)[:50]) + "\n")
    cfg = sample_config(root, tmp_path / "out")
    from pipelines.config import MetaClipConfig

    cfg.metaclip = MetaClipConfig(enabled=True, entries=str(entries), t=2, seed=1)
    result = run_pipeline(cfg, spark)
    import json as _json

    import webdataset as wds

    urls = [str(tmp_path / "out" / "shards" / x["name"]) for x in result.manifest["shards"]]
    from pipelines.shards import signal_dict

    signals = [signal_dict(x["json"]["signals"]) for x in wds.WebDataset(urls, shardshuffle=False).decode()]
    pairs = [s for s in signals if "metaclip.entries" in s]
    assert pairs and all(p["metaclip.entries"] >= 1 for p in pairs)  # kept pairs carry their entries
    assert all(any(k.startswith("metaclip.entry.") for k in p) for p in pairs)
    assert _json.dumps(pairs[0])
    stage = next(s for s in result.stages if s["stage"] == "metaclip")
    assert stage["in"] == stage["kept"] + stage["rejected"] and stage["rejected"] > 0
    s = summarize(tmp_path / "out")
    m = s["dedup"]["metaclip"]
    assert m["pairs"] > 0 and m["entries_matched"] > 0 and m["pairs_kept"] < m["pairs"]
    assert sum(m["count_histogram"]["before"]) == m["entries_matched"]
    from pipelines.report_html import render

    assert 'alt="metaclip"' in render(s)
    from jobs.cli import main as cli_main

    assert cli_main(["stats", str(tmp_path / "out")]) == 0
    assert "metaclip" in capsys.readouterr().out


def test_a_missing_or_undecodable_entry_list_is_a_config_error(tmp_path):
    from pipelines.config import ConfigError, parse_config

    base = {"inputs": [{"name": "web", "format": "jsonl", "path": "x.jsonl"}]}
    with pytest.raises(ConfigError, match="cannot read"):
        parse_config(dict(base, metaclip={"enabled": True, "entries": str(tmp_path / "none.txt")}))
    (tmp_path / "bad.txt").write_bytes(b"cat\n\xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        parse_config(dict(base, metaclip={"enabled": True, "entries": str(tmp_path / "bad.txt")}))
