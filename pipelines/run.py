"""A run from start to finish: the plan from the config, the phases with their checkpoints
(pipelines/phases.py), the report, and `manifest.json` last (docs/design.md, "Phases")."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.config import Config, ConfigError
from pipelines.context import RunContext
from pipelines.hf_features import FEATURES, features
from pipelines.io.storage import InputNotFound
from pipelines.lease import Lease
from pipelines.manifest import MANIFEST, build_manifest, code_version
from pipelines.output import Output, fingerprint
from pipelines.phases import Background, global_phase, record_phase, shard_phase
from pipelines.plan import global_stages, record_stages, stage_names
from pipelines.progress import Progress
from pipelines.report import (
    curation_block,
    rejected_rows,
    report_dict,
    signal_totals,
    stage_counts,
    status_and_drops,
)
from pipelines.schema import KEEP
from pipelines.spark import EnvironmentError_, check_java, get_session


@dataclass
class RunResult:
    output: str
    manifest: dict
    stages: list[dict]
    timings: dict[str, float] = field(default_factory=dict)
    part_drops: dict[str, int] = field(default_factory=dict)
    resumed: list[str] = field(default_factory=list)
    skipped_files: dict[str, dict[str, int]] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    curation: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # leases taken over from runs that were gone


def _is_local(spark) -> bool:
    """Local mode: the executor is the driver, so executor memory is as safe as Parquet."""
    return spark.sparkContext.master.startswith("local")


def write_json_atomic(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def curated_signals(cfg: Config) -> list[str]:
    names = ["line_dedup.lines_removed", "line_dedup.chars_removed"] if cfg.line_dedup.enabled else []
    names += [f"classifier.{c.name}" for c in cfg.classifiers]
    if cfg.decontamination.sets:
        names += ["decontamination.cuts", "decontamination.chars_removed"]
        names += [f"decontamination.{k}.{t.name}" for t in cfg.decontamination.sets for k in ("task", "chars")]
    return names


def run_pipeline(cfg: Config, spark=None) -> RunResult:
    if spark is None:
        check_java()
    out = Output(cfg)
    stages = record_stages(cfg)
    skipped_files: dict = {}
    # Inputs are listed before the output is touched: a typo in a path leaves the last
    # finished output as it was.
    plan = stages[0].plan(out.opts, skipped_files)
    # One run per output: the leases are taken before anything is touched, and held to the end.
    with contextlib.ExitStack() as held:
        leases = [held.enter_context(Lease(uri, out.opts, cfg.run.lease_stale_s, cfg.run.force))
                  for uri in out.lease_targets()]
        notes = [lease.note for lease in leases if lease.note]
        for note in notes:
            print(f"earlyfuse: {note}", file=sys.stderr, flush=True)
        try:
            result = _phases(cfg, spark, out, stages, plan, skipped_files)
        except (ConfigError, InputNotFound, OSError, EnvironmentError_, KeyboardInterrupt):
            raise  # errors the command line already reports in one line
        except Exception as e:
            raise RunFailed.of(e, out) from e
    result.notes = notes
    return result


class RunFailed(RuntimeError):
    """A run that started and then failed: one line naming the phase and the cause; the
    whole trace is in a log file under the work folder."""

    @classmethod
    def of(cls, e: BaseException, out: Output) -> RunFailed:
        import tempfile
        import traceback

        name = time.strftime("failed-%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid()}.log"
        trace = "".join(traceback.format_exception(e)).encode("utf-8")
        log = out.work_path("logs", name)
        try:
            out.wd.write_bytes(log, trace)
        except Exception:  # noqa: BLE001 - the work folder itself may be what failed
            log = os.path.join(tempfile.gettempdir(), name)
            with open(log, "wb") as f:
                f.write(trace)
        # Py4J's text starts with the Java call that failed, not with what went wrong.
        lines = [x.strip().lstrip(": ") for x in str(e).splitlines()]
        lines = [x for x in lines if x and not x.startswith("An error occurred while calling")]
        cause = f"{type(e).__name__}: {lines[0] if lines else ''}"
        if len(cause) > 300:
            cause = cause[:297] + "..."
        return cls(f"run failed in {getattr(e, 'earlyfuse_phase', 'setup')}: {cause} (full trace: {log})")


def _phases(cfg: Config, spark, out: Output, stages, plan, skipped_files: dict) -> RunResult:
    from pipelines.payloads import clear_partial, spiller
    from pipelines.stages.shard import committed_partitions
    from pipelines.stages.tokenize import tokenizer
    from pipelines.workdir import work_for_workers

    spark = spark or get_session(cfg)
    out.wd.bind(spark)  # a URI work folder's file system, opened and probed before anything is written
    resumed = out.prepare(fingerprint(cfg, code_version()), cfg.run.resume,
                          fingerprint(cfg, code_version(), upstream=True))
    progress = Progress(spark, enabled=cfg.run.progress)
    ctx = RunContext(spark, out.opts, records=progress.records, plan=plan, work=out.work, workdir=out.wd,
                     payloads=spiller(work_for_workers(out.work), cfg.run.payload_min_bytes))
    ctx.report.skipped_files = skipped_files
    if ctx.payloads is not None:  # the run holds the lease and has started no task yet
        clear_partial(ctx.payloads.folder)
    t_start = time.monotonic()
    skipped: list[str] = []

    if out.checkpoint_done("filtered"):
        skipped.append("ingest+filter")
    else:
        with progress.phase("ingest+filter"):
            record_phase(stages, ctx, out.work_path("ingested"), out.work_path("filtered"))
        if cfg.fetch.enabled:  # kept beside the checkpoint: a resumed run reports what was fetched
            busy = ctx.timer("fetch_images").value  # summed over tasks
            out.write_work_json("fetched.json", {
                "images": ctx.count("fetched_images"), "bytes": ctx.count("fetched_bytes"),
                "task_seconds": round(busy, 3),
                "images_per_task_s": round(ctx.count("fetched_images") / busy, 1) if busy else None})
        # What the record phase decided beyond statuses, kept beside the checkpoint too.
        out.write_work_json("curation.json", dict(
            ctx.report.curation, **{name: r.stats for name, r in ctx.report.globals.items()
                                    if r.family == "curation"}))
    saved_curation = out.read_work_json("curation.json") or {}
    fetched_saved = out.read_work_json("fetched.json") if cfg.fetch.enabled else None
    if fetched_saved is not None:
        ctx.report.notes["fetched"] = fetched_saved

    docs = spark.read.parquet(out.work_path("filtered"))
    dedup, dedup_report = global_stages(cfg), {}
    if dedup:
        saved = out.read_work_json("dedup.json")
        if out.checkpoint_done("docs") and saved is not None:
            skipped.append("dedup")
            dedup_report = saved
        else:
            with progress.phase("dedup"):
                # On a cluster, intermediate data goes to Parquet under the work folder: an
                # executor lost mid-job must not take checkpointed blocks with it. In local
                # mode the executor is the driver, so executor memory is as safe and faster.
                ctx.checkpoints = None if _is_local(spark) else out.work_path("dedup_tmp")
                try:
                    dedup_report = global_phase(dedup, docs, ctx, out.work_path("docs"),
                                                out.work_path("dedup_clusters"))
                    out.write_work_json("dedup.json", dedup_report)
                finally:
                    ctx.checkpoints = None
                out.wd.remove(out.work_path("dedup_tmp"))
        docs = spark.read.parquet(out.work_path("docs"))

    with progress.phase("report"):
        by_source, part_drops = status_and_drops(docs)
        status_counts: dict[str, int] = {}
        for r in by_source:
            status_counts[r["status"]] = status_counts.get(r["status"], 0) + r["count"]
        counts = stage_counts(status_counts, stage_names(cfg))
        curation = curation_block(cfg, saved_curation, signal_totals(docs, curated_signals(cfg)), status_counts)
        if dedup:
            out.publish_from(out.work_path("dedup_clusters"), "report/dedup_clusters")
        # Written while tokenize+shard runs: both only read `docs`, and each leaves cores idle
        # while the other's queries plan and compile and its single-task stages run.
        rejected = rejected_rows(docs)
        writing_rejected = Background(lambda: rejected.write.parquet(out.spark_path("rejected")))

    try:
        n_kept = status_counts.get(KEEP, 0)
        done = committed_partitions(out.path("shards"), out.opts) if resumed else {}
        with progress.phase("tokenize+shard"):
            infos, partitions, dropped = shard_phase(cfg, docs, ctx, out.path("shards"), n_kept, done,
                                                     out.work_path("tokens"))
        if done:
            skipped.append(f"shards of {len(done)}/{partitions} partitions")
    except BaseException:
        writing_rejected.join(raise_error=False)  # never leave it writing behind a failure
        raise
    writing_rejected.join()
    out.publish("rejected")

    total_s = time.monotonic() - t_start
    mixture = ctx.report.notes.get("mixture")
    manifest = build_manifest(cfg, infos, tokenizer(cfg.tokenizer.spec).describe(), mixture, dropped)
    expected = mixture["written_samples"] if mixture else n_kept
    # Every document reaching the shards is written, or (packed) counted with its reason.
    written = manifest["totals"]["documents"] + sum(dropped.values())
    if written != expected:
        raise AssertionError(f"shards hold {manifest['totals']['documents']} documents and {sum(dropped.values())} "
                             f"were dropped, {expected} were planned ({n_kept} documents kept)")
    if mixture and not dropped and manifest["totals"]["tokens"] != mixture["written_tokens"]:
        raise AssertionError(f"shards hold {manifest['totals']['tokens']} tokens, the mixture planned "
                             f"{mixture['written_tokens']}")
    ctx.collect_timers()
    timings = dict(progress.timings, total=round(total_s, 3))
    seconds = ctx.report.seconds
    fetched = ctx.report.notes.get("fetched")
    out.write_json("report/stages.json", report_dict(
        counts, by_source, timings, status_counts, part_drops, dedup_report, resumed=skipped,
        stage_seconds=seconds, skipped_files=skipped_files, fetched=fetched,
        curation=curation))
    schema = features(cfg.shards.layout, cfg.images.layout, cfg.images.tile_format, bool(mixture))
    if schema:  # for Hugging Face `datasets` (pipelines/hf_features.py)
        out.write_json(FEATURES, schema)
    # Written last: a folder without it is not a finished dataset.
    out.write_json(MANIFEST, manifest)
    return RunResult(out.uri, manifest, counts, timings, dict(sorted(part_drops.items())), skipped,
                     skipped_files, dict(sorted(seconds.items())), curation)
