"""Global stages and their engine (pipelines/global_stage.py): every dedup stage decided
together on the driver, one by one on the driver, and one by one in Spark SQL gives the same
statuses, parts, statistics and clusters; the contract's checks fail loudly."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from pipelines.config import DedupConfig
from pipelines.global_stage import Decision, GlobalStage, run_global_stages
from pipelines.stage import StageContractError
from tests.conftest import cluster_rows, run_context

pytestmark = pytest.mark.spark


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
    logo = encode(scene(160, 160, seed=7), "PNG")  # at least images.page_min_side: a logo, not an icon
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

    return Images(ImagesConfig()).apply(frame(spark, _mixed_rows()), run_context(spark)).localCheckpoint()


def _stages(cfg):
    from pipelines.stages.dedup_exact import ExactDedup
    from pipelines.stages.dedup_images import ImageDedup
    from pipelines.stages.dedup_near import NearDedup
    from pipelines.stages.dedup_video import VideoDedup

    return [ExactDedup(cfg), NearDedup(cfg), ImageDedup(cfg), VideoDedup(cfg)]


def _outcome(df, ctx):
    rows = {r["id"]: r for r in df.collect()}
    parts = {i: [(p["kind"], p["data"] is None, (p["meta"] or {}).get("dropped")) for p in r["parts"]]
             for i, r in rows.items()}
    results = ctx.report.globals
    stats = {n: {k: v for k, v in r.stats.items() if k not in ("cc_on", "cc_rounds")} for n, r in results.items()}
    clusters = {n: cluster_rows(r.clusters) for n, r in results.items()}
    return {i: r["status"] for i, r in rows.items()}, parts, stats, clusters


@pytest.mark.parametrize("order_by", ["id", "uri"])
def test_together_on_driver_equals_one_by_one_in_spark(spark, mixed, order_by):
    together = run_context(spark)
    out = run_global_stages(_stages(DedupConfig(order_by=order_by, image_max_docs=5)), mixed, together)
    assert {r.where for r in together.report.globals.values()} == {"driver"}
    got = _outcome(out, together)

    in_spark = run_context(spark)
    df = mixed
    for stage in _stages(DedupConfig(order_by=order_by, image_max_docs=5, driver_max_rows=0)):
        df = stage.apply(df, in_spark)
    assert {r.where for r in in_spark.report.globals.values()} == {"spark"}
    assert got == _outcome(df, in_spark)

    status, parts = got[0], got[1]
    # every kind of duplicate was there to find
    assert set(status.values()) >= {"dedup_exact:duplicate", "dedup_near:duplicate", "dedup_images:near_duplicate",
                                    "dedup_images:frequent_image", "dedup_video:duplicate"}
    assert sum(p[2] == "frequent_image" for ps in parts.values() for p in ps) == 7


def test_one_by_one_on_the_driver_equals_together(spark, mixed):
    """Each stage fetching its own keys (too many for all of them at once, few enough for
    each) decides as the stages do together."""
    cfg = DedupConfig(image_max_docs=5)
    together = run_context(spark)
    want = _outcome(run_global_stages(_stages(cfg), mixed, together), together)
    alone = run_context(spark)
    df = mixed
    for stage in _stages(cfg):
        df = stage.apply(df, alone)
    assert _outcome(df, alone) == want


def test_too_many_key_rows_leave_each_stage_to_its_own_size(spark, mixed):
    ctx = run_context(spark)
    out = run_global_stages(_stages(DedupConfig(image_max_docs=5, driver_max_rows=50)), mixed, ctx)
    where = {n: r.where for n, r in ctx.report.globals.items()}
    # about 135 documents: exact keys and near band rows in Spark, image and video rows fit
    assert where == {"dedup_exact": "spark", "dedup_near": "spark", "dedup_images": "driver",
                     "dedup_video": "driver"}
    expected = run_context(spark)
    want = run_global_stages(_stages(DedupConfig(image_max_docs=5)), mixed, expected)
    assert _outcome(out, ctx)[:2] == _outcome(want, expected)[:2]


def test_later_stages_see_only_what_earlier_ones_kept(spark, mixed):
    """Exact copies are also near-duplicates; near dedup after exact dedup never sees the
    copies exact dedup removed, wherever it decides."""
    for rows in (1_000_000, 0):
        ctx = run_context(spark)
        out = run_global_stages(_stages(DedupConfig(image_max_docs=5, driver_max_rows=rows)), mixed, ctx)
        exact_gone = {r["id"] for r in out.collect() if r["status"] == "dedup_exact:duplicate"}
        near = {i for i, _, _ in cluster_rows(ctx.report.globals["dedup_near"].clusters)}
        assert exact_gone and not exact_gone & near


class _Greedy(GlobalStage):
    """A global stage that drops parts without declaring it writes `parts`."""

    name = "greedy"
    kind = "greedy"
    reads = ()
    writes = ("status",)
    key_schema = pa.schema([("id", pa.string())])

    def keys(self, batch):
        return batch.select(["id"])

    def decide(self, keys, scope):
        return Decision(drops=keys.select("id").with_column("pos", _zero()), drop_reason="x")


def _zero():
    from pipelines.frames import Lit

    return Lit(0)


@pytest.mark.parametrize("rows", [1000, 0], ids=["on_driver", "in_spark"])
def test_a_global_stage_may_mark_only_what_it_declares(spark, mixed, rows):
    stage = _Greedy()
    stage.driver_max_rows = rows
    with pytest.raises(StageContractError, match="greedy changed \\['parts'\\]"):
        run_global_stages([stage], mixed, run_context(spark)).collect()
