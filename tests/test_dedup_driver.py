"""The dedup stages decided together on the driver (pipelines/dedup_driver.py) against the
stages applied one by one."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from pipelines.config import DedupConfig
from pipelines.dedup_driver import KEYS, apply_dedup, decide, run_on_driver, survivors


def keys_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in KEYS} for r in rows], schema=KEYS)


def no_fingerprints(ids):
    raise AssertionError(f"fingerprints asked for {ids}")


def test_survivor_is_lowest_order_value_nulls_first_then_id():
    labels = [("b", "r"), ("a", "r"), ("c", "r"), ("x", "s"), ("y", "s")]
    by_id = {(i, r): s for i, r, s in survivors(labels, None)}
    assert by_id == {("a", "r"): True, ("b", "r"): False, ("c", "r"): False,
                     ("x", "s"): True, ("y", "s"): False}
    order = {"a": "z", "b": "m", "c": None, "x": "k", "y": "k"}
    by_order = {(i, r): s for i, r, s in survivors(labels, order)}
    assert by_order[("c", "r")] and not by_order[("b", "r")] and not by_order[("a", "r")]
    assert by_order[("x", "s")] and not by_order[("y", "s")]  # a tie goes to the lower id


def test_later_stages_see_only_what_earlier_ones_kept():
    docs = [{"kind": "doc", "id": i} for i in ("a", "b", "c", "v1", "v2")]
    table = keys_table(docs + [
        {"kind": "exact", "id": "a", "key": "k1"}, {"kind": "exact", "id": "b", "key": "k1"},
        {"kind": "exact", "id": "c", "key": "k2"},
        # b shares every band with c, but exact dedup has already removed b
        {"kind": "near", "id": "b", "band": 0, "bkey": 7}, {"kind": "near", "id": "c", "band": 0, "bkey": 7},
        {"kind": "video", "id": "v1", "hashes": [random.Random(i).getrandbits(63) for i in range(8)]},
        {"kind": "video", "id": "v2", "hashes": [random.Random(i).getrandbits(63) for i in range(8)]},
    ])
    cfg = DedupConfig()
    d = decide(table, ["dedup_exact", "dedup_near", "dedup_video"], cfg, no_fingerprints)
    assert d.status == {"b": "dedup_exact:duplicate", "v2": "dedup_video:duplicate"}
    assert d.stats["dedup_near"]["candidate_pairs"] == 0
    assert sorted(d.clusters["dedup_exact"]) == [("a", "k1", True), ("b", "k1", False)]
    assert d.stats["dedup_video"]["videos"] == 2 and d.stats["dedup_video"]["verified_pairs"] == 1
    marks = d.marks().to_pylist()
    assert marks == [{"id": "b", "_status": "dedup_exact:duplicate", "_drop": None},
                     {"id": "v2", "_status": "dedup_video:duplicate", "_drop": None}]


# --------------------------------------------------------------------------- with Spark


def _mixed_rows():
    """Texts with exact copies and near-duplicates, image-text pairs with a near-duplicate
    picture, pages sharing a logo, videos with a copy."""
    from benchmarks.dedup_corpus import make_corpus
    from pipelines.schema import caption_part, image_part, record, text_part
    from tests.images_util import encode, scene

    corpus = make_corpus(120, n_high=10, n_low=10, n_exact=4, seed=7)
    rows = [record(i, "gen", f"https://example.org/{len(corpus.ids) - n}/{i}", [text_part(t)])
            for n, (i, t) in enumerate(zip(corpus.ids, corpus.texts))]
    x = scene(300, 200, seed=1)
    logo = encode(scene(64, 64, seed=7), "PNG")
    rows += [
        record("p1", "pairs", "u/p1", [image_part(encode(x, "JPEG", quality=90)), caption_part("a red kite")]),
        record("p2", "pairs", "u/p0", [image_part(encode(x.resize((240, 160)), "JPEG", quality=75)),
                                       caption_part("kite in the sky")]),
        record("p4", "pairs", "u/p4", [image_part(logo), caption_part("our logo")]),
    ]
    for i in range(6):
        rows.append(record(f"w{i:02d}", "web", f"u/w{i}", [text_part(f"Page {i} has its own words, {i * 7}."),
                                                            image_part(logo),
                                                            image_part(encode(scene(200, 150, seed=100 + i), "JPEG"))]))
    rng = random.Random(3)
    base = {f"v{i:02d}": [rng.getrandbits(64) for _ in range(20)] for i in range(5)}
    base["v90"] = [h ^ (1 << 5) for h in base["v01"]]
    for i, hashes in sorted(base.items()):  # each its own words: exact dedup must not take them
        frames = [{"kind": "frame", "text": None, "data": None, "meta": [("dhash", f"{h:016x}")]} for h in hashes]
        rows.append(record(i, "video", f"u/{i}", [text_part(f"Video {i}, a clip of its own.")] + frames))
    return rows


@pytest.fixture(scope="module")
def mixed(spark):
    from pipelines.config import ImagesConfig
    from pipelines.stages.images import Images
    from tests.test_dedup_spark import frame

    return Images(ImagesConfig()).apply(frame(spark, _mixed_rows())).localCheckpoint()


def _stages(cfg):
    from pipelines.stages.dedup_exact import ExactDedup
    from pipelines.stages.dedup_images import ImageDedup
    from pipelines.stages.dedup_near import NearDedup
    from pipelines.stages.dedup_video import VideoDedup

    return [ExactDedup(cfg), NearDedup(cfg), ImageDedup(cfg), VideoDedup(cfg)]


def _outcome(df, stages):
    rows = {r["id"]: r for r in df.collect()}
    parts = {i: [(p["kind"], p["data"] is None, (p["meta"] or {}).get("dropped")) for p in r["parts"]]
             for i, r in rows.items()}
    stats = {s.name: {k: v for k, v in s.stats.items() if k not in ("cc_on", "cc_rounds")} for s in stages}
    clusters = {s.name: sorted(tuple(r) for r in s.clusters.select("id", "root", "survivor").collect())
                for s in stages}
    return {i: r["status"] for i, r in rows.items()}, parts, stats, clusters


@pytest.mark.spark
@pytest.mark.parametrize("order_by", ["id", "uri"])
def test_driver_decisions_equal_the_stages_one_by_one_in_spark(spark, mixed, order_by):
    cfg = DedupConfig(order_by=order_by, image_max_docs=5, driver_max_rows=1_000_000)
    together = _stages(cfg)
    out = run_on_driver(mixed, together, cfg)
    assert out is not None and all(s.stats["cc_on"] == "driver" for s in together if "cc_on" in s.stats)
    status, parts, stats, clusters = _outcome(out, together)

    in_spark = DedupConfig(order_by=order_by, image_max_docs=5, driver_max_rows=0)
    one_by_one = _stages(in_spark)
    df = mixed
    for stage in one_by_one:
        df = stage.apply(df)
    assert (status, parts, stats, clusters) == _outcome(df, one_by_one)

    # every kind of duplicate was there to find
    assert set(status.values()) >= {"dedup_exact:duplicate", "dedup_near:duplicate", "dedup_images:near_duplicate",
                     "dedup_images:frequent_image", "dedup_video:duplicate"}
    assert sum(p[2] == "frequent_image" for ps in parts.values() for p in ps) == 7


@pytest.mark.spark
def test_too_many_key_rows_leave_the_stages_to_themselves(spark, mixed):
    cfg = DedupConfig(image_max_docs=5, driver_max_rows=50)
    stages = _stages(cfg)
    assert run_on_driver(mixed, stages, cfg) is None
    assert all(s.clusters is None and s.stats == {} for s in stages)
    out = apply_dedup(mixed, stages, cfg)
    expected_stages = _stages(DedupConfig(image_max_docs=5))
    expected = run_on_driver(mixed, expected_stages, DedupConfig(image_max_docs=5))
    assert _outcome(out, stages)[:2] == _outcome(expected, expected_stages)[:2]
