"""Dedup stages on Spark: planted near-duplicates, exact copies, images, videos."""

from __future__ import annotations

import pytest

from benchmarks.dedup_corpus import make_corpus
from pipelines.config import DedupConfig
from pipelines.schema import RECORD_DDL, record, text_part
from pipelines.stages.dedup_exact import ExactDedup
from pipelines.stages.dedup_near import NearDedup
from tests.conftest import cluster_rows, run_context

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(1200, n_high=80, n_low=80, n_exact=12, seed=42)


def frame(spark, rows):
    """Records (Arrow-style map fields as pair lists) -> a DataFrame of the record schema."""
    fix = lambda r: dict(r, signals=dict(r["signals"]),  # noqa: E731
                         parts=[dict(p, meta=dict(p["meta"] or [])) for p in r["parts"]])
    return spark.createDataFrame([fix(r) for r in rows], RECORD_DDL)


def records_df(spark, ids, texts, partitions=4):
    rows = [record(i, "gen", f"https://example.org/{i}", [text_part(t)]) for i, t in zip(ids, texts)]
    return frame(spark, rows).repartition(partitions)


def run_dedup(spark, corpus, partitions=4, **cfg):
    d = DedupConfig(**cfg)
    df = records_df(spark, corpus.ids, corpus.texts, partitions)
    ctx = run_context(spark)
    out = NearDedup(d).apply(ExactDedup(d).apply(df, ctx), ctx)
    return {r["id"]: r["status"] for r in out.select("id", "status").collect()}, ctx.report.globals["dedup_near"]


def rates(status, corpus):
    dup = lambda i: status[i] != "keep"  # noqa: E731
    # A pair is found when exactly one of its two documents is removed as a near-duplicate.
    recall = sum(sorted((status[a], status[b])) == ["dedup_near:duplicate", "keep"]
                 for a, b, _ in corpus.high) / len(corpus.high)
    fp = sum(dup(a) or dup(b) for a, b, _ in corpus.low) / len(corpus.low)
    return recall, fp


@pytest.fixture(scope="module")
def verified(spark, corpus):
    return run_dedup(spark, corpus, partitions=4)


def test_planted_pairs_recall_and_false_positives(verified, corpus):
    status, near = verified
    recall, fp = rates(status, corpus)
    assert recall >= 0.95 and fp <= 0.01, (recall, fp)
    # Every exact copy goes, to exact dedup; the lowest id survives ("copy-*" < "doc-*").
    assert all(status[a] == "dedup_exact:duplicate" and status[b] == "keep" for a, b in corpus.exact)
    # Nothing that was not planted is touched.
    planted = {x for a, b, _ in corpus.high + corpus.low for x in (a, b)} | {x for p in corpus.exact for x in p}
    assert all(s == "keep" for i, s in status.items() if i not in planted)
    assert near.stats["verified_pairs"] <= near.stats["candidate_pairs"]


def test_same_result_whatever_the_partitioning_and_on_rerun(spark, verified, corpus):
    status, _ = verified
    assert run_dedup(spark, corpus, partitions=1)[0] == status
    assert run_dedup(spark, corpus, partitions=7)[0] == status


def test_signature_verification_and_no_verification(spark, corpus):
    by_sig, _ = run_dedup(spark, corpus, verify="signature")
    recall, fp = rates(by_sig, corpus)
    assert recall >= 0.95 and fp <= 0.01
    unverified, near = run_dedup(spark, corpus, verify="none")
    # Without verification every candidate counts: a superset of the verified removals.
    assert {i for i, s in by_sig.items() if s != "keep"} <= {i for i, s in unverified.items() if s != "keep"}
    assert near.stats["verified_pairs"] == near.stats["candidate_pairs"]


def test_survivor_follows_order_by(spark):
    text = make_corpus(1, seed=9).texts[0]
    words = text.split()
    variant = " ".join(words[:-1] + ["zzzunique"])
    rows = [record(i, "gen", uri, [text_part(t)]) for i, uri, t in
            (("a", "https://z.example/late", text), ("b", "https://a.example/early", variant))]
    df = frame(spark, rows)
    out = NearDedup(DedupConfig(order_by="uri")).apply(df, run_context(spark))
    assert dict(out.select("id", "status").collect()) == {"a": "dedup_near:duplicate", "b": "keep"}


def test_chained_near_duplicates_form_one_cluster(spark):
    # a ~ b ~ c but a and c share less: connected components put all three together.
    words = make_corpus(1, seed=4, words=(400, 401)).texts[0].split()
    b = words[:390] + ["qqq"] * 10
    c = words[:380] + ["qqq"] * 20
    texts = {"a": " ".join(words), "b": " ".join(b), "c": " ".join(c)}
    df = frame(spark, [record(i, "gen", i, [text_part(t)]) for i, t in texts.items()])
    ctx = run_context(spark)
    out = dict(NearDedup(DedupConfig(threshold=0.9)).apply(df, ctx).select("id", "status").collect())
    assert out == {"a": "keep", "b": "dedup_near:duplicate", "c": "dedup_near:duplicate"}
    assert {root for _, root, _ in cluster_rows(ctx.report.globals["dedup_near"].clusters)} == {"a"}


def test_exact_key_options_in_the_stage(spark):
    rows = [record("1", "g", "u1", [text_part("Offer ends 2024-05-01! Buy now.")]),
            record("2", "g", "u2", [text_part("Offer ends 2025-11-30. Buy now")])]
    df = frame(spark, rows)
    plain = dict(ExactDedup(DedupConfig()).apply(df, run_context(spark)).select("id", "status").collect())
    loose = dict(ExactDedup(DedupConfig(strip_digits=True, strip_punctuation=True)).apply(df, run_context(spark))
                 .select("id", "status").collect())
    assert plain == {"1": "keep", "2": "keep"}
    assert loose == {"1": "keep", "2": "dedup_exact:duplicate"}


@pytest.mark.parametrize("driver_max_rows", [1_000_000, 0], ids=["on_driver", "in_spark"])
def test_images_near_duplicates_and_frequent_images(spark, driver_max_rows):
    from pipelines.config import ImagesConfig
    from pipelines.schema import caption_part, image_part
    from pipelines.stages.dedup_images import ImageDedup
    from pipelines.stages.images import Images
    from tests.images_util import encode, scene

    x = scene(300, 200, seed=1)
    logo = encode(scene(160, 160, seed=7), "PNG")  # at least images.page_min_side: a logo, not an icon
    jpeg = lambda w, h, seed: encode(scene(w, h, seed), "JPEG", quality=90)  # noqa: E731
    rows = [
        record("p1", "pairs", "p1", [image_part(encode(x, "JPEG", quality=90)), caption_part("a red kite")]),
        # The same picture smaller and recompressed, another caption: a near-duplicate pair.
        record("p2", "pairs", "p2", [image_part(encode(x.resize((240, 160)), "JPEG", quality=75)),
                                     caption_part("kite in the sky")]),
        record("p3", "pairs", "p3", [image_part(jpeg(300, 200, seed=2)), caption_part("another photo")]),
        record("p4", "pairs", "p4", [image_part(logo), caption_part("our logo")]),
    ]
    for i in range(12):  # a logo on twelve pages, next to each page's own picture
        rows.append(record(f"w{i:02d}", "web", f"w{i}", [text_part(f"Page {i} text."), image_part(logo),
                                                         image_part(jpeg(200, 150, seed=100 + i))]))
    ctx = run_context(spark)
    df = Images(ImagesConfig()).apply(frame(spark, rows), ctx)
    stage = ImageDedup(DedupConfig(image_max_docs=10, driver_max_rows=driver_max_rows))
    out = {r["id"]: r for r in stage.apply(df, ctx).collect()}
    result = ctx.report.globals["dedup_images"]
    assert result.stats["cc_on"] == ("driver" if driver_max_rows else "spark")
    status = {i: r["status"] for i, r in out.items()}
    assert status["p1"] == "keep" and status["p2"] == "dedup_images:near_duplicate"
    assert status["p3"] == "keep" and status["p4"] == "dedup_images:frequent_image"
    for i in range(12):
        doc = out[f"w{i:02d}"]
        assert doc["status"] == "keep"
        logo_part, own = doc["parts"][1], doc["parts"][2]
        assert logo_part["meta"]["dropped"] == "frequent_image" and logo_part["data"] is None
        assert "dropped" not in own["meta"] and own["data"] is not None
    assert result.stats["frequent_clusters"] == 1 and result.stats["frequent_parts_dropped"] == 13
    assert result.stats["images"] == 28 and result.stats["image_clusters"] == 15
    assert result.stats["distinct_images"] == 16
    clusters = cluster_rows(result.clusters)
    assert len(clusters) == 2 and sorted(c[2] for c in clusters) == [False, True]


def _frame_doc(doc_id, hashes):
    from pipelines.schema import text_part

    parts = [text_part("A video.")] + [{"kind": "frame", "text": None, "data": None,
                                         "meta": [("dhash", f"{h:016x}")]} for h in hashes]
    return record(doc_id, "video", doc_id, parts)


def test_video_dedup_on_driver_equals_spark(spark):
    """Frame-hash sequences with planted copies (a few bits flipped), flat frames and one
    chain: the driver path and the Spark path give the same clusters, statuses and counts."""
    import random

    from pipelines.stages.dedup_video import VideoDedup

    rng = random.Random(3)
    base = {f"v{i:02d}": [rng.getrandbits(64) for _ in range(20)] for i in range(12)}
    flip = lambda h, n: h ^ sum(1 << b for b in rng.sample(range(64), n))  # noqa: E731
    base["v90"] = [flip(h, 3) for h in base["v01"]]                  # copy of v01
    base["v91"] = [flip(h, 2) for h in base["v90"]]                  # copy of the copy
    base["v92"] = [flip(h, 3) for h in base["v05"][:10]] + base["v06"][10:]  # half matches: not a copy
    base["v93"] = [0] * 20                                           # flat frames carry no keys
    base["v94"] = [0] * 20
    df = frame(spark, [_frame_doc(i, h) for i, h in sorted(base.items())])

    def run(rows):
        ctx = run_context(spark)
        out = {r["id"]: r["status"] for r in VideoDedup(DedupConfig(driver_max_rows=rows)).apply(df, ctx)
               .select("id", "status").collect()}
        result = ctx.report.globals["dedup_video"]
        return out, cluster_rows(result.clusters), dict(result.stats)

    (d_status, d_clusters, d_stats), (s_status, s_clusters, s_stats) = run(1000), run(0)
    assert d_stats.pop("cc_on") == "driver" and s_stats.pop("cc_on") in ("driver", "spark")
    assert (d_status, d_clusters) == (s_status, s_clusters)
    assert d_stats == dict(s_stats, cc_rounds=0)
    assert {i for i, s in d_status.items() if s != "keep"} == {"v90", "v91"}
    assert d_stats["videos"] == 17 and d_stats["verified_pairs"] == 3


@pytest.mark.parametrize("driver_max_rows", [1_000_000, 0], ids=["on_driver", "in_spark"])
def test_videos_with_matching_frame_hashes_are_duplicates(spark, tmp_path, driver_max_rows):
    import json

    from pipelines.config import parse_config
    from pipelines.run import run_pipeline
    from tests.videos_util import make_scene_video

    make_scene_video(tmp_path / "a.mp4", seed=1, size=(160, 120), gop=24)
    make_scene_video(tmp_path / "b_copy.mkv", seed=1, fps=24, size=(320, 240), gop=12)  # re-encoded, larger
    make_scene_video(tmp_path / "c_other.mp4", seed=2, size=(160, 120))
    out = tmp_path / "out"
    cfg = parse_config({"run": {"name": "v", "output": str(out), "progress": False},
                        "inputs": [{"name": "video", "format": "video", "path": str(tmp_path)}],
                        # Only what videos need: text filters would only add start-up time.
                        "dedup": {"driver_max_rows": driver_max_rows},
                        **{k: {"enabled": False} for k in ("urlfilter", "pii", "langid", "quality")}})
    run_pipeline(cfg, spark)
    status = {r["uri"]: r["status"] for r in spark.read.parquet(str(out / "_work" / "docs")).collect()}
    assert status == {"a.mp4": "keep", "b_copy.mkv": "dedup_video:duplicate", "c_other.mp4": "keep"}
    report = json.loads((out / "report" / "stages.json").read_text())
    assert report["dedup"]["video"]["removed"] == 1 and report["dedup"]["video"]["clusters"] == 1
    assert report["dedup"]["video"]["cc_on"] == ("driver" if driver_max_rows else "spark")
    # Decided on the driver, dedup's only join is a broadcast: nothing is shuffled.
    shuffled = report["dedup"]["shuffle"]["shuffle_write_bytes"]
    assert shuffled > 0 if not driver_max_rows else shuffled == 0
    clusters = spark.read.parquet(str(out / "report" / "dedup_clusters")).filter("kind = 'video'").count()
    assert clusters == 2


@pytest.mark.parametrize("verify", ["jaccard", "signature", "none"])
def test_near_dedup_on_driver_equals_spark(spark, corpus, verify):
    """Few band rows: candidates, verification and clusters on the driver; the same
    statuses, clusters and counts as the Spark joins and rounds."""
    def run(rows):
        d = DedupConfig(verify=verify, driver_max_rows=rows)
        ctx = run_context(spark)
        out = NearDedup(d).apply(records_df(spark, corpus.ids, corpus.texts), ctx)
        status = {r["id"]: r["status"] for r in out.select("id", "status").collect()}
        result = ctx.report.globals["dedup_near"]
        return status, cluster_rows(result.clusters), dict(result.stats)

    (d_status, d_clusters, d_stats), (s_status, s_clusters, s_stats) = run(1_000_000), run(0)
    assert d_stats.pop("cc_on") == "driver" and s_stats.pop("cc_on") == "spark"
    assert d_stats.pop("cc_rounds") == 0
    s_stats.pop("cc_rounds")
    assert d_status == s_status and d_clusters == s_clusters and d_stats == s_stats
    assert d_stats["candidate_pairs"] >= d_stats["verified_pairs"] > 0
    assert sum(s != "keep" for s in d_status.values()) > 50
