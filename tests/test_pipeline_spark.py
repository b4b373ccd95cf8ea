"""Stages on the shared local Spark session, over small inputs the tests write."""

import json

import pytest
from pyspark.sql import functions as F

from pipelines.config import parse_config
from pipelines.ingest import Ingest
from pipelines.plan import record_stages
from pipelines.run import run_pipeline
from pipelines.stages.dedup_exact import ExactDedup
from tests.conftest import run_context
from tests.test_warc_reader import PARAS
from tests.warcs import html_page, warc_record, write_warc

pytestmark = pytest.mark.spark

EN_POOL = [
    "The river path follows the water for six miles, past old mills and quiet farms.",
    "It is one of the best walks in the whole county for families with children.",
    "In spring the meadows along the bank are full of wild flowers and nesting birds.",
    "A small cafe at the old lock serves tea, soup and fresh bread until late afternoon.",
    "Cyclists share the path with walkers, so everyone is asked to slow down at the bridges.",
    "The council repaired the wooden footbridge last year after the winter floods.",
    "Maps of the route are available at the library and at the visitor centre.",
    "On summer evenings people fish from the pier while the sun sets over the hills.",
]
FR_POOL = [
    "Le sentier suit la rivière pendant dix kilomètres, devant les vieux moulins.",
    "C'est une des plus belles promenades de toute la région pour les familles.",
    "Au printemps, les prés au bord de l'eau sont couverts de fleurs sauvages.",
    "Un petit café près de l'écluse sert du thé, de la soupe et du pain frais.",
    "Les cyclistes partagent le chemin avec les marcheurs et ralentissent aux ponts.",
    "La commune a réparé la passerelle en bois l'année dernière après les crues.",
    "Des cartes du parcours sont disponibles à la bibliothèque et à l'office de tourisme.",
    "Les soirs d'été, on pêche depuis la jetée pendant que le soleil se couche.",
]


def doc_text(i: int) -> str:
    pool = EN_POOL if i % 2 else FR_POOL
    tail = f"Walk number {i} is marked in blue." if i % 2 else f"La promenade numéro {i} est balisée en bleu."
    return " ".join(pool[(i + k) % len(pool)] for k in range(7)) + " " + tail


LONG = PARAS + [
    "In the afternoon the wind rises and the sailing school takes its pupils out beyond the "
    "breakwater, where the waves are higher and the instructors shout advice from a motor boat.",
    "Most of the restaurants close between lunch and dinner, so anyone hungry at four o'clock "
    "has to make do with an ice cream from the kiosk next to the lifeboat station.",
    "The kiosk also sells postcards and maps of the coastal path. Tickets for the evening ferry "
    "are sold there too, and the ferry leaves from the end of the stone pier at seven.",
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    write_warc(d / "a.warc.gz", [
        warc_record("http://a.example/1", html_page("Harbour", LONG)),
        warc_record("http://a.example/2", html_page("Harbour", LONG)),          # exact copy
        warc_record("http://a.example/3", html_page("Broken", LONG[::-1])),           # corrupted below
        warc_record("http://a.example/4", html_page("Short", [
            "This page is much too short to be a useful document for any training run."])),
        warc_record("http://a.example/logo.png", b"\x89PNG....", "image/png"),
    ], corrupt={2})
    lines = [json.dumps({"id": f"d{i}", "url": f"http://d.example/{i}", "text": doc_text(i)})
             for i in range(12)]
    lines.insert(3, "{not json")
    respaced = "  " + doc_text(0).replace(" ", "   ")
    lines.append(json.dumps({"id": "dup", "url": "http://d.example/dup", "text": respaced}))
    (d / "docs.jsonl").write_text("\n".join(lines) + "\n")
    return d


def config(inputs, out, **extra):
    data = {
        "run": {"name": "t", "output": str(out), "progress": False},
        "inputs": [{"name": "crawl", "format": "warc", "path": str(inputs / "*.warc.gz")},
                   {"name": "docs", "format": "jsonl", "path": str(inputs / "docs.jsonl")}],
        "shards": {"max_samples": 4},
    }
    data.update(extra)
    return parse_config(data, "test.toml")


def statuses(df):
    return {r["status"]: r["count"] for r in df.groupBy("status").count().collect()}


def test_every_stage_rows_in_equal_kept_plus_rejected(spark, inputs, tmp_path):
    cfg = config(inputs, tmp_path / "out")
    stages = record_stages(cfg) + [ExactDedup(cfg.dedup)]
    df, ctx = None, run_context(spark)
    for stage in stages:
        before = statuses(df) if df is not None else None
        rows_before = {r["id"]: r.asDict() for r in df.collect()} if df is not None else None
        df = stage.apply(df, ctx).cache()
        after = statuses(df)
        if rows_before is not None:
            # The stage changed nothing it does not declare in `writes`.
            untouched = [c for c in df.columns if c not in stage.writes]
            for r in df.collect():
                assert {c: r[c] for c in untouched} == {c: rows_before[r["id"]][c] for c in untouched}, stage.name
        if before is None:
            rows_in = sum(after.values())
        else:
            rows_in = before.get("keep", 0)
            assert sum(after.values()) == sum(before.values()), f"{stage.name} dropped rows"
        new_rejected = sum(n for s, n in after.items() if s.startswith(f"{stage.name}:"))
        assert rows_in == after.get("keep", 0) + new_rejected, stage.name
        # rows already rejected pass through untouched
        if before is not None:
            for s, n in before.items():
                if s != "keep":
                    assert after[s] == n
    final = statuses(df)
    assert final["ingest:corrupt_gzip"] == 1
    assert final["ingest:image_resource"] == 1
    assert final["ingest:bad_json"] == 1
    assert final["quality:gopher_quality:short_doc"] >= 1
    assert final["dedup_exact:duplicate"] == 2  # the WARC copy and the re-spaced JSONL copy


def test_each_ingest_task_reads_exactly_one_planned_task(spark, tmp_path):
    from pipelines.config import parse_config

    # Spark's round-robin repartition put 8 such rows from 2 slices in 4 partitions, two each;
    # the plan now rides in the closure and spark.range gives each task one index.
    for i in range(8):
        (tmp_path / f"d{i}.jsonl").write_text("".join(
            json.dumps({"id": f"{i}-{j}", "text": f"file {i} line {j}"}) + "\n" for j in range(3)))
    cfg = parse_config({"inputs": [{"name": "docs", "format": "jsonl", "path": str(tmp_path / "*.jsonl")}]}, "<t>")
    df = Ingest(cfg.inputs).apply(None, run_context(spark))
    assert df.rdd.getNumPartitions() == 8
    placed = df.select(F.spark_partition_id().alias("p"), "uri").collect()
    files_per_partition = {}
    for r in placed:
        files_per_partition.setdefault(r["p"], set()).add(r["uri"].split("#")[0])
    assert sorted(len(f) for f in files_per_partition.values()) == [1] * 8
    assert len(placed) == 24


def test_dedup_survivor_is_lowest_id(spark, inputs, tmp_path):
    cfg = config(inputs, tmp_path / "out")
    ctx = run_context(spark)
    df = Ingest(cfg.inputs).apply(None, ctx)
    out = ExactDedup(cfg.dedup).apply(df, ctx).filter(F.col("uri").isin("http://a.example/1", "http://a.example/2"))
    rows = sorted((r["id"], r["status"]) for r in out.collect())
    assert [s for _, s in rows] == ["keep", "dedup_exact:duplicate"]


def test_run_with_corrupt_member_completes_and_reports(spark, inputs, tmp_path):
    result = run_pipeline(config(inputs, tmp_path / "out"), spark)
    out = tmp_path / "out"
    assert (out / "manifest.json").is_file()
    report = json.loads((out / "report" / "stages.json").read_text())
    ingest = report["stages"][0]
    assert ingest["reasons"]["corrupt_gzip"] == 1
    for s in report["stages"]:
        assert s["in"] == s["kept"] + s["rejected"]
    rejected = spark.read.parquet(str(out / "rejected"))
    assert rejected.count() == sum(s["rejected"] for s in report["stages"])
    assert result.manifest["totals"]["samples"] == report["stages"][-1]["kept"]
    assert {r["status"] for r in rejected.select("status").collect()} >= {"ingest:corrupt_gzip", "ingest:bad_json"}


def test_missing_input_is_a_clear_error(spark, tmp_path):
    from pipelines.io.storage import InputNotFound

    cfg = parse_config({"run": {"output": str(tmp_path / "o"), "progress": False},
                        "inputs": [{"name": "x", "format": "jsonl", "path": str(tmp_path / "nope/*.jsonl")}]})
    with pytest.raises(InputNotFound, match="matches no files"):
        run_pipeline(cfg, spark)
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_ingest_runs_once_per_record(spark, inputs, tmp_path):
    """Image resolution reads the records three times; extraction must still run once."""
    cfg = config(inputs, tmp_path / "out")
    ctx = run_context(spark)
    ctx.records = spark.sparkContext.accumulator(0)
    df = None
    for stage in record_stages(cfg):
        df = stage.apply(df, ctx)
    n = df.count()
    assert ctx.records.value == n > 0


def test_fused_batch_stages_give_the_same_records(spark, inputs, tmp_path):
    """The text stages run inside ingest's task, the media stages after the join in one
    mapInArrow: same statuses, signals and parts as stage by stage."""
    from pipelines.stage import BatchRun, fuse
    from pipelines.stages.resolve_images import ResolveImages

    cfg = config(inputs, tmp_path / "out")
    stages = record_stages(cfg)
    split = next(i for i, s in enumerate(stages) if isinstance(s, ResolveImages))
    fused = fuse(stages)
    assert isinstance(fused[0], Ingest) and list(fused[0].hosted) == stages[1:split] and len(fused[0].hosted) >= 3
    assert fused[0].name == "+".join(s.name for s in stages[:split])
    assert isinstance(fused[1], ResolveImages)
    media = stages[split + 1:]
    assert len(fused) == 3 and [s.name for s in fused][-1] == "+".join(s.name for s in media)
    assert isinstance(fused[2], BatchRun) and fused[2].stages == media

    def rows(stage_list):
        df, ctx = None, run_context(spark)
        for stage in stage_list:
            df = stage.apply(df, ctx)
        return {r["id"]: (r["status"], sorted(r["signals"].items()) if r["signals"] else None,
                          [(p["kind"], p["text"]) for p in r["parts"]])
                for r in df.select("id", "status", "signals", "parts").collect()}

    separate, together = rows(stages), rows(fused)
    assert together == separate and len(together) > 5


def _records(df):
    return {r["id"]: (r["status"], sorted(r["signals"].items()) if r["signals"] else None,
                      [(p["kind"], p["text"], p["data"], sorted((p["meta"] or {}).items())) for p in r["parts"]])
            for r in df.select("id", "status", "signals", "parts").collect()}


def _stage_by_stage(spark, stages):
    df, ctx = None, run_context(spark)
    for stage in stages:
        df = stage.apply(df, ctx)
    return _records(df)


@pytest.mark.parametrize("with_image,resolve_on_driver_bytes", [(False, 256_000_000), (True, 256_000_000), (True, 0)],
                         ids=["no_media", "images_on_driver", "images_by_join"])
def test_ingest_and_filter_equals_stage_by_stage(spark, inputs, tmp_path, with_image, resolve_on_driver_bytes):
    """Text stages inside ingest's task, media stages only on records with media (or, with
    none, no media pass at all), images resolved from a broadcast lookup or by Spark's join:
    the same records as every stage applied in turn (with the join)."""
    from pipelines.phases import record_phase
    from tests.images_util import jpeg

    d = tmp_path / "in"
    d.mkdir()
    pages = [warc_record("http://a.example/1", html_page("Harbour", LONG)),
             warc_record("http://a.example/4", html_page("Short", ["Too short to keep."]))]
    if with_image:
        body = html_page("Pictures", LONG).replace(
            b"</article>", b"<img src='http://a.example/pic.jpg' alt='the harbour at dawn'></article>")
        pages += [warc_record("http://a.example/5", body),
                  warc_record("http://a.example/pic.jpg", jpeg(640, 480), "image/jpeg")]
    write_warc(d / "a.warc.gz", pages)
    (d / "docs.jsonl").write_text((inputs / "docs.jsonl").read_text())
    cfg = config(d, tmp_path / "out")
    cfg.images.resolve_on_driver_bytes = resolve_on_driver_bytes
    stages = record_stages(cfg)
    work = tmp_path / "work"
    ctx = run_context(spark)
    record_phase(stages, ctx, str(work / "ingested"), str(work / "filtered"))
    tallies = {n: ctx.count(n) for n in ("media_records", "image_resources")}
    if "images_resolved_on" in ctx.report.notes:
        tallies["images_resolved_on"] = ctx.report.notes["images_resolved_on"]
    assert not (work / "ingested").exists()
    together = _records(spark.read.parquet(str(work / "filtered")))
    assert together == _stage_by_stage(spark, stages) and len(together) > 10
    if with_image:
        assert tallies == {"media_records": 1, "image_resources": 1,
                           "images_resolved_on": "driver" if resolve_on_driver_bytes else "spark"}
        parts = next(v[2] for v in together.values()
                     if {p[0] for p in v[2]} == {"text", "image"} and v[0] == "keep")
        image = next(p for p in parts if p[0] == "image")
        assert image[2] is not None and ("width", "640") in image[3]  # resolved and planned
    else:
        assert tallies == {"media_records": 0, "image_resources": 0}
