"""The pipeline assembled from a config, run phase by phase with Parquet checkpoints.

Phases: ingest + per-record filters -> checkpoint; dedup -> checkpoint; report and
rejected rows; tokenize + shards; manifest last. Each phase reads the previous phase's
Parquet, so no Spark plan recomputes extraction or language ID.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import __version__
from pipelines.config import Config
from pipelines import checkpoint
from pipelines.dedup_driver import apply_dedup
from pipelines.ingest import Ingest
from pipelines.output import MANIFEST, Output, fingerprint
from pipelines.progress import Progress
from pipelines.report import stage_counts
from pipelines.schema import KEEP, MEDIA_KINDS
from pipelines.stage import fuse
from pipelines.spark import check_java, get_session
from pipelines.sparkstats import last_stage_id, shuffle_since
from pipelines.stages.dedup_exact import ExactDedup
from pipelines.stages.dedup_images import ImageDedup
from pipelines.stages.dedup_near import NearDedup
from pipelines.stages.dedup_video import VideoDedup
from pipelines.stages.images import Images
from pipelines.stages.langid import LanguageId
from pipelines.stages.quality import Quality
from pipelines.stages.pii import PiiMask
from pipelines.stages.resolve_images import ResolveImages
from pipelines.stages.urlfilter import UrlFilter
from pipelines.stages.shard import WriteShards, auto_partitions
from pipelines.stages.tokenize import Tokenize
from pipelines.stages.video import Video

PREVIEW_CHARS = 2000


@dataclass
class RunResult:
    output: str
    manifest: dict
    stages: list[dict]
    timings: dict[str, float] = field(default_factory=dict)
    part_drops: dict[str, int] = field(default_factory=dict)
    resumed: list[str] = field(default_factory=list)


def ingest_and_filter(spark, stages: list, ingested: str, filtered: str) -> dict:
    """Run the fused record stages and write `filtered`. Returns what the media tallies said.

    Ingest and the text stages run in one Python pass per file (`stages[0]`). Without a
    join to do, the later stages are fused into it as well. With WARC input, the pass
    writes `ingested` while counting media records and image resources; the media stages
    (resolve_images, video, images) then run only on records that hold media, the others
    are copied by the JVM, and a run without any media renames `ingested` to `filtered`.
    """
    from pyspark.sql import functions as F

    head, rest = stages[0], stages[1:]
    if not rest:
        head.apply(spark).write.mode("overwrite").parquet(filtered)
        return {}
    sc = spark.sparkContext
    head.tallies = (sc.accumulator(0), sc.accumulator(0), sc.accumulator(0))
    head.apply(spark).write.mode("overwrite").parquet(ingested)
    media, resources, resource_bytes = (t.value for t in head.tallies)
    tallies = {"media_records": media, "image_resources": resources}
    if media == 0:
        shutil.rmtree(filtered, ignore_errors=True)
        os.replace(ingested, filtered)
        return tallies
    df = spark.read.parquet(ingested)
    has_media = F.coalesce((F.col("status") == KEEP) & F.exists(
        "parts", lambda p: p["kind"].isin(*MEDIA_KINDS)), F.lit(False))
    pages = df.filter(has_media)
    broadcasts: list = []
    for stage in resolving_images(spark, rest, df, resources, resource_bytes, tallies, broadcasts):
        pages = stage.apply(pages)
    pages.unionByName(df.filter(~has_media)).write.mode("overwrite").parquet(filtered)
    for b in broadcasts:  # up to images.resolve_on_driver_bytes each, on the driver and workers
        b.destroy()
    shutil.rmtree(ingested, ignore_errors=True)
    return tallies


def resolving_images(spark, stages: list, df, resources: int, resource_bytes: int, tallies: dict,
                     broadcasts: list) -> list:
    """The media stages with image resolution as this run's data calls for: none without
    image responses; their bytes broadcast (appended to `broadcasts`, for the caller to
    release) and filled in the media stages' Python pass when they are at most
    `images.resolve_on_driver_bytes`; else Spark's join."""
    from pipelines.stage import BatchStage, FusedBatchStages
    from pipelines.stages.resolve_images import ResolveFromLookup, resource_lookup

    out: list = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, ResolveImages):
            out.append(stage)
            continue
        if not resources:
            tallies["images_resolved_on"] = None
            continue
        if resource_bytes > stage.driver_max_bytes:
            tallies["images_resolved_on"] = "spark"
            out.append(_JoinedWith(stage, df))
            continue
        table = stage.resources(df).toArrow()
        lookup = spark.sparkContext.broadcast(resource_lookup(
            *(table.column(c).to_pylist() for c in ("uri", "id", "data"))))
        broadcasts.append(lookup)
        tallies["images_resolved_on"] = "driver"
        local, following = ResolveFromLookup(lookup), stages[i + 1:]
        if following and isinstance(following[0], FusedBatchStages):
            return out + [FusedBatchStages([local, *following[0].stages]), *following[1:]]
        if following and isinstance(following[0], BatchStage):
            return out + [FusedBatchStages([local, following[0]]), *following[1:]]
        return out + [local, *following]
    return out


class _JoinedWith:
    """ResolveImages with the records holding the image responses bound."""

    def __init__(self, stage, resources_from):
        self.stage, self.resources_from = stage, resources_from

    def apply(self, pages):
        return self.stage.apply(pages, resources_from=self.resources_from)


def record_stages(cfg: Config, counter=None, storage_opts=None, tasks=None) -> list:
    """The per-record stages in order; each is skipped when disabled in config."""
    stages = [Ingest(cfg.inputs, cfg.run.arrow_batch_size, counter, storage_opts, tasks)]
    if cfg.urlfilter.enabled:
        stages.append(UrlFilter(cfg.urlfilter))
    if cfg.pii.enabled:
        stages.append(PiiMask(cfg.pii))
    if cfg.langid.enabled:
        stages.append(LanguageId(cfg.langid))
    if cfg.quality.enabled:
        stages.append(Quality(cfg.quality))
    # The text stages neither read nor change image parts, so pages they reject are not
    # joined with images, and a run without media never needs the join (ingest_and_filter).
    if any(i.format == "warc" for i in cfg.inputs):
        stages.append(ResolveImages(cfg.images.resolve_on_driver_bytes))
    if cfg.video.enabled and any(i.format == "video" for i in cfg.inputs):
        stages.append(Video(cfg.video, storage_opts))
    if cfg.images.enabled:
        stages.append(Images(cfg.images, cfg.video.frame_max_tiles))
    return stages


def dedup_stages(cfg: Config) -> list:
    """Exact, near-duplicate, image and video dedup, each when enabled and applicable."""
    d, stages = cfg.dedup, []
    if d.exact:
        stages.append(ExactDedup(d))
    if d.near:
        stages.append(NearDedup(d))
    if d.images and cfg.images.enabled:
        stages.append(ImageDedup(d))
    if d.video and cfg.video.enabled and any(i.format == "video" for i in cfg.inputs):
        stages.append(VideoDedup(d))
    return stages


def stage_names(cfg: Config) -> list[str]:
    return [s.name for s in record_stages(cfg)] + [s.name for s in dedup_stages(cfg)]


def code_version() -> str:
    if os.environ.get("EARLYFUSE_CODE_VERSION"):  # set by `earlyfuse submit`
        return os.environ["EARLYFUSE_CODE_VERSION"]
    here = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        if rev.returncode == 0 and rev.stdout.strip():
            return f"{__version__}+g{rev.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return __version__


def _text_preview():
    from pyspark.sql import functions as F

    texts = F.filter("parts", lambda p: p["kind"] == "text")
    return F.substring(F.concat_ws("\n\n", F.transform(texts, lambda p: p["text"])), 1, PREVIEW_CHARS)


def _is_local(spark) -> bool:
    """Local mode: the executor is the driver, so executor memory is as safe as Parquet."""
    return spark.sparkContext.master.startswith("local")


def run_pipeline(cfg: Config, spark=None) -> RunResult:
    from pyspark.sql import functions as F

    if spark is None:
        check_java()
    out = Output(cfg)
    # Inputs are listed before the output is touched: a typo in a path leaves the last
    # finished output as it was.
    tasks = Ingest(cfg.inputs, storage_opts=out.opts).plan()
    resumed = out.prepare(fingerprint(cfg, code_version()), cfg.run.resume)
    spark = spark or get_session(cfg)
    progress = Progress(spark, enabled=cfg.run.progress)
    t_start = time.monotonic()
    skipped: list[str] = []

    if out.checkpoint_done("filtered"):
        skipped.append("ingest+filter")
    else:
        with progress.phase("ingest+filter"):
            ingest_and_filter(spark, fuse(record_stages(cfg, progress.records, out.opts, tasks)),
                              out.work_path("ingested"), out.work_path("filtered"))

    docs = spark.read.parquet(out.work_path("filtered"))
    dedup, dedup_report = dedup_stages(cfg), {}
    if dedup:
        saved = Path(out.work_path("dedup.json"))
        if out.checkpoint_done("docs") and saved.is_file():
            skipped.append("dedup")
            dedup_report = json.loads(saved.read_text())
        else:
            with progress.phase("dedup"):
                # On a cluster, intermediate dedup data goes to Parquet under the work folder:
                # an executor lost mid-job must not take checkpointed blocks with it. In local
                # mode the executor is the driver, so executor memory is as safe and faster.
                checkpoint.use(None if _is_local(spark) else out.work_path("dedup_tmp"))
                try:
                    first_stage = last_stage_id(spark)
                    docs = apply_dedup(docs, dedup, cfg.dedup)
                    docs.write.mode("overwrite").parquet(out.work_path("docs"))
                    shuffle = shuffle_since(spark, first_stage)
                    dedup_report = dedup_summary(dedup, out.work_path("dedup_clusters"), shuffle)
                    write_json_atomic(saved, dedup_report)
                finally:
                    checkpoint.use(None)
                shutil.rmtree(out.work_path("dedup_tmp"), ignore_errors=True)
        docs = spark.read.parquet(out.work_path("docs"))

    with progress.phase("report"):
        by_source, part_drops = status_and_drops(docs)
        status_counts: dict[str, int] = {}
        for r in by_source:
            status_counts[r["status"]] = status_counts.get(r["status"], 0) + r["count"]
        stages = stage_counts(status_counts, stage_names(cfg))
        rejected = (docs.filter(F.col("status") != KEEP)
                    .select("id", "source", "uri", "status", "lang", "lang_score", "signals",
                            _text_preview().alias("text_preview"))
                    .orderBy("id"))
        if dedup:
            shutil.copytree(out.work_path("dedup_clusters"), out.spark_path("report", "dedup_clusters"))
            out.publish("report/dedup_clusters")
        # Written while tokenize+shard runs: both only read `docs`, and each leaves cores idle
        # while the other's queries plan and compile and its single-task stages run.
        writing_rejected = Background(lambda: rejected.write.parquet(out.spark_path("rejected")))

    try:
        n_kept = status_counts.get(KEEP, 0)
        partitions = auto_partitions(n_kept, cfg.shards.max_samples, cfg.shards.partitions)
        shard_dir = out.path("shards")
        done = committed_partitions(shard_dir, out.opts) if resumed else {}
        if done:
            skipped.append(f"shards of {len(done)}/{partitions} partitions")
        with progress.phase("tokenize+shard"):
            kept = docs.filter(F.col("status") == KEEP)
            if done:
                # Same documents, same partitioning: a committed partition needs no tokens.
                kept = kept.filter(~F.expr(f"pmod(hash(id), {partitions})").isin(list(done)))
            tokens = Tokenize(cfg.tokenizer.spec, cfg.tokenizer.part_separator).apply(kept)
            writer = WriteShards(shard_dir, cfg.shards.name, cfg.shards.max_samples,
                                 cfg.shards.max_bytes, partitions, cfg.images, out.opts)
            written = [r.asDict() for r in writer.apply(tokens).collect()]
            infos = sorted(written + [i for infos in done.values() for i in infos], key=lambda d: d["name"])
    except BaseException:
        writing_rejected.join(raise_error=False)  # never leave it writing behind a failure
        raise
    writing_rejected.join()
    out.publish("rejected")

    from pipelines.stages.tokenize import tokenizer

    total_s = time.monotonic() - t_start
    manifest = build_manifest(cfg, infos, tokenizer(cfg.tokenizer.spec).describe())
    if manifest["totals"]["samples"] != n_kept:
        raise AssertionError(f"shards hold {manifest['totals']['samples']} samples, "
                             f"{n_kept} documents were kept")
    timings = dict(progress.timings, total=round(total_s, 3))
    out.write_json("report/stages.json",
                   report_dict(stages, by_source, timings, status_counts, part_drops, dedup_report,
                               resumed=skipped))
    # Written last: a folder without it is not a finished dataset.
    out.write_json(MANIFEST, manifest)
    return RunResult(out.uri, manifest, stages, timings, dict(sorted(part_drops.items())), skipped)


class Background:
    """A Spark action on another thread (carrying this thread's job properties); join()
    waits for it and raises what it raised."""

    def __init__(self, action):
        from pyspark import InheritableThread

        self.error: BaseException | None = None

        def run():
            try:
                action()
            except BaseException as e:  # noqa: BLE001 - handed to the joining thread
                self.error = e

        self.thread = InheritableThread(target=run, daemon=True)
        self.thread.start()

    def join(self, raise_error: bool = True) -> None:
        self.thread.join()
        if self.error is not None and raise_error:
            raise self.error


def status_and_drops(docs) -> tuple[list[dict], dict[str, int]]:
    """Documents per (source, status), sorted, and the parts kept documents lost, per
    reason: one aggregation (Parquet reads `parts.meta`, neither texts nor image bytes)."""
    from pyspark.sql import functions as F

    reasons = F.transform(F.filter("parts.meta", lambda m: m["dropped"].isNotNull()), lambda m: m["dropped"])
    # One row per dropped part of a kept document, or one row (pos null) for any other document.
    rows = docs.select("source", "status",
                       F.posexplode_outer(F.when(F.col("status") == KEEP, reasons)).alias("pos", "reason"))
    first = F.col("pos").isNull() | (F.col("pos") == 0)
    counts = rows.groupBy("source", "status", "reason").agg(
        F.count("*").alias("n"), F.count(F.when(first, True)).alias("docs")).collect()
    per_source: dict[tuple[str, str], int] = {}
    drops: dict[str, int] = {}
    for r in counts:
        per_source[(r["source"], r["status"])] = per_source.get((r["source"], r["status"]), 0) + r["docs"]
        if r["reason"] is not None:
            drops[r["reason"]] = drops.get(r["reason"], 0) + r["n"]
    by_source = [{"source": s, "status": st, "count": n} for (s, st), n in sorted(per_source.items())]
    return by_source, drops


def committed_partitions(shard_dir: str, opts) -> dict[int, list[dict]]:
    """Shard infos of partitions an earlier attempt finished (their commit records)."""
    from pipelines import storage
    from pipelines.stages.shard import COMMITS

    folder = storage.join(shard_dir, COMMITS)
    done = {}
    for name in storage.listdir_names(folder, opts):
        if not name.endswith(".json"):
            continue
        infos = json.loads(storage.read_bytes(storage.join(folder, name), opts))
        if all(storage.exists(storage.join(shard_dir, i["name"]), opts) for i in infos):
            done[int(name.split(".")[0])] = infos
    return done


def build_manifest(cfg: Config, infos: list[dict], tok: dict) -> dict:
    totals = {k: sum(i[k] for i in infos) for k in ("samples", "tokens", "images", "tiles", "bytes")}
    totals["shards"] = len(infos)
    return {
        "format": "earlyfuse-webdataset/1",
        "name": cfg.shards.name,
        "shards": infos,
        "totals": totals,
        "tokenizer": tok,
        "vision": {"tile_size": cfg.images.tile_size, "max_tiles": cfg.images.max_tiles,
                   "mode": cfg.images.mode, "layout": cfg.images.layout,
                   "tile_format": cfg.images.tile_format, "patch_size": 14,
                   "patch_tokens_per_tile": 144, "max_images_per_doc": cfg.images.max_per_doc,
                   "video": {"fps": cfg.video.fps, "max_frames": cfg.video.max_frames,
                             "mode": cfg.video.mode, "frame_max_tiles": cfg.video.frame_max_tiles}},
        "config": cfg.to_dict(),
        "code_version": code_version(),
    }


def dedup_summary(stages: list, clusters_path: str | Path, shuffle: dict | None) -> dict:
    """Per dedup stage: its own counts and its clusters (sizes, removed); the clusters
    themselves go to `report/dedup_clusters/` (kind, id, root, survivor) for inspection."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    from pipelines.clusters import summarize

    # Shuffle of the whole dedup phase (all its stages), as Spark's UI would show it.
    report, frames, tables = {"shuffle": shuffle}, [], []
    for stage in stages:
        kind = stage.name.removeprefix("dedup_")
        local = getattr(stage, "local_clusters", None)
        report[kind] = dict(stage.stats, **summarize(stage.clusters, local))
        frames.append(stage.clusters.select(F.lit(kind).alias("kind"), "id", "root", "survivor"))
        if local is not None:
            tables.append(local.select(["id", "root", "survivor"]).add_column(
                0, "kind", pa.array([kind] * local.num_rows, pa.string())))
    if len(tables) == len(stages):
        # All decided on the driver: the same rows, written here without a Spark job.
        union = pa.concat_tables(tables, promote_options="permissive").sort_by(
            [("kind", "ascending"), ("root", "ascending"), ("id", "ascending")])
        target = Path(clusters_path)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        pq.write_table(union, target / "part-00000.parquet")
        (target / "_SUCCESS").touch()
        return report
    union = frames[0]
    for f in frames[1:]:
        union = union.unionByName(f)
    union.orderBy("kind", "root", "id").write.parquet(str(clusters_path))
    return report


def report_dict(stages: list[dict], by_source: list[dict], timings: dict, status_counts: dict,
                part_drops: dict, dedup: dict | None = None, resumed: list[str] | None = None) -> dict:
    ingested = stages[0]["in"] if stages else 0
    return {
        "stages": stages,
        "by_source": by_source,
        "part_drops": dict(sorted(part_drops.items())),
        "timings_s": timings,
        # Phases taken from an interrupted run's checkpoints instead of being recomputed.
        "resumed": resumed or [],
        "throughput": {"records": ingested,
                       "records_per_s": round(ingested / timings["total"], 1) if timings.get("total") else None},
        "status_counts": dict(sorted(status_counts.items())),
        "dedup": dedup or {},
    }


def write_json_atomic(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
